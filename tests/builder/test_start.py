"""Starting a questionnaire: from a template, blank, as a copy, from a JSON file."""

import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from surveyapp.accounts.models import Role
from surveyapp.audit.models import AuditEntry
from surveyapp.db import db
from surveyapp.questionnaires.models import Questionnaire, QuestionnaireState
from surveyapp.questionnaires.services import get_by_slug
from tests.builder.conftest import login, start_from_template
from tests.conftest import count_rows


def test_from_a_template_the_creator_owns_a_draft_copy(app, builder):
    questionnaire = start_from_template(builder, "exit-survey", "exit-koeln")
    assert questionnaire.owner_id == builder.user_id
    assert questionnaire.state is QuestionnaireState.DRAFT
    version = questionnaire.latest_version
    assert version.published_at is None
    assert [p.code for p in version.pages] == [
        p.code for p in get_by_slug("exit-survey").latest_version.pages]
    page = builder.get("/staff/build/exit-koeln").get_data(as_text=True)
    assert "Wie lange waren Sie Mitglied?" in page
    actions = [e.action for e in db.session.scalars(sa.select(AuditEntry))]
    assert "questionnaire.create" in actions
    # The builder now sees it in the list, with an edit link.
    listing = builder.get("/staff/questionnaires/").get_data(as_text=True)
    assert "/staff/build/exit-koeln" in listing


def test_a_slug_is_derived_from_the_title_and_a_taken_one_is_refused_clearly(app, builder):
    response = builder.post("/staff/build/new", data={
        "csrf_token": builder.csrf, "how": "template", "template-template": "exit-survey",
        "template-slug": "exit-survey"})
    assert response.status_code == 422
    assert "is already taken" in response.get_data(as_text=True)
    before = count_rows(Questionnaire)
    response = builder.post("/staff/build/new", data={
        "csrf_token": builder.csrf, "how": "template", "template-template": "exit-survey",
        "template-slug": ""})
    assert response.status_code == 302
    assert count_rows(Questionnaire) == before + 1
    assert get_by_slug("befragung-zum-austritt") is not None


def test_blank_questionnaire_has_one_page_languages_and_a_consent_text(app, builder):
    response = builder.post("/staff/build/new", data={
        "csrf_token": builder.csrf, "how": "blank", "blank-title": "Sommerfest 2026",
        "blank-slug": "", "blank-base_language": "de", "blank-languages": ["ar", "en"]})
    assert response.status_code == 302
    questionnaire = get_by_slug("sommerfest-2026")
    assert questionnaire.languages == ["de", "ar", "en"]
    assert questionnaire.owner_id == builder.user_id
    assert len(questionnaire.latest_version.pages) == 1
    # Preview works at once (a consent text exists).
    start = builder.get("/s/sommerfest-2026?preview=1")
    assert start.status_code == 200


def test_copy_of_an_existing_questionnaire(app, builder):
    start_from_template(builder, "mentors", "mentors-a")
    response = builder.post("/staff/build/new", data={
        "csrf_token": builder.csrf, "how": "copy", "copy-source": "mentors-a",
        "copy-slug": "mentors-b"})
    assert response.status_code == 302
    a, b = get_by_slug("mentors-a"), get_by_slug("mentors-b")
    assert [q.code for q in b.latest_version.questions] == [
        q.code for q in a.latest_version.questions]
    # A builder cannot copy a questionnaire that is not theirs.
    response = builder.post("/staff/build/new", data={
        "csrf_token": builder.csrf, "how": "copy", "copy-source": "needs-tcn",
        "copy-slug": "stolen"})
    assert response.status_code in (403, 422)
    assert get_by_slug("stolen") is None


def _upload(client, data: bytes, slug: str = ""):
    return client.post("/staff/build/new", data={
        "csrf_token": client.csrf, "how": "upload", "upload-slug": slug,
        "upload-file": (io.BytesIO(data), "survey.json")}, content_type="multipart/form-data")


def test_upload_of_a_definition_file(app, builder):
    path = Path(app.root_path) / "demo" / "member-activation.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    response = _upload(builder, json.dumps(data).encode(), "aktivierung")
    assert response.status_code == 302
    assert get_by_slug("aktivierung").owner_id == builder.user_id


def test_upload_shows_every_problem_and_stores_nothing(app, builder):
    before = count_rows(Questionnaire)
    bad = {"format": "surveyapp/1", "slug": "bad-one", "base_language": "de",
           "title": {"de": "X"}, "consent": {"text": {"de": "ok"}},
           "pages": [{"code": "p1", "questions": [
               {"code": "a", "type": "nonsense", "text": {"de": "?"}},
               {"code": "b", "type": "single_choice", "text": {"de": "?"}, "options": []}]}]}
    response = _upload(builder, json.dumps(bad).encode())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "unknown type" in html and "needs at least one option" in html
    assert count_rows(Questionnaire) == before
    response = _upload(builder, b"{not json")
    assert response.status_code == 422 and "not valid JSON" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.INTERVIEWER])
def test_evaluators_and_interviewers_may_not_build(app, role):
    client = login(app, f"{role.value}-x@example.org", role)
    assert client.get("/staff/build/new").status_code == 403
    assert client.get("/staff/build/exit-survey").status_code == 403
    assert client.post("/staff/build/exit-survey/publish",
                       data={"csrf_token": client.csrf}).status_code == 403


def test_builders_edit_only_their_own_or_shared_questionnaires(app, builder):
    assert builder.get("/staff/build/exit-survey").status_code == 403
    start_from_template(builder, "exit-survey", "mine")
    assert builder.get("/staff/build/mine").status_code == 200


def test_pressing_start_twice_creates_one_questionnaire(app, builder):
    page = builder.get("/staff/build/new").get_data(as_text=True)
    key = page.split('id="template-start_key" name="template-start_key" type="hidden" value="')[1]
    key = key.split('"')[0]
    before = count_rows(Questionnaire)
    data = {"csrf_token": builder.csrf, "how": "template", "template-template": "mentors",
            "template-slug": "", "template-start_key": key}
    first = builder.post("/staff/build/new", data=data)
    second = builder.post("/staff/build/new", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count_rows(Questionnaire) == before + 1
    # A fresh form (a new key) starts another one, with the next free address.
    data["template-start_key"] = "another-key-0123456789"
    third = builder.post("/staff/build/new", data=data)
    assert third.headers["Location"] != first.headers["Location"]
    assert count_rows(Questionnaire) == before + 2
