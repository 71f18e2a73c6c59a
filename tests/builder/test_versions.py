"""Versions, publishing, live questionnaires and two staff editing at once."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa

from surveyapp.accounts.models import Role, User
from surveyapp.audit.models import AuditEntry
from surveyapp.builder.services import draft_version
from surveyapp.campaigns.services import create_campaign
from surveyapp.db import db, utcnow
from surveyapp.fieldwork.models import Contact, Invitation
from surveyapp.questionnaires.models import QuestionnaireState
from surveyapp.questionnaires.services import get_by_slug, share
from surveyapp.responses.models import Response
from tests.builder.conftest import editor_form, login, start_from_template
from tests.builder.test_edit import question_by_code, save
from tests.conftest import hidden_values
from tests.respondent import Respondent

SLUG = "club-check"
DEFINITION = {
    "format": "surveyapp/1", "slug": SLUG, "base_language": "de", "languages": ["de", "en"],
    "min_group_size": 1,
    "title": {"de": "Vereinscheck", "en": "Club check"},
    "consent": {"text": {"de": "Einverstanden?", "en": "Agreed?"}},
    "pages": [{"code": "main", "questions": [
        {"code": "colour", "type": "single_choice", "text": {"de": "Farbe?", "en": "Colour?"},
         "options": [{"code": "red", "label": {"de": "Rot", "en": "Red"}},
                     {"code": "blue", "label": {"de": "Blau", "en": "Blue"}},
                     {"code": "green", "label": {"de": "Grün", "en": "Green"}}]},
        {"code": "age", "type": "integer", "text": {"de": "Alter?", "en": "Age?"}},
        {"code": "note", "type": "short_text", "text": {"de": "Notiz?", "en": "Note?"}},
    ]}],
}


def upload(client, definition: dict):
    response = client.post("/staff/build/new", data={
        "csrf_token": client.csrf, "how": "upload", "upload-slug": "",
        "upload-file": (io.BytesIO(json.dumps(definition).encode()), "d.json")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)


def publish(client, slug: str = SLUG):
    return client.post(f"/staff/build/{slug}/publish", data={"csrf_token": client.csrf})


def make_changes(client, slug: str = SLUG):
    return client.post(f"/staff/build/{slug}/make-changes", data={"csrf_token": client.csrf})


def answer(app, answers: dict, lang: str = "en"):
    """Answer the one-page questionnaire (twice when a condition shows a question meanwhile)."""
    respondent = Respondent(app.test_client(), SLUG, lang)
    assert respondent.start().status_code == 302
    for _attempt in range(2):
        response = respondent.post(answers)
        assert response.status_code in (200, 302)
        if respondent.url.endswith(("/done", "/thanks")):
            return
    raise AssertionError("not sent")


@pytest.fixture
def published(app, builder):
    upload(builder, DEFINITION)
    assert publish(builder).status_code == 302
    return get_by_slug(SLUG)


def test_publishing_opens_freezes_and_logs(app, builder, published):
    assert published.state is QuestionnaireState.OPEN
    assert published.published_version.number == 1
    actions = {e.action for e in db.session.scalars(sa.select(AuditEntry))}
    assert {"questionnaire.create", "questionnaire.publish"} <= actions
    # The published version cannot be edited: the editor offers "Make changes" only.
    html = builder.get(f"/staff/build/{SLUG}").get_data(as_text=True)
    assert "Make changes" in html and "question-form" not in html
    question = published.published_version.questions[0]
    response = builder.post(f"/staff/build/{SLUG}/questions/{question.id}",
                            data={"csrf_token": builder.csrf, "text": "X", "type": "integer"})
    assert response.status_code == 302
    db.session.expire_all()
    assert get_by_slug(SLUG).published_version.questions[0].text["de"] == "Farbe?"


def test_make_changes_copies_into_a_new_draft_with_the_same_codes(app, builder, published):
    assert make_changes(builder).status_code == 302
    assert make_changes(builder).status_code == 302  # a second press finds the same draft
    db.session.expire_all()
    questionnaire = get_by_slug(SLUG)
    assert [v.number for v in questionnaire.versions] == [1, 2]
    draft = draft_version(questionnaire)
    old = questionnaire.published_version
    assert [q.code for q in draft.questions] == [q.code for q in old.questions]
    assert {q.id for q in draft.questions}.isdisjoint({q.id for q in old.questions})
    assert [o.code for o in draft.questions[0].options] == ["red", "blue", "green"]
    # Respondents still answer version 1.
    answer(app, {"colour": "red"})
    response = db.session.scalar(sa.select(Response).order_by(Response.id.desc()))
    assert response.version_id == old.id


def test_publish_refuses_an_incomplete_draft_and_missing_translations(app, builder, published):
    make_changes(builder)
    draft = draft_version(get_by_slug(SLUG))
    page_id = draft.pages[0].id
    action, data = editor_form(builder, SLUG, f"/pages/{page_id}/questions")
    builder.post(action, data={**data, "text": "Neue Frage", "type": "short_text"})
    response = publish(builder)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Texts still to translate" in html and "English" in html
    action, data = editor_form(builder, SLUG, "/pages", index=-1)
    builder.post(action, data=data)  # an empty page
    response = publish(builder)
    assert response.status_code == 422
    assert "at least one question" in response.get_data(as_text=True)
    db.session.expire_all()
    assert draft_version(get_by_slug(SLUG)) is not None


def test_live_rules_refuse_meaning_changes_and_retire_instead(app, builder, published):
    answer(app, {"colour": "blue", "age": "33", "note": "hallo"})
    make_changes(builder)
    colour = question_by_code(SLUG, "colour")
    # Changing the type of an answered question is refused.
    response = save(builder, SLUG, colour.id, type="dropdown")
    assert response.status_code == 422
    assert "its type cannot change" in response.get_data(as_text=True)
    # Changing the code of an answered option is refused; of an unanswered one allowed.
    blue, green = colour.options[1], colour.options[2]
    response = save(builder, SLUG, colour.id, **{f"option-{blue.id}-code": "navy"})
    assert response.status_code == 422 and "has answers" in response.get_data(as_text=True)
    assert save(builder, SLUG, colour.id,
                **{f"option-{green.id}-code": "lime"}).status_code == 302
    # Removing an answered option retires it.
    response = save(builder, SLUG, colour.id, action=f"delete:{blue.id}")
    assert response.status_code == 302
    assert "Retired: blue" in builder.get(response.headers["Location"]).get_data(as_text=True)
    # The code of an answered question stays.
    age = question_by_code(SLUG, "age")
    response = save(builder, SLUG, age.id, code="years")
    assert response.status_code == 422
    # Deleting an answered question retires it.
    note = question_by_code(SLUG, "note")
    action, data = editor_form(builder, SLUG, f"/questions/{note.id}/structure")
    assert "Retire" in builder.get(f"/staff/build/{SLUG}?open={note.id}").get_data(as_text=True)
    response = builder.post(action, data={**data, "action": "delete"})
    assert "Retired: note" in builder.get(response.headers["Location"]).get_data(as_text=True)
    targets = {e.action: e.target for e in db.session.scalars(sa.select(AuditEntry))}
    assert targets["questionnaire.retire_question"] == f"questionnaire:{SLUG} v2 note"


def test_answers_of_v1_still_show_after_an_edited_v2_is_published(app, builder, published):
    answer(app, {"colour": "blue", "age": "33", "note": "Antwort-aus-Version-1"})
    answer(app, {"colour": "red", "age": "40"})
    make_changes(builder)
    colour = question_by_code(SLUG, "colour")
    blue = colour.options[1]
    save(builder, SLUG, colour.id, text="Lieblingsfarbe?", action=f"delete:{blue.id}")
    note = question_by_code(SLUG, "note")
    action, data = editor_form(builder, SLUG, f"/questions/{note.id}/structure")
    builder.post(action, data={**data, "action": "delete"})
    page_id = draft_version(get_by_slug(SLUG)).pages[0].id
    action, data = editor_form(builder, SLUG, f"/pages/{page_id}/questions")
    new_question = {"code": "club", "type": "yes_no", "text": {"de": "Im Verein?",
                                                               "en": "In a club?"},
                    "show_if": {"all": [{"question": "age", "op": "ge", "value": 18}]}}
    response = builder.post(action, data={**data, "json": json.dumps(new_question)})
    assert response.status_code == 302
    assert question_by_code(SLUG, "club").show_if is not None
    # The English text of the changed question is missing: translate it as a translator would.
    colour = question_by_code(SLUG, "colour")
    colour.text = {**colour.text, "en": "Favourite colour?"}
    db.session.commit()
    response = publish(builder)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    db.session.expire_all()
    questionnaire = get_by_slug(SLUG)
    assert questionnaire.published_version.number == 2
    answer(app, {"colour": "red", "age": "20", "club": "yes"})
    responses = db.session.scalars(sa.select(Response).where(
        Response.questionnaire_id == questionnaire.id).order_by(Response.id)).all()
    assert [r.version_id for r in responses] == [questionnaire.versions[0].id] * 2 + [
        questionnaire.versions[1].id]

    admin = login(app, "evaluating-admin@example.org", Role.ADMIN)
    results = admin.get(f"/staff/results/{SLUG}?labels=en").get_data(as_text=True)
    assert "Favourite colour?" in results
    assert "Blue" in results  # the retired option keeps its label from version 1
    assert "Note?" in results  # the retired question still shows
    assert "In a club?" in results
    exported = admin.get(f"/staff/results/{SLUG}/export.csv?free_text=1")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 3
    assert sorted(r["colour"] for r in rows) == ["blue", "red", "red"]
    assert "Antwort-aus-Version-1" in [r.get("note") for r in rows]
    assert any(r.get("club") == "yes" for r in rows)


def test_a_stale_question_save_is_refused_keeping_the_typing(app, builder, published):
    make_changes(builder)
    other = login(app, "second-builder@example.org", Role.ADMIN)
    colour = question_by_code(SLUG, "colour")
    action, mine = editor_form(builder, SLUG, f"/questions/{colour.id}")
    _action, theirs = editor_form(other, SLUG, f"/questions/{colour.id}")
    assert other.post(action, data={**theirs, "text": "Fassung der Kollegin"}).status_code == 302
    response = builder.post(action, data={**mine, "text": "Meine Fassung"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this" in html
    assert "Meine Fassung" in html  # what I typed is kept
    assert "Fassung der Kollegin" in html  # and the current state is shown
    assert question_by_code(SLUG, "colour").text["de"] == "Fassung der Kollegin"
    # The form now carries the current token: saving again is a conscious overwrite.
    own_part = html.split(f'id="q-{colour.id}"')[1]
    fresh_token = own_part.split('name="token" value="')[1].split('"')[0]
    response = builder.post(action, data={**mine, "text": "Meine Fassung",
                                          "token": fresh_token})
    assert response.status_code == 302
    assert question_by_code(SLUG, "colour").text["de"] == "Meine Fassung"


def test_stale_structure_and_text_changes_are_refused(app, builder, published):
    make_changes(builder)
    colour = question_by_code(SLUG, "colour")
    action, structure = editor_form(builder, SLUG, f"/questions/{colour.id}/structure")
    assert builder.post(action, data={**structure, "action": "down"}).status_code == 302
    response = builder.post(action, data={**structure, "action": "down"})
    assert "Someone else changed" in builder.get(response.headers["Location"]).get_data(
        as_text=True)
    db.session.expire_all()
    assert [q.code for q in draft_version(get_by_slug(SLUG)).questions][:2] == ["age", "colour"]
    action, texts = editor_form(builder, SLUG, "/texts")
    assert builder.post(action, data={**texts, "texts-title": "Erster"}).status_code == 302
    response = builder.post(action, data={**texts, "texts-title": "Zweiter"})
    assert response.status_code == 409
    assert "Zweiter" in response.get_data(as_text=True)
    db.session.expire_all()
    assert draft_version(get_by_slug(SLUG)).title["de"] == "Erster"


def test_preview_answers_the_draft_and_stays_out_of_results(app, builder, published):
    make_changes(builder)
    colour = question_by_code(SLUG, "colour")
    save(builder, SLUG, colour.id, text="Entwurfsfrage-Vorschau")
    page = builder.get(f"/staff/build/{SLUG}/preview?lang=de").get_data(as_text=True)
    assert 'src="/s/club-check?preview=1&amp;choose=de"' in page
    start = builder.get(f"/s/{SLUG}?preview=1&choose=de")
    assert start.status_code == 200
    started = builder.post(f"/s/{SLUG}?preview=1&choose=de",
                           data={**hidden_values(start.get_data(as_text=True)), "consent": "y"})
    respondent = Respondent(builder, SLUG, "de")
    respondent.url = started.headers["Location"]
    assert "Entwurfsfrage-Vorschau" in respondent.page().get_data(as_text=True)
    assert respondent.post({"colour": "red", "note": "Vorschau-Notiz-4711"},
                           follow=False).status_code == 302
    preview = db.session.scalar(sa.select(Response).order_by(Response.id.desc()))
    assert preview.is_preview
    results = builder.get(f"/staff/results/{SLUG}").get_data(as_text=True)
    assert "Vorschau-Notiz-4711" not in results
    exported = builder.get(f"/staff/results/{SLUG}/export.json")
    assert "Vorschau-Notiz-4711" not in exported.get_data(as_text=True)


def test_template_start_edit_and_publish_end_to_end(app, builder):
    start_from_template(builder, "exit-survey", "exit-e2e")
    assert publish(builder, "exit-e2e").status_code == 302
    assert get_by_slug("exit-e2e").is_open


def test_a_draft_can_be_thrown_away_after_confirming(app, builder, published):
    make_changes(builder)
    colour = question_by_code(SLUG, "colour")
    save(builder, SLUG, colour.id, text="Wird verworfen")
    response = builder.post(f"/staff/build/{SLUG}/discard", data={"csrf_token": builder.csrf})
    assert "tick the box" in builder.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert draft_version(get_by_slug(SLUG)) is not None
    response = builder.post(f"/staff/build/{SLUG}/discard",
                            data={"csrf_token": builder.csrf, "confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    questionnaire = get_by_slug(SLUG)
    assert [v.number for v in questionnaire.versions] == [1]
    assert draft_version(questionnaire) is None
    actions = {e.action for e in db.session.scalars(sa.select(AuditEntry))}
    assert "questionnaire.discard_draft" in actions


def test_only_a_never_published_questionnaire_can_be_deleted(app, builder, published):
    response = builder.post(f"/staff/build/{SLUG}/delete",
                            data={"csrf_token": builder.csrf, "confirm": "y"})
    assert "cannot be deleted" in builder.get(response.headers["Location"]).get_data(
        as_text=True)
    start_from_template(builder, "mentors", "to-delete")
    # A preview with answers does not keep it alive.
    start = builder.get("/s/to-delete?preview=1")
    builder.post("/s/to-delete?preview=1",
                 data={**hidden_values(start.get_data(as_text=True)), "consent": "y"})
    response = builder.post("/staff/build/to-delete/delete",
                            data={"csrf_token": builder.csrf, "confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert get_by_slug("to-delete") is None
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "questionnaire.delete"))
    assert entry.target == "questionnaire:to-delete"


@pytest.mark.parametrize("kind", ["contact", "invitation", "campaign"])
def test_a_questionnaire_with_contacts_invitations_or_campaigns_is_not_deleted(
        app, builder, kind):
    start_from_template(builder, "mentors", "to-delete")
    questionnaire = get_by_slug("to-delete")
    if kind == "campaign":
        create_campaign(questionnaire, name="Anrufen")
    elif kind == "contact":
        db.session.add(Contact(questionnaire_id=questionnaire.id, name="Ada",
                               email="ada@example.org", language="de"))
    else:
        db.session.add(Invitation(questionnaire_id=questionnaire.id, nonce="n" * 16,
                                  token_digest="d" * 64, expires_at=utcnow()))
    db.session.commit()
    response = builder.post("/staff/build/to-delete/delete",
                            data={"csrf_token": builder.csrf, "confirm": "y"})
    assert response.status_code == 302  # back to the editor, not a server error
    assert "already has contacts, invitations or phone campaigns" in builder.get(
        response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert get_by_slug("to-delete") is not None
    assert db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "questionnaire.delete")) is None


def test_only_the_owner_or_an_admin_may_delete_a_questionnaire(app, builder):
    start_from_template(builder, "mentors", "to-delete")
    colleague = login(app, "colleague@example.org", Role.BUILDER)
    share(get_by_slug("to-delete"), db.session.get(User, colleague.user_id))
    db.session.commit()
    page = colleague.get("/staff/build/to-delete").get_data(as_text=True)
    assert "/staff/build/to-delete/delete" not in page  # no control they may not use
    assert colleague.post("/staff/build/to-delete/delete",
                          data={"csrf_token": colleague.csrf, "confirm": "y"}).status_code == 403
    db.session.expire_all()
    assert get_by_slug("to-delete") is not None
    assert "/staff/build/to-delete/delete" in builder.get("/staff/build/to-delete").get_data(
        as_text=True)
    admin = login(app, "boss@example.org", Role.ADMIN)
    assert "/staff/build/to-delete/delete" in admin.get("/staff/build/to-delete").get_data(
        as_text=True)
    assert admin.post("/staff/build/to-delete/delete",
                      data={"csrf_token": admin.csrf, "confirm": "y"}).status_code == 302
    db.session.expire_all()
    assert get_by_slug("to-delete") is None


def test_publishing_a_new_version_of_a_closed_questionnaire_keeps_it_closed(
        app, builder, published):
    published.move_to(QuestionnaireState.CLOSED)
    db.session.commit()
    make_changes(builder)
    colour = question_by_code(SLUG, "colour")
    save(builder, SLUG, colour.id, required="y")
    assert publish(builder).status_code == 302
    db.session.expire_all()
    questionnaire = get_by_slug(SLUG)
    assert questionnaire.published_version.number == 2
    assert questionnaire.state is QuestionnaireState.CLOSED
