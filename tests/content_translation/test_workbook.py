"""Translators' spreadsheets: export, change a cell, import, see the change; nothing half-done."""

import io
import re

import pytest
from openpyxl import load_workbook

from surveyapp.consent.services import current_consent_text
from surveyapp.content_translation.workbook import (
    WorkbookError,
    export_workbook,
    import_workbook,
    translation_status,
)
from surveyapp.db import db
from surveyapp.questionnaires.services import get_by_slug
from tests.conftest import csrf_token


def edit(data: bytes, change) -> bytes:
    """Open an exported workbook, let ``change(sheet, header)`` edit it, return the bytes."""
    book = load_workbook(io.BytesIO(data))
    sheet = book["Translations"]
    header = [cell.value for cell in sheet[1]]
    change(sheet, header)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row_of(sheet, key):
    return next(row for row in sheet.iter_rows(min_row=2) if row[0].value == key)


def test_export_has_a_row_per_text_and_a_column_per_language(app):
    questionnaire = get_by_slug("needs-tcn")
    sheet = load_workbook(io.BytesIO(export_workbook(questionnaire)))["Translations"]
    header = [cell.value for cell in sheet[1]]
    assert header[:4] == ["key", "where", "check", "de"]
    assert set(header[3:]) == set(questionnaire.languages)
    keys = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert "title" in keys and "consent:text" in keys
    assert any(k.startswith("option:") for k in keys) and any(k.startswith("row:") for k in keys)
    assert len(keys) == len(set(keys))


def test_round_trip_changes_exactly_the_edited_cell(app):
    questionnaire = get_by_slug("exit-survey")
    question = questionnaire.latest_version.pages[0].questions[0]
    key = f"question:{question.code}:text"
    revision = questionnaire.latest_version.text_revision

    def change(sheet, header):
        row_of(sheet, key)[header.index("en")].value = "How long were you a member of ours?"

    report = import_workbook(questionnaire, edit(export_workbook(questionnaire), change))
    db.session.commit()
    assert report.changed == [(key, "en")]
    assert report.unmatched == [] and report.stale == []
    assert question.text["en"] == "How long were you a member of ours?"
    assert questionnaire.latest_version.text_revision == revision + 1


def test_consent_translation_creates_a_new_consent_version(app):
    questionnaire = get_by_slug("exit-survey")
    before = current_consent_text(questionnaire, "en")

    def change(sheet, header):
        row_of(sheet, "consent:text")[header.index("en")].value = "New consent wording."

    import_workbook(questionnaire, edit(export_workbook(questionnaire), change))
    after = current_consent_text(questionnaire, "en")
    assert after.version == before.version + 1 and after.body == "New consent wording."
    assert current_consent_text(questionnaire, "de").version == after.version


def test_unknown_and_stale_keys_never_overwrite(app):
    questionnaire = get_by_slug("exit-survey")
    exported = export_workbook(questionnaire)
    question = questionnaire.latest_version.pages[0].questions[0]
    key = f"question:{question.code}:text"
    # The base text changes after the export: the old row is stale.
    question.text = {**question.text, "de": "Neue Frage?"}
    db.session.flush()

    def change(sheet, header):
        row_of(sheet, key)[header.index("en")].value = "Translation of the OLD question"
        sheet.append(["question:gone:text", "x", "abc", "Weg", "Gone"])

    report = import_workbook(questionnaire, edit(exported, change))
    assert report.stale == [key] and report.unmatched == ["question:gone:text"]
    assert question.text["en"] != "Translation of the OLD question"


def test_empty_cells_keep_existing_translations(app):
    questionnaire = get_by_slug("exit-survey")
    title_en = questionnaire.latest_version.title["en"]

    def change(sheet, header):
        row_of(sheet, "title")[header.index("en")].value = None

    report = import_workbook(questionnaire, edit(export_workbook(questionnaire), change))
    assert not report.has_changes and questionnaire.latest_version.title["en"] == title_en


@pytest.mark.parametrize(
    "data,message",
    [
        (b"not a spreadsheet", "not an Excel file"),
        (b"PK\x03\x04broken zip", "not an Excel file|damaged"),
    ],
)
def test_broken_files_are_refused(app, data, message):
    with pytest.raises(WorkbookError, match=message):
        import_workbook(get_by_slug("exit-survey"), data)


def test_wrong_structure_is_refused_and_nothing_changes(app):
    questionnaire = get_by_slug("exit-survey")

    def unknown_language(sheet, header):
        sheet.cell(row=1, column=len(header) + 1, value="xx")

    def renamed_sheet(sheet, header):
        sheet.title = "Other"

    for change, message in ((unknown_language, "does not offer"), (renamed_sheet, "no sheet")):
        with pytest.raises(WorkbookError, match=message):
            import_workbook(questionnaire, edit(export_workbook(questionnaire), change))


def test_completeness_per_language(app):
    questionnaire = get_by_slug("exit-survey")
    done, needed, missing = translation_status(questionnaire)["en"]
    assert done == needed and missing == []
    question = questionnaire.latest_version.pages[0].questions[0]
    question.text = {"de": question.text["de"]}
    done, needed, missing = translation_status(questionnaire)["en"]
    assert done == needed - 1 and missing == [f"question:{question.code}:text"]


def test_staff_page_download_and_upload(app, staff_client):
    page = staff_client.get("/staff/questionnaires/exit-survey/translations")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and re.search(r"\d+ / \d+ \(100 %\)", html)
    download = staff_client.get("/staff/questionnaires/exit-survey/translations.xlsx")
    assert download.mimetype.endswith("spreadsheetml.sheet")

    def change(sheet, header):
        row_of(sheet, "title")[header.index("en")].value = "Leaving survey"

    data = edit(download.data, change)
    response = staff_client.post("/staff/questionnaires/exit-survey/translations", data={
        "csrf_token": csrf_token(html), "workbook": (io.BytesIO(data), "t.xlsx"),
    }, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "1 text changed." in response.get_data(as_text=True)
    assert get_by_slug("exit-survey").latest_version.title["en"] == "Leaving survey"
    broken = staff_client.post("/staff/questionnaires/exit-survey/translations", data={
        "csrf_token": csrf_token(html), "workbook": (io.BytesIO(b"junk"), "t.xlsx"),
    }, content_type="multipart/form-data")
    assert broken.status_code == 422
    assert "Nothing was changed." in broken.get_data(as_text=True)


def test_translation_pages_need_login(client):
    assert client.get("/staff/questionnaires/exit-survey/translations").status_code == 302
    assert client.get("/staff/questionnaires/exit-survey/translations.xlsx").status_code == 302


def test_purpose_labels_are_translated_like_other_texts(app):
    questionnaire = get_by_slug("clubs-inclusion")
    before = current_consent_text(questionnaire, "en")

    def change(sheet, header):
        row_of(sheet, "consent:purpose:contact")[header.index("en")].value = "Contact us again."

    report = import_workbook(questionnaire, edit(export_workbook(questionnaire), change))
    assert report.changed == [("consent:purpose:contact", "en")]
    after = current_consent_text(questionnaire, "en")
    assert after.version == before.version + 1
    assert after.purposes == [{"code": "contact", "required": False, "label": "Contact us again."}]
    assert after.body == before.body
    assert current_consent_text(questionnaire, "de").purposes[0]["label"].startswith("Sie dürfen")
