"""Every question type validates, stores and re-displays its answers."""

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from surveyapp.questionnaires.models import Option, Question
from surveyapp.questionnaires.question_types import (
    OTHER,
    PREFER_NOT,
    REGISTRY,
    AnswerInvalid,
    AnswerValue,
    get_type,
)
from surveyapp.responses.forms import make_page_form


def question(type_, *, code="q", options=(), rows=(), other=False, pna=False, required=False,
             **settings):
    """An unsaved question of ``type_`` with the given options and settings."""
    q = Question(code=code, type=type_, settings=settings, has_other=other, has_prefer_not=pna,
                 is_required=required, text={"en": "Q"})
    position = 0
    for is_row, codes in ((False, options), (True, rows)):
        for c in codes:
            position += 1
            q.choices.append(Option(code=c, label={"en": c}, position=position, is_row=is_row))
    return q


def parse(app, q, data):
    """Post ``data`` through the page form built for ``q`` and parse it."""
    with app.test_request_context(method="POST", data=MultiDict(data),
                                  headers={"Accept-Language": "en"}):
        form = make_page_form([q])(meta={"csrf": False})
        return get_type(q.type).parse(q, form)


def round_trip(app, q, values):
    """Stored values -> form data -> parsed values again."""
    data = get_type(q.type).form_data(q, values)
    items = []
    for name, value in data.items():
        if isinstance(value, list):
            items.extend((name, v) for v in value)
        elif value is True:
            items.append((name, "y"))
        elif value is not None:
            items.append((name, value))
    return parse(app, q, items)


def test_registry_has_every_type_of_the_issue():
    assert set(REGISTRY) == {
        "single_choice", "multiple_choice", "dropdown", "matrix", "rating", "yes_no",
        "short_text", "long_text", "integer", "decimal", "date", "email", "unit",
    }


@pytest.mark.parametrize("type_", ["single_choice", "dropdown"])
def test_single_code_types(app, type_):
    q = question(type_, options=["a", "b"], other=True, pna=True)
    assert parse(app, q, [("q", "b")]) == [AnswerValue(option_code="b")]
    assert parse(app, q, []) == []
    assert parse(app, q, [("q", PREFER_NOT)]) == [AnswerValue(option_code=PREFER_NOT)]
    assert parse(app, q, [("q", OTHER), ("q__other", "Tischtennis")]) == [
        AnswerValue(option_code=OTHER, value_text="Tischtennis")
    ]
    with pytest.raises(AnswerInvalid):
        parse(app, q, [("q", OTHER)])  # other without saying what
    with pytest.raises(AnswerInvalid):
        parse(app, q, [("q", "zz")])  # a code this question does not have
    with pytest.raises(AnswerInvalid):
        parse(app, q, [("q", "x" * 10)])
    assert round_trip(app, q, [AnswerValue(option_code=OTHER, value_text="x")]) == [
        AnswerValue(option_code=OTHER, value_text="x")
    ]


def test_reserved_codes_are_refused_when_not_enabled(app):
    q = question("single_choice", options=["a"])
    for code in (OTHER, PREFER_NOT):
        with pytest.raises(AnswerInvalid):
            parse(app, q, [("q", code), ("q__other", "x")])


def test_multiple_choice_bounds_and_exclusive_prefer_not(app):
    q = question("multiple_choice", options=["a", "b", "c", "d"], pna=True, other=True,
                 min_selections=2, max_selections=3)
    assert [v.option_code for v in parse(app, q, [("q", "a"), ("q", "c")])] == ["a", "c"]
    with pytest.raises(AnswerInvalid, match="at least 2"):
        parse(app, q, [("q", "a")])
    with pytest.raises(AnswerInvalid, match="at most 3"):
        parse(app, q, [("q", c) for c in "abcd"])
    with pytest.raises(AnswerInvalid):
        parse(app, q, [("q", "a"), ("q", PREFER_NOT)])
    with pytest.raises(AnswerInvalid):
        parse(app, q, [("q", "a"), ("q", "a")])  # the same box twice is forged
    with pytest.raises(AnswerInvalid):
        parse(app, q, [("q", "a"), ("q", "nope")])
    assert parse(app, q, [("q", PREFER_NOT)]) == [AnswerValue(option_code=PREFER_NOT)]
    values = parse(app, q, [("q", "b"), ("q", OTHER), ("q__other", "Chor")])
    assert round_trip(app, q, values) == values


def test_matrix_rows_share_a_scale(app):
    q = question("matrix", options=["1", "2", "3"], rows=["x", "y"], pna=True, required=True)
    values = parse(app, q, [("q__x", "1"), ("q__y", PREFER_NOT)])
    assert values == [AnswerValue(row_code="x", option_code="1"),
                      AnswerValue(row_code="y", option_code=PREFER_NOT)]
    assert round_trip(app, q, values) == values
    with pytest.raises(AnswerInvalid, match="every row"):
        parse(app, q, [("q__x", "1")])
    with pytest.raises(AnswerInvalid):
        parse(app, q, [("q__x", "9"), ("q__y", "1")])
    assert parse(app, q, [("q__zz", "1")]) == []  # an unknown row is not an input at all


