"""Editing the consent text per language: every change is a new version; stale starts fail."""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from surveyapp.audit.models import AuditEntry
from surveyapp.consent.models import ConsentRecord, ConsentText
from surveyapp.consent.services import consent_purposes, current_consent_text
from surveyapp.db import db
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Response
from tests.conftest import count_rows, hidden_values
from tests.questionnaires.test_settings import settings_form
from tests.respondent import Respondent

SLUG = "clubs-inclusion"
URL = f"/staff/questionnaires/{SLUG}/consent"


def editor_form(client, lang: str) -> dict:
    html = client.get(f"{URL}?lang={lang}").get_data(as_text=True)
    return next(form for form in _forms(html) if "based_on" in form)


def _forms(html: str):
    from tests.questionnaires.test_settings import _Fields

    parser = _Fields()
    parser.feed(html)
    return parser.forms


def save(client, lang: str, **changes):
    data = editor_form(client, lang)
    for name, value in changes.items():
        data[name] = value if isinstance(value, list) else [value]
    return client.post(f"{URL}?lang={lang}", data=MultiDict(
        [(k, v) for k, values in data.items() for v in values]))


def versions() -> list[int]:
    return sorted(set(db.session.scalars(sa.select(ConsentText.version).where(
        ConsentText.questionnaire_id == get_by_slug(SLUG).id))))


def test_the_editor_shows_text_purposes_controller_and_notice_link(app, staff_client):
    questionnaire = get_by_slug(SLUG)
    questionnaire.controller = "Verein für Vielfalt e.V."
    questionnaire.privacy_url = "https://example.org/datenschutz"
    db.session.commit()
    html = staff_client.get(URL).get_data(as_text=True)
    assert current_consent_text(questionnaire, "de").body.split("\n")[0][:40] in html
    assert "Verein für Vielfalt e.V." in html
    assert 'href="https://example.org/datenschutz"' in html
    assert 'name="purpose-0-code" value="contact"' in html
    assert "Needed to take part" in html


def test_a_changed_text_is_a_new_version_and_old_ones_stay(app, staff_client):
    before = current_consent_text(get_by_slug(SLUG), "de")
    response = save(staff_client, "de", body="Neuer Text.\n\nZweiter Absatz.")
    assert response.status_code == 302
    assert versions() == [1, 2]
    db.session.expire_all()
    questionnaire = get_by_slug(SLUG)
    assert current_consent_text(questionnaire, "de").body == "Neuer Text.\n\nZweiter Absatz."
    # Other languages are carried over unchanged; the old version is untouched.
    assert current_consent_text(questionnaire, "en").version == 2
    assert db.session.get(ConsentText, before.id).body == before.body
    assert [(e.action, e.target) for e in db.session.scalars(sa.select(AuditEntry))] == [
        ("consent.new_version", f"{SLUG}: version 2 (de)")]
    assert "Saved as consent version 2." in staff_client.get(URL).get_data(as_text=True)


def test_saving_unchanged_creates_no_version(app, staff_client):
    assert save(staff_client, "en").status_code == 302
    assert versions() == [1]
    assert "Nothing was changed." in staff_client.get(URL).get_data(as_text=True)


def test_purposes_are_added_flagged_and_removed_in_the_base_language(app, staff_client):
    response = save(staff_client, "de", **{"purpose-0-required": "y",
                                            "new-code": "newsletter",
                                            "new-label": "Schickt mir den Newsletter."})
    assert response.status_code == 302
    db.session.expire_all()
    purposes = consent_purposes(get_by_slug(SLUG))
    assert [(p["code"], p["required"]) for p in purposes] == [("contact", True),
                                                               ("newsletter", False)]
    # Other languages show the base label until translated, then their own.
    assert purposes[1]["label"]["en"] == "Schickt mir den Newsletter."
    assert save(staff_client, "en", **{"purpose-1-label": "Send me the newsletter."}
                ).status_code == 302
    db.session.expire_all()
    assert consent_purposes(get_by_slug(SLUG))[1]["label"] == {
        "de": "Schickt mir den Newsletter.", "en": "Send me the newsletter."}
    assert save(staff_client, "de", **{"purpose-0-remove": "y"}).status_code == 302
    db.session.expire_all()
    assert [p["code"] for p in consent_purposes(get_by_slug(SLUG))] == ["newsletter"]
    assert versions() == [1, 2, 3, 4]


def test_bad_input_is_refused_and_kept(app, staff_client):
    response = save(staff_client, "de", body="  ", **{"new-code": "answers",
                                                       "new-label": "Meine Box"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The consent text is needed in the base language." in html
    assert "that no other box of this text has" in html
    assert 'value="answers"' in html and "Meine Box" in html
    assert versions() == [1]


def test_two_editors_at_once_the_second_is_told(app, staff_client):
    mine = editor_form(staff_client, "de")
    assert save(staff_client, "de", body="Zuerst gespeichert.").status_code == 302
    mine["body"] = ["Mein Text."]
    response = staff_client.post(f"{URL}?lang=de", data=MultiDict(
        [(k, v) for k, values in mine.items() for v in values]))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else saved a newer version" in html and "Mein Text." in html
    assert versions() == [1, 2]
    again = next(form for form in _forms(html) if "based_on" in form)
    assert staff_client.post(f"{URL}?lang=de", data=MultiDict(
        [(k, v) for k, values in again.items() for v in values])).status_code == 302
    assert versions() == [1, 2, 3]


def test_respondents_see_the_new_version_and_a_stale_start_is_refused(app, staff_client):
    respondent_client = app.test_client()
    page = respondent_client.get(f"/s/{SLUG}?lang=en").get_data(as_text=True)
    stale_form = hidden_values(page)
    assert save(staff_client, "en", body="The new consent text.").status_code == 302
    refused = respondent_client.post(f"/s/{SLUG}?lang=en", data={**stale_form,
                                                                  "consent": "y"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "The information text has changed" in html
    assert "The new consent text." in html  # the page shows the new text to read again
    assert count_rows(Response) == 0
    respondent = Respondent(respondent_client, SLUG, lang="en")
    assert respondent.start().status_code == 302
    record = db.session.scalars(sa.select(ConsentRecord)).one()
    assert record.consent_text.version == 2
    assert record.consent_text.body == "The new consent text."


def test_settings_link_to_the_controller_field(app, staff_client):
    html = staff_client.get(URL).get_data(as_text=True)
    assert f'/staff/questionnaires/{SLUG}/settings#controller' in html
    assert "controller" in settings_form(staff_client.get(
        f"/staff/questionnaires/{SLUG}/settings").get_data(as_text=True))


def test_a_double_click_saves_one_version(app, staff_client):
    data = editor_form(staff_client, "de")
    data["body"] = ["Einmal gespeichert."]
    items = MultiDict([(k, v) for k, values in data.items() for v in values])
    assert staff_client.post(f"{URL}?lang=de", data=items).status_code == 302
    assert staff_client.post(f"{URL}?lang=de", data=items).status_code == 302
    assert versions() == [1, 2]
