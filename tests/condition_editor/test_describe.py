"""``describe_condition`` and the registry's part in what the editor offers."""

import pytest
from flask_babel import force_locale

from surveyapp.condition_editor.services import (
    OPERATORS,
    describe_condition,
    operators_for,
)
from surveyapp.questionnaires.conditions import ALL_OPS
from surveyapp.questionnaires.question_types import REGISTRY
from surveyapp.questionnaires.services import get_by_slug


def plain(text: str) -> str:
    return text.replace("\u2068", "").replace("\u2069", "")


@pytest.fixture
def version(app, draft):
    with app.test_request_context():
        yield get_by_slug(draft).latest_version


def describe(condition, version, lang="en"):
    with force_locale("en"):
        return plain(describe_condition(condition, version, lang))


def test_one_rule_reads_as_a_sentence_in_the_content_language(version):
    condition = {"all": [{"question": "member", "op": "one_of", "values": ["short", "mid"]}]}
    assert describe(condition, version) == (
        "Shown when “How long were you a member?” is one of “less than a year”, "
        "“1\u20133 years”.")
    assert describe(condition, version, "de") == (
        "Shown when “Wie lange waren Sie Mitglied?” is one of “weniger als ein Jahr”, "
        "“1\u20133 Jahre”.")
    # A language the questionnaire lacks falls back to its base language.
    assert "Wie lange waren Sie Mitglied?" in describe(condition, version, "fa")


def test_every_operator_is_described(version):
    rules = [
        {"question": "member", "op": "not", "value": "long"},
        {"question": "member", "op": "equals", "value": "_other"},
        {"question": "age", "op": "equals", "value": 30},
        {"question": "age", "op": "lt", "value": 18},
        {"question": "age", "op": "le", "value": 2.5},
        {"question": "age", "op": "gt", "value": 65},
        {"question": "age", "op": "ge", "value": 1000},
        {"question": "note", "op": "answered"},
        {"question": "why", "op": "not_answered"},
        {"question": "again", "op": "one_of", "values": ["yes"]},
    ]
    text = describe({"any": rules}, version)
    assert text.startswith("Shown when any of these is true: ")
    for part in ("“How long were you a member?” is not “longer”",
                 "“How long were you a member?” is “Other”",
                 "“How old are you?” is exactly 30", "is less than 18", "is at most 2.5",
                 "is more than 65", "is at least 1,000", "“Remark?” is answered",
                 "“Why?” is not answered", "“Again?” is one of “Yes”"):
        assert part in text, part
    assert describe({"all": rules[:2]}, version).startswith("Shown when all of these are true:")


def test_numbers_and_words_follow_the_readers_locale(version):
    with force_locale("de"):
        text = plain(describe_condition(
            {"all": [{"question": "age", "op": "le", "value": 2.5}]}, version, "de"))
    assert "2,5" in text


def test_no_condition_and_unknown_questions(version):
    assert describe(None, version) == "Always shown."
    assert describe({"all": []}, version) == "Always shown."
    # A rule on a question that is gone still reads, naming its code.
    assert "“gone” is answered" in describe(
        {"all": [{"question": "gone", "op": "answered"}]}, version)


def test_the_registry_decides_the_operators():
    for question_type in REGISTRY.values():
        assert question_type.condition_operand in ("codes", "number", "none")
        assert question_type.condition_ops <= ALL_OPS
        # Every operator the format supports for a type is either offered or has a reason.
        for op in question_type.condition_ops:
            assert op in OPERATORS
    assert REGISTRY["rating"].condition_operand == "number"
    assert REGISTRY["dropdown"].condition_operand == "codes"
    assert REGISTRY["date"].condition_operand == "none"


def test_matrix_questions_offer_no_operators(version):
    grid = next(q for q in version.questions if q.code == "grid")
    assert operators_for(grid) == []
