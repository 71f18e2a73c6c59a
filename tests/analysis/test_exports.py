"""Exports (CSV, XLSX, SPSS, JSON) checked against the raw answer rows, on both engines.

The responses are given through the real respondent pages; the expected table is built here
from the ``Answer`` rows by the rules of the column layout, not through the export's code.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from datetime import UTC

import openpyxl
import pyreadstat
import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from surveyapp.accounts.models import Role, Unit
from surveyapp.accounts.services import create_user
from surveyapp.analysis.exports import (
    EXPORT_FORMATS,
    ExportRefused,
    export_catalogue,
    iter_csv,
    iter_json,
    neutralise,
    prepare_export,
    write_csv,
    write_json,
    write_sav,
    write_xlsx,
)
from surveyapp.analysis.filters import ResultFilter
from surveyapp.audit.models import AuditEntry
from surveyapp.db import db
from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.services import get_by_slug, share
from surveyapp.responses.models import Answer, Response, ResponseStatus
from surveyapp.transfer import import_questionnaire
from tests.conftest import csrf_token, hidden_values
from tests.respondent import Respondent

SLUG = "export-check"
FORMULAS = ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)"]


def texts(en: str, de: str) -> dict[str, str]:
    return {"en": en, "de": de}


def option(code: str, en: str, de: str) -> dict:
    return {"code": code, "label": texts(en, de)}


DEFINITION = {
    "format": "surveyapp/1", "slug": SLUG, "base_language": "en", "languages": ["en", "de"],
    "anonymous": False, "min_group_size": 3,
    "title": texts("Export check", "Exportprüfung"),
    "consent": {"controller": "Test e.V.", "text": texts("We keep your answers.",
                                                         "Wir speichern Ihre Antworten.")},
    "pages": [{"code": "main", "title": texts("Questions", "Fragen"), "questions": [
        {"code": "colour", "type": "single_choice", "text": texts("Favourite colour?", "Farbe?"),
         "other": True, "prefer_not": True,
         "options": [option("red", "Red", "Rot"), option("green", "Green", "Grün"),
                     option("blue", "Blue", "Blau")]},
        {"code": "size", "type": "dropdown", "text": texts("Size?", "Größe?"), "other": True,
         "options": [option("s", "-S (small)", "-S (klein)"), option("m", "M", "M"),
                     option("l", "L", "L")]},
        {"code": "agree", "type": "yes_no", "text": texts("Agree?", "Einverstanden?"),
         "prefer_not": True},
        {"code": "score", "type": "rating", "text": texts("Score?", "Wertung?"),
         "prefer_not": True},
        {"code": "hobbies", "type": "multiple_choice", "text": texts("Hobbies?", "Hobbys?"),
         "other": True, "prefer_not": True,
         "options": [option("read", "Reading", "Lesen"), option("sport", "Sport", "Sport"),
                     option("music", "Music", "Musik")]},
        {"code": "grid", "type": "matrix", "text": texts("How much?", "Wie sehr?"),
         "prefer_not": True,
         "options": [option("low", "Low", "Wenig"), option("mid", "Medium", "Mittel"),
                     option("high", "High", "Viel")],
         "rows": [option("taste", "Taste", "Geschmack"), option("price", "Price", "Preis")]},
        {"code": "age", "type": "integer", "text": texts("Age?", "Alter?"), "prefer_not": True,
         "settings": {"min": 0, "max": 120}},
        {"code": "height", "type": "decimal", "text": texts("Height?", "Höhe?"),
         "settings": {"min": -100, "max": 300}},
        {"code": "born", "type": "date", "text": texts("Born?", "Geboren?"), "prefer_not": True},
        {"code": "nick", "type": "short_text", "text": texts("Nickname?", "Spitzname?"),
         "prefer_not": True},
        {"code": "comment", "type": "long_text", "text": texts("Comment?", "Kommentar?")},
        {"code": "mail", "type": "email", "text": texts("E-mail?", "E-Mail?")},
    ]}],
}

#: What each respondent types, in the page's input names; the unit is set afterwards.
ANSWERS = [
    ("en", "koeln", {"colour": "red", "size": "s", "agree": "yes", "score": "7",
                     "hobbies": ["read", "sport"], "grid__taste": "low", "grid__price": "high",
                     "age": "30", "height": "-2.5", "born": "1990-05-17",
                     "nick": FORMULAS[0], "comment": FORMULAS[1], "mail": "a@example.org"}),
    ("en", "koeln", {"colour": "_other", "colour__other": FORMULAS[3], "size": "_other",
                     "size__other": FORMULAS[2], "agree": "no", "score": "_pna",
                     "hobbies": ["music", "_other"], "hobbies__other": "planted below",
                     "grid__taste": "_pna", "age__pna": "y", "height": "180",
                     "born__pna": "y", "nick": "planted below", "comment": "plain"}),
    ("de", "koeln", {"colour": "_pna", "size": "m", "agree": "_pna", "score": "0",
                     "hobbies": ["_pna"], "grid__taste": "mid", "grid__price": "mid",
                     "age": "0", "born": "2000-01-01", "nick__pna": "y",
                     "comment": 'Grüße, "zitiert"\nzweite Zeile', "mail": "b@example.org"}),
    ("de", "dortmund", {"colour": "blue", "size": "l", "agree": "yes", "score": "10",
                        "age": "120", "height": "0,5"}),
    ("en", "leipzig", {"colour": "green"}),
    ("en", "leipzig", {"colour": "red", "hobbies": ["sport"], "score": "5", "age": "45"}),
    ("en", "leipzig", {"hobbies": ["read", "music"], "grid__price": "low", "height": "-0.25"}),
    ("en", "leipzig", {"size": "m", "agree": "no"}),
]
#: Unit codes as the export must show them with k=3: dortmund (1 response) is hidden, and
#: then koeln (3, the smallest other unit) too, so that the blanks do not give dortmund away.
SHOWN_UNITS = {"koeln": "", "dortmund": "", "leipzig": "leipzig"}

WITHDRAWN_MARKER = "Withdrawn-Marker-4711"
_addresses = itertools.count(1)
PREVIEW_MARKER = "Preview-Marker-4712"
DRAFT_MARKER = "Draft-Marker-4713"


def submit(app, lang: str, answers: dict) -> tuple[int, str]:
    """Answer through the respondent pages; return the response id and the receipt code."""
    client = app.test_client()
    respondent = Respondent(client, SLUG, lang)
    assert respondent.start().status_code == 302
    posted = respondent.post(answers, follow=False)
    assert posted.status_code == 302, posted.get_data(as_text=True)
    html = client.get(posted.headers["Location"]).get_data(as_text=True)
    code = re.search(r"<code>([A-Z0-9-]+)</code>", html).group(1)
    response_id = db.session.scalar(sa.select(sa.func.max(Response.id)))
    return response_id, code


@pytest.fixture
def survey(app):
    """The questionnaire with eight complete responses, one withdrawn, a preview and a draft."""
    questionnaire = import_questionnaire(DEFINITION, open_now=True)
    db.session.commit()
    units = dict(db.session.execute(sa.select(Unit.code, Unit.id)).all())
    ids = []
    for number, (lang, unit, answers) in enumerate(ANSWERS):
        if number == 3:  # others in between, so that they sit inside a chunk's id range
            others_answer(app)
        response_id, _code = submit(app, lang, answers)
        ids.append(response_id)
        db.session.execute(sa.update(Response).where(Response.id == response_id)
                           .values(unit_id=units[unit]))
    # The pages strip leading whitespace; other channels (imports, phone) might not.
    question_ids = {q.code: q.id for q in questionnaire.published_version.questions}
    db.session.execute(sa.update(Answer).where(
        Answer.response_id == ids[1], Answer.question_id == question_ids["hobbies"],
        Answer.option_code == "_other").values(value_text="\tx"))
    db.session.execute(sa.update(Answer).where(
        Answer.response_id == ids[1], Answer.question_id == question_ids["nick"])
        .values(value_text="\rx"))
    db.session.commit()

    statuses = {(r.status, r.is_preview) for r in db.session.scalars(
        sa.select(Response).where(Response.questionnaire_id == questionnaire.id))}
    assert statuses == {(ResponseStatus.COMPLETE, False), (ResponseStatus.WITHDRAWN, False),
                        (ResponseStatus.DRAFT, False), (ResponseStatus.COMPLETE, True)}
    return get_by_slug(SLUG)


def others_answer(app) -> None:
    """A response that is then withdrawn, a draft, and a staff preview, all with answers."""
    _withdrawn, code = submit(app, "en", {"colour": "blue", "nick": WITHDRAWN_MARKER})
    client = app.test_client()
    # Withdrawals are rate-limited per address, and the app lives for the whole test run.
    client.environ_base["REMOTE_ADDR"] = f"10.0.{next(_addresses) % 250}.{next(_addresses) % 250}"
    page = client.get(f"/s/{SLUG}/withdraw")
    withdrawn = client.post(f"/s/{SLUG}/withdraw",
                            data={**hidden_values(page.get_data(as_text=True)), "code": code})
    assert withdrawn.status_code == 200
    draft = Respondent(app.test_client(), SLUG, "en")
    draft.start()
    draft.post({"nick": DRAFT_MARKER}, nav="stay")
    preview_staff_answers(app, {"colour": "red", "nick": PREVIEW_MARKER})


def preview_staff_answers(app, answers: dict) -> None:
    """A staff member tries the questionnaire out in preview mode, to the end."""
    client = log_in(app, Role.BUILDER)
    page = client.get(f"/s/{SLUG}?preview=1&lang=en")
    started = client.post(f"/s/{SLUG}?preview=1&lang=en",
                          data={**hidden_values(page.get_data(as_text=True)), "consent": "y"})
    respondent = Respondent(client, SLUG, "en")
    respondent.url = started.headers["Location"]
    assert respondent.post(answers, follow=False).status_code == 302


def log_in(app, role: Role):
    """A client logged in with a new account of ``role``."""
    client = app.test_client()
    email = f"{role.value}-export@example.org"
    user, _ = create_user(email, role, "a long enough password")
    if role is Role.BUILDER:  # builders work on the questionnaires shared with them
        share(get_by_slug(SLUG), user)
    db.session.commit()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post("/staff/login", data={"csrf_token": token, "email": email,
                                                 "password": "a long enough password"})
    assert response.status_code == 302
    return client


# --- the independent expectation ---------------------------------------------------------

def expected_table(questionnaire, free_text: bool = True, unit_codes: dict | None = None
                   ) -> tuple[list[str], list[dict[str, object]]]:
    """Header and rows (column -> Python value) built from the ORM's Answer rows."""
    version = questionnaire.published_version
    questions = sorted(version.questions, key=lambda q: q.position)
    header = ["response_id", "submitted_at", "version", "language", "channel", "unit"]
    for q in questions:
        if q.type in ("single_choice", "dropdown", "yes_no", "rating"):
            header.append(q.code)
            if q.has_other and free_text:
                header.append(f"{q.code}_other")
        elif q.type == "multiple_choice":
            header += [f"{q.code}_{o.code}" for o in q.options]
            if q.has_other:
                header.append(f"{q.code}_other_chosen")
                if free_text:
                    header.append(f"{q.code}_other")
        elif q.type == "matrix":
            header += [f"{q.code}_{r.code}" for r in q.rows]
        elif q.type in ("integer", "decimal", "date") or free_text:
            header.append(q.code)
    units = dict(db.session.execute(sa.select(Unit.id, Unit.code)).all())
    responses = db.session.scalars(
        sa.select(Response).where(Response.questionnaire_id == questionnaire.id,
                                  Response.status == ResponseStatus.COMPLETE,
                                  Response.is_preview.is_(False)).order_by(Response.id))
    rows = []
    for response in responses:
        unit = units.get(response.unit_id)
        row: dict[str, object] = dict.fromkeys(header)
        row.update(response_id=response.id, version=1, language=response.language,
                   channel="web",
                   submitted_at=response.submitted_at.astimezone(UTC).strftime(
                       "%Y-%m-%dT%H:%M:%SZ"),
                   unit=(unit_codes or SHOWN_UNITS).get(unit, unit) or None)
        for answer in response.answers:
            q = db.session.get(Question, answer.question_id)
            code, value = q.code, answer.option_code
            if q.type == "multiple_choice":
                dummies = [f"{code}_{o.code}" for o in q.options] + (
                    [f"{code}_other_chosen"] if q.has_other else [])
                if value == "_pna":
                    row.update(dict.fromkeys(dummies, "_pna"))
                    continue
                for dummy in dummies:
                    row[dummy] = row[dummy] or 0
                row[f"{code}_other_chosen" if value == "_other" else f"{code}_{value}"] = 1
                if value == "_other" and free_text:
                    row[f"{code}_other"] = answer.value_text
            elif q.type == "matrix":
                row[f"{code}_{answer.row_code}"] = value
            elif q.type == "rating":
                row[code] = int(value) if value.isdigit() else value
            elif value is not None and q.type not in ("single_choice", "dropdown", "yes_no"):
                if code in row:
                    row[code] = value  # "prefer not to answer" of a typed question
            elif value is not None:
                row[code] = value
                if value == "_other" and free_text:
                    row[f"{code}_other"] = answer.value_text
            elif q.type == "integer":
                row[code] = int(answer.value_number)
            elif q.type == "decimal":
                row[code] = answer.value_number
            elif q.type == "date":
                row[code] = answer.value_date.isoformat()
            elif code in row:
                row[code] = answer.value_text
        rows.append(row)
    return header, rows


