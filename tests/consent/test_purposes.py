"""Separate consent purposes: each its own unticked box, recorded only when ticked."""

import copy

import pytest
import sqlalchemy as sa

from surveyapp.consent.models import ConsentRecord
from surveyapp.consent.services import current_consent_text
from surveyapp.db import db
from surveyapp.questionnaires.definition import DefinitionError, parse_definition
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Response
from surveyapp.transfer import export_questionnaire, import_questionnaire
from tests.conftest import count_rows
from tests.respondent import Respondent


def record() -> ConsentRecord:
    return db.session.scalars(sa.select(ConsentRecord)).one()


def test_an_optional_purpose_is_an_unticked_box(client):
    html = client.get("/s/clubs-inclusion?lang=en").get_data(as_text=True)
    assert 'name="purpose" id="purpose-contact" value="contact">' in html
    assert "(optional)" in html


def test_purposes_are_recorded_only_when_ticked(app, client):
    Respondent(client, "clubs-inclusion").start()
    assert record().purposes == ["answers"]


def test_ticked_purpose_is_recorded_and_unknown_codes_are_ignored(app, client):
    Respondent(client, "clubs-inclusion").start(purpose=["contact", "sell-my-data"])
    assert record().purposes == ["answers", "contact"]


def test_a_required_purpose_must_be_ticked(app, client):
    questionnaire = get_by_slug("clubs-inclusion")
    text = current_consent_text(questionnaire, "en")
    text.purposes = [{**text.purposes[0], "required": True}]
    db.session.commit()
    response = Respondent(client, "clubs-inclusion").start()
    assert response.status_code == 422
    assert "Please tick every box marked as needed" in response.get_data(as_text=True)
    assert count_rows(Response) == 0


def test_purposes_are_part_of_the_consent_digest(app):
    text = current_consent_text(get_by_slug("clubs-inclusion"), "de")
    from surveyapp.consent.models import text_digest

    assert text.digest == text_digest(text.body, text.purposes) != text_digest(text.body)


def test_purposes_round_trip_and_are_checked(app):
    exported = export_questionnaire(get_by_slug("clubs-inclusion"))
    assert exported["consent"]["purposes"][0]["code"] == "contact"
    assert set(exported["consent"]["purposes"][0]["label"]) == {"de", "en"}
    again = copy.deepcopy(exported)
    again["slug"] = "clubs-copy"
    assert export_questionnaire(import_questionnaire(again))["consent"] == exported["consent"]
    bad = copy.deepcopy(exported)
    bad["consent"]["purposes"].append({"code": "answers", "label": {"de": "x", "en": "x"}})
    with pytest.raises(DefinitionError, match="purposes"):
        parse_definition(bad)
