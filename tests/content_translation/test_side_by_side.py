"""Translating side by side: base text beside the target field, completeness, saving."""

from __future__ import annotations

import re

import sqlalchemy as sa

from surveyapp.consent.models import ConsentText
from surveyapp.consent.services import current_consent_text
from surveyapp.content_translation import side_by_side
from surveyapp.content_translation.workbook import translation_status
from surveyapp.db import db
from surveyapp.questionnaires.services import get_by_slug
from tests.conftest import csrf_token
from tests.questionnaires.test_settings import _Fields

SLUG = "exit-survey"
URL = f"/staff/questionnaires/{SLUG}/translations/side-by-side"


def offer_arabic():
    questionnaire = get_by_slug(SLUG)
    questionnaire.languages = [*questionnaire.languages, "ar"]
    db.session.commit()
    return questionnaire


def translation_form(html: str) -> dict[str, str]:
    parser = _Fields()
    parser.feed(html)
    form = next(f for f in parser.forms if any(k.startswith("t:") for k in f))
    return {key: values[0] for key, values in form.items()}


def test_rows_show_base_text_beside_a_marked_empty_target_field(app, staff_client):
    offer_arabic()
    html = staff_client.get(f"{URL}?lang=ar").get_data(as_text=True)
    done, needed, _missing = translation_status(get_by_slug(SLUG))["ar"]
    assert done == 0
    assert f"0 of {needed} texts, 0%" in html
    # Missing is said in words, not only by colour, and tied to the field.
    assert html.count(">Missing</span>") == min(needed, side_by_side.ROWS_PER_SCREEN)
    title = re.search(r'<textarea id="t-title" name="t:title" lang="ar" dir="rtl"[^>]*>', html)
    assert title and "m-t-title" in title.group(0)
    base_title = get_by_slug(SLUG).latest_version.title["de"]
    assert f'lang="de" dir="ltr" id="b-t-title">{base_title}</p>' in html


def test_the_completeness_figure_counts_translated_texts(app, staff_client):
    html = staff_client.get(URL).get_data(as_text=True)
    done, needed, _missing = translation_status(get_by_slug(SLUG))["en"]
    assert done == needed
    assert f"{needed} of {needed} texts, 100%" in html


def test_saving_stores_translations_and_raises_the_text_revision(app, staff_client):
    questionnaire = offer_arabic()
    version = questionnaire.latest_version
    revision = version.text_revision
    assert version.published_at is not None  # corrections are allowed on a published version
    html = staff_client.get(f"{URL}?lang=ar").get_data(as_text=True)
    data = translation_form(html)
    data["t:title"] = "استبيان المغادرة"
    response = staff_client.post(f"{URL}?lang=ar", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    version = get_by_slug(SLUG).latest_version
    assert version.title["ar"] == "استبيان المغادرة"
    assert version.text_revision == revision + 1
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 translation saved." in page
    done, needed, _ = translation_status(get_by_slug(SLUG))["ar"]
    assert done == 1 and f"1 of {needed} texts" in page


def test_only_missing_filter(app, staff_client):
    offer_arabic()
    html = staff_client.get(f"{URL}?lang=ar").get_data(as_text=True)
    data = translation_form(html)
    data["t:title"] = "عنوان"
    staff_client.post(f"{URL}?lang=ar", data=data)
    missing = staff_client.get(f"{URL}?lang=ar&missing=1").get_data(as_text=True)
    assert 'name="t:title"' not in missing and 'name="t:intro"' in missing
    assert 'name="t:title"' in staff_client.get(f"{URL}?lang=ar").get_data(as_text=True)


def test_a_consent_translation_is_a_new_consent_version(app, staff_client):
    offer_arabic()
    data = translation_form(staff_client.get(f"{URL}?lang=ar&missing=1&screen=99").get_data(
        as_text=True))
    assert "t:consent:text" in data
    data["t:consent:text"] = "نص الموافقة"
    assert staff_client.post(f"{URL}?lang=ar&missing=1", data=data).status_code == 302
    text = current_consent_text(get_by_slug(SLUG), "ar")
    assert (text.language, text.body, text.version) == ("ar", "نص الموافقة", 2)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsentText).where(
        ConsentText.questionnaire_id == text.questionnaire_id, ConsentText.version == 1,
        ConsentText.language == "ar")) == 0


def test_a_text_changed_meanwhile_is_not_overwritten(app, staff_client):
    html = staff_client.get(URL).get_data(as_text=True)
    mine = translation_form(html)
    theirs = dict(mine)
    theirs["t:title"] = "Their title"
    assert staff_client.post(URL, data=theirs).status_code == 302
    mine["t:title"] = "My title"
    mine["t:intro"] = "My intro"
    response = staff_client.post(URL, data=mine)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else changed these translations" in page
    assert "Their title" in page and "My title" in page and "My intro" in page
    db.session.expire_all()
    version = get_by_slug(SLUG).latest_version
    assert version.title["en"] == "Their title" and version.intro["en"] != "My intro"
    again = translation_form(page)
    assert staff_client.post(URL, data=again).status_code == 302
    db.session.expire_all()
    assert get_by_slug(SLUG).latest_version.title["en"] == "My title"


def test_too_long_text_is_refused_and_kept(app, staff_client):
    data = translation_form(staff_client.get(URL).get_data(as_text=True))
    data["t:title"] = "x" * 10_001
    response = staff_client.post(URL, data=data)
    assert response.status_code == 422
    assert "Please shorten this to 10000 characters." in response.get_data(as_text=True)


def test_large_questionnaires_are_paged(app, staff_client, monkeypatch):
    monkeypatch.setattr(side_by_side, "ROWS_PER_SCREEN", 5)
    monkeypatch.setattr("surveyapp.content_translation.views.ROWS_PER_SCREEN", 5)
    offer_arabic()
    first = staff_client.get(f"{URL}?lang=ar").get_data(as_text=True)
    assert first.count("<textarea") == 5 and "Next screen" in first
    second = staff_client.get(f"{URL}?lang=ar&screen=2").get_data(as_text=True)
    assert "Previous screen" in second and 'name="t:title"' not in second
    # Each page of the questionnaire can be jumped to.
    page = get_by_slug(SLUG).latest_version.pages[1]
    assert re.search(rf'<option value="\d+"[^>]*>Page {page.code} \(screen \d+\)', second)
    assert csrf_token(second)


def test_one_language_only_says_so(app, staff_client):
    questionnaire = get_by_slug(SLUG)
    questionnaire.languages = ["de"]
    db.session.commit()
    html = staff_client.get(URL).get_data(as_text=True)
    assert "offered in one language only" in html