def as_csv_cell(value: object) -> str:
    """How a value must look in the CSV: text cells neutralised, numbers as numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return str(value)


def read_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark for Excel"
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))
    return rows[0], rows[1:]


def csv_bytes(questionnaire, flt=None, lang: str = "en", **options) -> bytes:
    out = io.BytesIO()
    write_csv(export_catalogue(questionnaire, lang), flt or ResultFilter(), out, **options)
    return out.getvalue()


# --- tests --------------------------------------------------------------------------------

def test_csv_matches_the_raw_answers(app, survey):
    header, rows = read_csv(csv_bytes(survey))
    expected_header, expected = expected_table(survey)
    assert header == expected_header
    assert len(rows) == len(ANSWERS) == len(expected)
    for row, want in zip(rows, expected, strict=True):
        assert row == [as_csv_cell(want[name]) for name in header], want["response_id"]
    # A few cells spelled out, so that the rule above cannot be wrong in the same way.
    first, second, third = (dict(zip(header, row, strict=True)) for row in rows[:3])
    assert first["colour"] == "red" and first["hobbies_read"] == "1"
    assert first["hobbies_music"] == "0" and first["hobbies_other_chosen"] == "0"
    assert first["grid_taste"] == "low" and first["grid_price"] == "high"
    assert first["age"] == "30" and first["height"] == "-2.5" and first["born"] == "1990-05-17"
    assert first["score"] == "7" and first["mail"] == "a@example.org"
    assert second["hobbies_other_chosen"] == "1" and second["colour"] == "_other"
    assert second["score"] == "_pna" and second["age"] == "_pna" and second["born"] == "_pna"
    assert second["grid_taste"] == "_pna" and second["grid_price"] == ""
    assert {third[f"hobbies_{c}"] for c in ("read", "sport", "music", "other_chosen")} == {
        "_pna"}
    assert third["comment"] == 'Grüße, "zitiert"\nzweite Zeile'
    fifth = dict(zip(header, rows[4], strict=True))
    assert fifth["hobbies_read"] == "" and fifth["grid_taste"] == "" and fifth["age"] == ""
    assert [dict(zip(header, r, strict=True))["unit"] for r in rows] == [
        SHOWN_UNITS[unit] for _lang, unit, _answers in ANSWERS]


def test_formulas_are_neutralised_in_csv_and_xlsx(app, survey, tmp_path):
    header, rows = read_csv(csv_bytes(survey))
    first, second = (dict(zip(header, row, strict=True)) for row in rows[:2])
    assert first["nick"] == "'" + FORMULAS[0] and first["comment"] == "'+1"
    assert second["size_other"] == "'-2" and second["colour_other"] == "'@SUM(A1)"
    assert second["hobbies_other"] == "'\tx" and second["nick"] == "'\rx"
    assert first["height"] == "-2.5"  # a negative number is not a formula

    path = tmp_path / "export.xlsx"
    write_xlsx(export_catalogue(survey, "en"), ResultFilter(), path)
    sheet = openpyxl.load_workbook(path)["responses"]
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    first, second = (dict(zip(cells[0], row, strict=True)) for row in cells[1:3])
    assert first["nick"] == "'" + FORMULAS[0] and first["comment"] == "'+1"
    assert second["size_other"] == "'-2" and second["colour_other"] == "'@SUM(A1)"
    # XML reads a carriage return back as a line feed; the quote is what matters.
    assert second["hobbies_other"] == "'\tx" and second["nick"] in ("'\rx", "'\nx")
    assert first["height"] == -2.5 and first["age"] == 30 and first["hobbies_read"] == 1
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"formula in {cell.coordinate}: {cell.value}"
    assert neutralise("  =1+1") == "'  =1+1" and neutralise("a=b") == "a=b"


def test_labels_in_the_requested_language(app, survey):
    header, rows = read_csv(csv_bytes(survey, labels=True))
    first, second, third = (dict(zip(header, row, strict=True)) for row in rows[:3])
    assert first["colour"] == "Red" and first["grid_taste"] == "Low" and first["agree"] == "Yes"
    assert first["size"] == "'-S (small)"  # a label is text too
    assert first["hobbies_read"] == "1" and first["score"] == "7" and first["age"] == "30"
    assert second["colour"] == "Other" and second["colour_other"] == "'@SUM(A1)"
    assert third["colour"] == "Prefer not to answer" and third["hobbies_read"] == (
        "Prefer not to answer")
    header, rows = read_csv(csv_bytes(survey, lang="de", labels=True))
    first, second, third = (dict(zip(header, row, strict=True)) for row in rows[:3])
    assert (first["colour"], first["grid_price"], first["agree"]) == ("Rot", "Viel", "Ja")
    assert second["colour"] == "Sonstiges" and third["colour"] == "Keine Angabe"
    # Codes do not depend on the language of the labels.
    assert csv_bytes(survey) == csv_bytes(survey, lang="de")


def test_free_text_can_be_left_out(app, survey):
    header, rows = read_csv(csv_bytes(survey, free_text=False))
    expected_header, expected = expected_table(survey, free_text=False)
    assert header == expected_header
    for gone in ("nick", "comment", "mail", "colour_other", "size_other", "hobbies_other"):
        assert gone not in header
    assert "hobbies_other_chosen" in header and "born" in header
    for row, want in zip(rows, expected, strict=True):
        assert row == [as_csv_cell(want[name]) for name in header]
    data = csv_bytes(survey, free_text=False).decode("utf-8")
    assert "example.org" not in data and "HYPERLINK" not in data and "SUM(A1)" not in data


def test_withdrawn_preview_and_draft_never_appear(app, survey, tmp_path):
    complete = set(db.session.scalars(sa.select(Response.id).where(
        Response.questionnaire_id == survey.id, Response.status == ResponseStatus.COMPLETE,
        Response.is_preview.is_(False))))
    catalogue = export_catalogue(survey, "en")
    outputs = {"csv": csv_bytes(survey).decode("utf-8")}
    json_out = io.StringIO()
    write_json(catalogue, ResultFilter(), json_out)
    outputs["json"] = json_out.getvalue()
    write_xlsx(catalogue, ResultFilter(), tmp_path / "x.xlsx")
    write_sav(catalogue, ResultFilter(), tmp_path / "x.sav")
    for name, text in outputs.items():
        for marker in (WITHDRAWN_MARKER, PREVIEW_MARKER, DRAFT_MARKER):
            assert marker not in text, (name, marker)
    _header, rows = read_csv(outputs["csv"].encode("utf-8"))
    assert {int(r[0]) for r in rows} == complete
    assert {o["response_id"] for o in json.loads(outputs["json"])} == complete
    frame, _meta = pyreadstat.read_sav(str(tmp_path / "x.sav"))
    assert set(frame["response_id"].astype(int)) == complete
    sheet = openpyxl.load_workbook(tmp_path / "x.xlsx")["responses"]
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == complete


@pytest.mark.parametrize("chunk_size", [1, 2, 3])
def test_chunks_do_not_change_the_result(app, survey, chunk_size):
    # Small chunks mix both ways of reading a chunk: an id range (the draft and the preview
    # inside it must be skipped) and a list of ids (around the gap they leave).
    catalogue = export_catalogue(survey, "en")
    whole = prepare_export(catalogue, ResultFilter())
    pieces = prepare_export(catalogue, ResultFilter(), chunk_size=chunk_size)
    assert "".join(iter_csv(pieces)) == "".join(iter_csv(whole))
    assert json.loads("".join(iter_json(pieces))) == json.loads("".join(iter_json(whole)))


def test_filters_reduce_the_rows(app, survey):
    def ids(flt: ResultFilter) -> list[int]:
        return [int(r[0]) for r in read_csv(csv_bytes(survey, flt))[1]]

    _header, expected = expected_table(survey)
    everyone = [row["response_id"] for row in expected]
    units = [unit for _lang, unit, _answers in ANSWERS]
    langs = [lang for lang, _unit, _answers in ANSWERS]
    assert ids(ResultFilter(unit="nrw")) == [
        rid for rid, unit in zip(everyone, units, strict=True) if unit in ("koeln", "dortmund")]
    assert ids(ResultFilter(languages=("en",))) == [
        rid for rid, lang in zip(everyone, langs, strict=True) if lang == "en"]
    hobbies = ResultFilter(answers=(("hobbies", ("sport", "music")),))
    assert ids(hobbies) == [row["response_id"] for row in expected
                            if row["hobbies_sport"] == 1 or row["hobbies_music"] == 1]
    # Within the unit filter, koeln (3) and dortmund (1) are both hidden again.
    header, rows = read_csv(csv_bytes(survey, ResultFilter(unit="nrw")))
    assert {row[header.index("unit")] for row in rows} == {""}


def test_small_selections_are_refused(app, survey):
    catalogue = export_catalogue(survey, "en")
    german = ResultFilter(languages=("de",))  # two responses, k is 3
    for writer in (write_csv, write_json):
        with force_locale("en"), pytest.raises(ExportRefused, match="fewer than 3"):
            writer(catalogue, german, io.StringIO())
    with pytest.raises(ExportRefused):
        write_xlsx(catalogue, german, io.BytesIO())
    nobody = ResultFilter(channel="phone")  # none at all: nobody to single out
    header, rows = read_csv(csv_bytes(survey, nobody))
    assert rows == [] and header[0] == "response_id"


def test_xlsx_has_a_codebook(app, survey, tmp_path):
    path = tmp_path / "export.xlsx"
    assert write_xlsx(export_catalogue(survey, "de"), ResultFilter(), path) == len(ANSWERS)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["responses", "codebook"]
    header = [cell.value for cell in next(workbook["responses"].iter_rows())]
    assert header == expected_table(survey)[0]
    book = [[cell.value for cell in row] for row in workbook["codebook"].iter_rows()]
    variables = {row[0]: row for row in book[1:] if row[0]}
    assert set(variables) == set(header)
    assert variables["colour"][1:3] == ["Farbe?", "single_choice"]
    assert variables["grid_price"][1] == "Wie sehr?: Preis"
    assert variables["hobbies_sport"][1] == "Hobbys?: Sport"
    assert "3" in variables["unit"][4]  # says which units are left empty
    start = book.index(variables["colour"])
    values = [(row[3], row[4]) for row in book[start + 1:start + 6]]
    assert values == [("red", "Rot"), ("green", "Grün"), ("blue", "Blau"),
                      ("_other", "Sonstiges"), ("_pna", "Keine Angabe")]


def test_sav_has_variable_and_value_labels(app, survey, tmp_path):
    path = tmp_path / "export.sav"
    write_sav(export_catalogue(survey, "en"), ResultFilter(), path)
    frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    header, expected = expected_table(survey)
    assert list(frame.columns) == header
    labels = meta.column_names_to_labels
    assert labels["colour"] == "Favourite colour?"
    assert labels["grid_taste"] == "How much?: Taste"
    assert labels["hobbies_other_chosen"] == "Hobbies?: Other"
    assert meta.variable_value_labels["colour"] == {
        1.0: "Red", 2.0: "Green", 3.0: "Blue", 4.0: "Other", -99.0: "Prefer not to answer"}
    assert meta.variable_value_labels["hobbies_read"] == {
        1.0: "chosen", 0.0: "not chosen", -99.0: "Prefer not to answer"}
    assert meta.missing_ranges["colour"] == [{"lo": -99.0, "hi": -99.0}]
    assert meta.missing_ranges["age"] == [{"lo": -99.0, "hi": -99.0}]
    numbers = {"red": 1, "green": 2, "blue": 3, "_other": 4, "_pna": -99}
    for (_i, row), want in zip(frame.iterrows(), expected, strict=True):
        assert int(row["response_id"]) == want["response_id"]
        assert _number(row["colour"]) == numbers.get(want["colour"])
        assert _number(row["score"]) == {"_pna": -99}.get(want["score"], want["score"])
        assert _number(row["hobbies_sport"]) == {"_pna": -99}.get(want["hobbies_sport"],
                                                                 want["hobbies_sport"])
        assert _number(row["age"]) == {"_pna": -99}.get(want["age"], want["age"])
        assert _number(row["height"]) == want["height"]
        assert (row["nick"] or None) == want["nick"]
        born = row["born"]
        assert (born.isoformat() if hasattr(born, "isoformat") else None) == (
            None if want["born"] in (None, "_pna") else want["born"])
    # Without user-missing values, "prefer not to answer" reads as missing.
    plain, _meta = pyreadstat.read_sav(str(path))
    assert plain["colour"].isna().sum() == sum(1 for w in expected if w["colour"] in (None,
                                                                                      "_pna"))


def _number(value) -> float | None:
    return None if value != value else float(value)  # NaN is missing


def test_json_has_lists_and_objects(app, survey):
    out = io.StringIO()
    write_json(export_catalogue(survey, "en"), ResultFilter(), out)
    items = json.loads(out.getvalue())
    _header, expected = expected_table(survey)
    assert [item["response_id"] for item in items] == [row["response_id"] for row in expected]
    first, second = items[0], items[1]
    assert first["answers"]["hobbies"] == ["read", "sport"]
    assert first["answers"]["grid"] == {"taste": "low", "price": "high"}
    assert first["answers"]["age"] == 30 and first["answers"]["height"] == -2.5
    assert first["answers"]["born"] == "1990-05-17" and first["answers"]["score"] == 7
    assert first["answers"]["nick"] == FORMULAS[0]  # JSON is not a spreadsheet
    assert second["answers"]["colour"] == "_other"
    assert second["other"] == {"colour": FORMULAS[3], "size": FORMULAS[2], "hobbies": "\tx"}
    assert second["answers"]["hobbies"] == ["music", "_other"]
    assert second["answers"]["grid"] == {"taste": "_pna"}
    assert items[4]["answers"]["hobbies"] is None
    assert [item["unit"] for item in items] == [
        SHOWN_UNITS[unit] or None for _lang, unit, _answers in ANSWERS]
    for item, want in zip(items, expected, strict=True):
        assert item["submitted_at"] == want["submitted_at"]
        assert item["language"] == want["language"] and item["channel"] == "web"


def test_download_page_permissions_and_audit(app, survey):
    interviewer = log_in(app, Role.INTERVIEWER)
    for url in (f"/staff/results/{SLUG}/export", f"/staff/results/{SLUG}/export.csv"):
        assert interviewer.get(url).status_code == 403
        assert app.test_client().get(url).status_code == 302  # to the login
    evaluator = log_in(app, Role.EVALUATOR)
    page = evaluator.get(f"/staff/results/{SLUG}/export?unit=leipzig")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "4 responses will be in the file." in html
    assert '<input type="hidden" name="unit" value="leipzig">' in html
    chosen = evaluator.get(f"/staff/results/{SLUG}/export?unit=leipzig&format=xlsx&labels=1")
    assert chosen.status_code == 302
    assert chosen.headers["Location"].endswith(f"/{SLUG}/export.xlsx?unit=leipzig&labels=1")

    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    download = evaluator.get(f"/staff/results/{SLUG}/export.csv?free_text=1")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.headers["Content-Disposition"].startswith(
        f'attachment; filename="{SLUG}-responses-')
    assert download.headers["Cache-Control"] == "no-store"
    assert download.get_data() == csv_bytes(survey)
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == before + 1
    assert entry.action == "export_responses" and entry.target.startswith(f"{SLUG} csv ")
    assert "free_text=1" in entry.target and entry.user_id is not None

    without_text = evaluator.get(f"/staff/results/{SLUG}/export.csv")
    assert "HYPERLINK" not in without_text.get_data(as_text=True)  # free text is opt-in
    for fmt in ("xlsx", "sav", "json"):
        response = evaluator.get(f"/staff/results/{SLUG}/export.{fmt}?unit=leipzig")
        assert response.status_code == 200, fmt
        assert response.mimetype == EXPORT_FORMATS[fmt].mimetype
        assert len(response.get_data()) > 100
        response.close()  # as a WSGI server does: closes the temporary file
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == before + 5


def test_download_refuses_small_selections_and_bad_filters(app, survey):
    evaluator = log_in(app, Role.EVALUATOR)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    refused = evaluator.get(f"/staff/results/{SLUG}/export.csv?lang=de")
    assert refused.status_code == 422
    assert "fewer than 3 respondents" in refused.get_data(as_text=True)
    page = evaluator.get(f"/staff/results/{SLUG}/export?lang=de").get_data(as_text=True)
    assert "fewer than 3 respondents" in page and 'name="format"' not in page
    wrong = evaluator.get(f"/staff/results/{SLUG}/export.json?unit=no-such-unit")
    assert wrong.status_code == 422
    assert "There is no unit with the code" in wrong.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == before


def test_every_export_route_declares_its_permission(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("exports."):
            assert getattr(app.view_functions[rule.endpoint], "access", None) == (
                "export_responses"), rule.rule


def test_command_line_export(app, survey, runner, tmp_path):
    path = tmp_path / "out.csv"
    result = runner.invoke(args=["responses", "export", SLUG, "--output", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == csv_bytes(survey)
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "export_responses" and entry.target.startswith(f"{SLUG} csv cli")

    result = runner.invoke(args=["responses", "export", SLUG, "--format", "json", "--output",
                                 "-", "--unit", "nrw", "--no-free-text", "--labels",
                                 "--lang", "de"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert len(items) == 4 and items[0]["answers"]["colour"] == "Rot"
    assert "nick" not in items[0]["answers"]

    sav = tmp_path / "out.sav"
    result = runner.invoke(args=["responses", "export", SLUG, "--format", "sav", "--output",
                                 str(sav), "--answer", "hobbies=sport", "--answer",
                                 "hobbies=music"])
    assert result.exit_code == 0, result.output
    assert len(pyreadstat.read_sav(str(sav))[0]) == 4

    refused = runner.invoke(args=["responses", "export", SLUG, "--output", str(path),
                                  "--response-lang", "de"])
    # Messages are in the deployment's default language (German here).
    assert refused.exit_code != 0 and "weniger als 3" in refused.output
    unknown = runner.invoke(args=["responses", "export", "no-such-survey", "-o", str(path)])
    assert unknown.exit_code != 0