def test_rating_stores_the_number(app):
    q = question("rating", pna=True)
    assert parse(app, q, [("q", "0")]) == [AnswerValue(option_code="0", value_number=0.0)]
    assert parse(app, q, [("q", "10")]) == [AnswerValue(option_code="10", value_number=10.0)]
    for bad in ("11", "-1", "5.5", "abc"):
        with pytest.raises(AnswerInvalid):
            parse(app, q, [("q", bad)])
    assert get_type("rating").facts(parse(app, q, [("q", "7")])).number == 7


def test_yes_no(app):
    q = question("yes_no")
    assert parse(app, q, [("q", "yes")]) == [AnswerValue(option_code="yes")]
    with pytest.raises(AnswerInvalid):
        parse(app, q, [("q", "maybe")])
    with pytest.raises(AnswerInvalid):
        parse(app, q, [("q", PREFER_NOT)])


@pytest.mark.parametrize("type_,limit", [("short_text", 200), ("long_text", 2000)])
def test_text_length_limits(app, type_, limit):
    q = question(type_)
    assert parse(app, q, [("q", "  Hallo  ")]) == [AnswerValue(value_text="Hallo")]
    assert parse(app, q, [("q", "   ")]) == []
    assert parse(app, q, [("q", "x" * limit)])
    with pytest.raises(AnswerInvalid, match=str(limit)):
        parse(app, q, [("q", "x" * (limit + 1))])
    short = question(type_, max_length=5)
    with pytest.raises(AnswerInvalid):
        parse(app, short, [("q", "sechs!")])


def test_text_keeps_other_scripts(app):
    q = question("long_text")
    text = "أريد أن أتعلم الألمانية\nና ትግርኛ"
    assert parse(app, q, [("q", text)]) == [AnswerValue(value_text=text)]


def test_prefer_not_on_typed_values(app):
    q = question("short_text", pna=True)
    assert parse(app, q, [("q__pna", "y")]) == [AnswerValue(option_code=PREFER_NOT)]
    with pytest.raises(AnswerInvalid):
        parse(app, q, [("q", "x"), ("q__pna", "y")])
    assert round_trip(app, q, [AnswerValue(option_code=PREFER_NOT)]) == [
        AnswerValue(option_code=PREFER_NOT)
    ]
    # Without prefer_not enabled, a forged box is ignored rather than stored.
    assert parse(app, question("short_text"), [("q__pna", "y")]) == []


def test_integer_bounds_and_formats(app):
    q = question("integer", min=1, max=120)
    assert parse(app, q, [("q", "42")]) == [AnswerValue(value_number=42)]
    assert parse(app, q, [("q", "٤٢")]) == [AnswerValue(value_number=42)]  # Arabic-Indic digits
    assert parse(app, q, [("q", "۴۲")]) == [AnswerValue(value_number=42)]  # Persian digits
    for bad in ("0", "121", "4.5", "12abc", "1e3", "--1"):
        with pytest.raises(AnswerInvalid):
            parse(app, q, [("q", bad)])
    assert round_trip(app, q, [AnswerValue(value_number=7.0)]) == [AnswerValue(value_number=7)]


def test_decimal_accepts_comma_and_point(app):
    q = question("decimal", min=0, max=10)
    assert parse(app, q, [("q", "2,5")]) == [AnswerValue(value_number=2.5)]
    assert parse(app, q, [("q", "2.5")]) == [AnswerValue(value_number=2.5)]
    with pytest.raises(AnswerInvalid):
        parse(app, q, [("q", "10.01")])
    with pytest.raises(AnswerInvalid):
        parse(app, q, [("q", "1,2,3")])


def test_date_bounds_and_formats(app):
    q = question("date", min="2020-01-01", max="2025-12-31")
    assert parse(app, q, [("q", "2024-02-29")]) == [AnswerValue(value_date=date(2024, 2, 29))]
    assert parse(app, q, [("q", "29.02.2024")]) == [AnswerValue(value_date=date(2024, 2, 29))]
    for bad in ("2019-12-31", "2026-01-01", "2023-02-29", "gestern", "31.13.2024"):
        with pytest.raises(AnswerInvalid):
            parse(app, q, [("q", bad)])
    assert round_trip(app, q, [AnswerValue(value_date=date(2021, 5, 1))]) == [
        AnswerValue(value_date=date(2021, 5, 1))
    ]


def test_email(app):
    q = question("email")
    address = "name@example.org"
    assert parse(app, q, [("q", address)]) == [AnswerValue(value_text=address)]
    for bad in ("name", "name@", "@example.org", "a b@example.org", "name@example", "x@y.z"):
        with pytest.raises(AnswerInvalid):
            parse(app, q, [("q", bad)])


@pytest.mark.parametrize(
    "type_,kwargs,problem",
    [
        ("single_choice", {}, "needs at least one option"),
        ("matrix", {"options": ["1"]}, "needs at least one row"),
        ("short_text", {"options": ["a"]}, "takes no options"),
        ("integer", {"min": 5, "max": 1}, "min is larger than max"),
        ("multiple_choice", {"options": ["a"], "min_selections": 0}, "at least 1"),
        ("date", {"min": "01.01.2020"}, "ISO date"),
        ("yes_no", {"other": True}, "cannot have 'other'"),
        ("email", {"colour": "red"}, "unknown setting"),
    ],
)
def test_definition_errors(type_, kwargs, problem):
    q = question(type_, **kwargs)
    assert any(problem in e for e in get_type(type_).definition_errors(q))
