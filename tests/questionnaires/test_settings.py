"""The settings page: saving, validation, the version check, anonymity, life cycle, sharing."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from surveyapp.accounts.models import Role
from surveyapp.accounts.services import create_user, find_user
from surveyapp.audit.models import AuditEntry
from surveyapp.db import db
from surveyapp.questionnaires.models import QuestionnaireState
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Response
from tests.conftest import csrf_token
from tests.formfiller import parse_forms
from tests.respondent import Respondent

SLUG = "exit-survey"
URL = f"/staff/questionnaires/{SLUG}/settings"


class _Fields(HTMLParser):
    """The values a browser would send for the form holding ``name="revision"``."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, list[str]]] = []
        self.data: dict[str, list[str]] | None = None
        self.select = self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "form" and attrs.get("method") == "post":
            self.data = {}
            self.forms.append(self.data)
        elif self.data is None:
            return
        elif tag == "input" and attrs.get("name"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.data.setdefault(attrs["name"], []).append(attrs.get("value", ""))
        elif tag == "select":
            self.select = attrs["name"]
        elif tag == "option" and self.select and "selected" in attrs:
            self.data.setdefault(self.select, []).append(attrs.get("value", ""))
        elif tag == "textarea":
            self.textarea = attrs["name"]
            self.data.setdefault(self.textarea, []).append("")

    def handle_endtag(self, tag):
        if tag == "form":
            self.data = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea and self.data is not None:
            self.data[self.textarea][-1] += data


def settings_form(html: str) -> dict:
    """The settings form's fields as a browser would send them (without changes)."""
    parser = _Fields()
    parser.feed(html)
    return next(form for form in parser.forms if "revision" in form)


def post_settings(client, **changes):
    html = client.get(URL).get_data(as_text=True)
    data = settings_form(html)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [value]
    return client.post(URL, data=data)


def actions() -> list[tuple[str, str]]:
    return [(e.action, e.target) for e in db.session.scalars(
        sa.select(AuditEntry).order_by(AuditEntry.id))]


def questionnaire():
    db.session.expire_all()
    return get_by_slug(SLUG)


def test_the_page_shows_the_settings(app, staff_client):
    response = staff_client.get(URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="revision"' in html and 'value="730"' in html
    assert "Accepting answers now." in html
    assert 'name="action" value="close"' in html and 'value="archive"' not in html


def test_saving_changes_settings_and_is_audited(app, staff_client):
    response = post_settings(staff_client, min_group_size="8", retention_days="365",
                             privacy_url="https://example.org/privacy",
                             controller="Verein e.V., Berlin", opens_at="2026-01-01T08:00",
                             closes_at="2030-12-31T18:30", max_responses="500",
                             languages=["de", "en", "ar"])
    assert response.status_code == 302, response.get_data(as_text=True)
    q = questionnaire()
    assert (q.min_group_size, q.retention_days, q.max_responses) == (8, 365, 500)
    assert q.privacy_url == "https://example.org/privacy"
    assert q.opens_at == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    assert q.closes_at == datetime(2030, 12, 31, 18, 30, tzinfo=UTC)
    assert q.languages == ["de", "en", "ar"]
    assert q.settings_revision == 2
    (action, target), = actions()
    assert action == "questionnaire.settings" and target.startswith(f"{SLUG}: languages")
    page = staff_client.get(URL).get_data(as_text=True)
    assert "The settings are saved." in page
    assert "2030-12-31T18:30" in page and "UTC" in page
    # Arabic still misses its texts: said once, after saving.
    assert "Some languages still miss texts" in page


def test_saving_without_changes_changes_nothing(app, staff_client):
    assert post_settings(staff_client).status_code == 302
    assert actions() == []
    assert "Nothing was changed." in staff_client.get(URL).get_data(as_text=True)


@pytest.mark.parametrize(("changes", "message"), [
    ({"privacy_url": "javascript:alert(1)"}, "Please enter a web address starting with"),
    ({"privacy_url": "example.org"}, "Please enter a web address starting with"),
    ({"min_group_size": "zero"}, "Please enter a whole number."),
    ({"retention_days": "0"}, "Please enter a number from 1 to 3650."),
    ({"opens_at": "2027-01-01T10:00", "closes_at": "2026-01-01T10:00"},
     "The closing time must be after the opening time."),
    ({"opens_at": "tomorrow"}, "Please enter a date and a time"),
    ({"languages": None}, "Please choose at least one language."),
    ({"languages": ["en"]}, "The base language must be one of the languages offered."),
])
def test_bad_input_is_refused_and_kept(app, staff_client, changes, message):
    response = post_settings(staff_client, **changes)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'class="error-summary"' in html
    for value in changes.values():
        if isinstance(value, str):
            assert f'value="{value}"' in html  # what the person typed is kept
    assert questionnaire().settings_revision == 1 and actions() == []


def test_a_stale_revision_is_refused_with_a_message(app, staff_client):
    html = staff_client.get(URL).get_data(as_text=True)
    mine = settings_form(html)
    theirs = settings_form(html)
    theirs["min_group_size"] = ["12"]
    assert staff_client.post(URL, data=theirs).status_code == 302
    mine["retention_days"] = ["100"]
    response = staff_client.post(URL, data=mine)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved these settings while you were editing" in page
    assert 'href="#min_group_size"' in page  # what they changed, linked to the field
    assert 'value="100"' in page  # my entry is kept
    q = questionnaire()
    assert (q.min_group_size, q.retention_days) == (12, 730)
    # Saving again, knowingly, goes through.
    again = settings_form(page)
    assert staff_client.post(URL, data=again).status_code == 302
    assert questionnaire().retention_days == 100


def test_base_language_is_fixed_once_there_are_responses(app, staff_client, client):
    # Without responses it may change to a complete language.
    response = post_settings(staff_client, base_language="en")
    assert response.status_code == 302
    assert questionnaire().base_language == "en" and questionnaire().languages[0] == "en"
    post_settings(staff_client, base_language="de")
    Respondent(client, SLUG).start()
    html = staff_client.get(URL).get_data(as_text=True)
    assert "It cannot change any more: there are responses." in html
    response = post_settings(staff_client, base_language="en")
    assert response.status_code == 422
    assert "The base language cannot change any more" in response.get_data(as_text=True)
    assert questionnaire().base_language == "de"


def test_base_language_only_changes_to_a_complete_language(app, staff_client):
    assert post_settings(staff_client, languages=["de", "en", "ar"]).status_code == 302
    response = post_settings(staff_client, base_language="ar")
    assert response.status_code == 422
    assert "every text is translated" in response.get_data(as_text=True)
    # Nor to a language offered in the same save.
    response = post_settings(staff_client, base_language="fr", languages=["de", "en", "fr"])
    assert response.status_code == 422
    assert questionnaire().base_language == "de"


def test_turning_anonymity_on_asks_then_anonymises(app, staff_client, client):
    q = questionnaire()
    q.is_anonymous = False
    db.session.commit()
    respondent = Respondent(client, SLUG)
    respondent.start()
    respondent.complete()
    response = db.session.scalars(sa.select(Response)).one()
    start_key = response.start_key
    confirm = post_settings(staff_client, is_anonymous="y")
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert "1 complete response has been collected." in html
    assert "This cannot be undone." in html
    assert not questionnaire().is_anonymous
    form = next(f for f in parse_forms(html) if f.method == "post" and f.action == URL)
    data = [(c.name, c.attrs.get("value", "")) for c in form.controls if c.type == "hidden"]
    from werkzeug.datastructures import MultiDict

    done = staff_client.post(URL, data=MultiDict(data))
    assert done.status_code == 302
    assert questionnaire().is_anonymous
    db.session.expire_all()
    response = db.session.get(Response, response.id)
    assert response.start_key != start_key
    assert response.submitted_at.hour == 0 and response.submitted_at.minute == 0
    assert [a for a, _t in actions()] == ["questionnaire.anonymise", "questionnaire.settings"]
    assert "1 complete responses were unlinked" in staff_client.get(URL).get_data(
        as_text=True)


def test_anonymity_cannot_be_turned_off_once_people_answered(app, staff_client, client):
    assert questionnaire().is_anonymous
    Respondent(client, SLUG).start()  # a draft, begun on the promise
    response = post_settings(staff_client, is_anonymous=None)  # the box unticked
    assert response.status_code == 422
    assert "stays anonymous" in response.get_data(as_text=True)
    assert questionnaire().is_anonymous


def test_anonymous_answers_keep_only_the_day_even_with_exact_times_chosen(app, client):
    q = questionnaire()
    q.coarse_timestamps = False
    db.session.commit()
    respondent = Respondent(client, SLUG)
    respondent.start()
    respondent.complete()
    sent = db.session.scalars(sa.select(Response)).one()
    assert (sent.submitted_at.hour, sent.submitted_at.minute, sent.submitted_at.second) == (
        0, 0, 0)


def change(client, action, **extra):
    html = client.get(URL).get_data(as_text=True)
    return client.post(f"{URL}/state", data={"csrf_token": csrf_token(html),
                                             "action": action, **extra})


def test_close_reopen_archive(app, staff_client):
    assert change(staff_client, "close").status_code == 302
    assert questionnaire().state is QuestionnaireState.CLOSED
    assert "Not accepting answers: the questionnaire is not open." in staff_client.get(
        URL).get_data(as_text=True)
    assert change(staff_client, "reopen").status_code == 302
    assert questionnaire().state is QuestionnaireState.OPEN
    change(staff_client, "close")
    asked = change(staff_client, "archive")
    assert asked.status_code == 200 and "This cannot be undone." in asked.get_data(as_text=True)
    assert questionnaire().state is QuestionnaireState.CLOSED
    unticked = change(staff_client, "archive", step="confirm")
    assert unticked.status_code == 422
    assert change(staff_client, "archive", step="confirm", confirm="y").status_code == 302
    assert questionnaire().state is QuestionnaireState.ARCHIVED
    assert [a for a, _t in actions()] == [
        "questionnaire.close", "questionnaire.reopen", "questionnaire.close",
        "questionnaire.archive"]
    assert all(target == SLUG for _a, target in actions())


@pytest.mark.parametrize(("state", "action"), [
    (QuestionnaireState.DRAFT, "close"), (QuestionnaireState.OPEN, "archive"),
    (QuestionnaireState.ARCHIVED, "reopen"), (QuestionnaireState.ARCHIVED, "close"),
    (QuestionnaireState.OPEN, "publish"), (QuestionnaireState.DRAFT, "reopen"),
])
def test_refused_transitions_get_a_message_not_an_error(app, staff_client, state, action):
    q = questionnaire()
    q.state = state
    db.session.commit()
    response = change(staff_client, action, confirm="y")
    assert response.status_code == 409
    assert "This change is not possible" in response.get_data(
        as_text=True)
    assert questionnaire().state is state and actions() == []
    # The settings form below the message shows the saved settings, not the button's post.
    assert settings_form(response.get_data(as_text=True))["retention_days"] == ["730"]


def log_in(app, email: str, role: Role):
    create_user(email, role, "a long enough password")
    db.session.commit()
    client = app.test_client()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    assert client.post("/staff/login", data={"csrf_token": token, "email": email,
                                             "password": "a long enough password"}
                       ).status_code == 302
    return client


def test_sharing_gives_and_removes_access(app, staff_client):
    builder = log_in(app, "builder@example.org", Role.BUILDER)
    assert builder.get(URL).status_code == 403
    html = staff_client.get(URL).get_data(as_text=True)
    shared = staff_client.post(f"{URL}/shares", data={"csrf_token": csrf_token(html),
                                                      "email": "builder@example.org"})
    assert shared.status_code == 302
    assert builder.get(URL).status_code == 200
    assert builder.get(f"/staff/results/{SLUG}").status_code == 200
    page = staff_client.get(URL).get_data(as_text=True)
    assert "builder@example.org can now work on this questionnaire." in page
    # The builder it is shared with may not share it further.
    other_page = builder.get(URL).get_data(as_text=True)
    assert "Only the owner of this questionnaire or an admin can share it." in other_page
    user_id = find_user("builder@example.org").id
    removed = staff_client.post(f"{URL}/shares/{user_id}/remove",
                                data={"csrf_token": csrf_token(page)})
    assert removed.status_code == 302
    assert builder.get(URL).status_code == 403
    # The account by id: an address would outlive a deleted account in the log.
    assert actions() == [("questionnaire.share", f"{SLUG}: user:{user_id}"),
                         ("questionnaire.unshare", f"{SLUG}: user:{user_id}")]


@pytest.mark.parametrize(("email", "role", "message"), [
    ("nobody@example.org", None, "There is no account with this e-mail address."),
    ("eve@example.org", Role.EVALUATOR, "This account is not a builder"),
])
def test_sharing_refuses_unknown_and_non_builders(app, staff_client, email, role, message):
    if role:
        create_user(email, role, "a long enough password")
        db.session.commit()
    html = staff_client.get(URL).get_data(as_text=True)
    response = staff_client.post(f"{URL}/shares", data={"csrf_token": csrf_token(html),
                                                         "email": email})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and f'value="{email}"' in page
    assert settings_form(page)["languages"] == ["de", "en"]
    assert actions() == []


def test_owner_builder_may_share(app):
    owner = log_in(app, "owner@example.org", Role.BUILDER)
    create_user("helper@example.org", Role.BUILDER, "a long enough password")
    q = questionnaire()
    q.owner_id = find_user("owner@example.org").id
    db.session.commit()
    html = owner.get(URL).get_data(as_text=True)
    response = owner.post(f"{URL}/shares", data={"csrf_token": csrf_token(html),
                                                  "email": "helper@example.org"})
    assert response.status_code == 302


def test_evaluators_and_interviewers_may_not_change_settings(app):
    for role in (Role.EVALUATOR, Role.INTERVIEWER):
        client = log_in(app, f"{role.value}@example.org", role)
        assert client.get(URL).status_code == 403
        assert client.get(f"/staff/questionnaires/{SLUG}/consent").status_code == 403


def test_the_list_links_settings_consent_and_translations(app, staff_client):
    html = staff_client.get("/staff/questionnaires/").get_data(as_text=True)
    assert f'href="{URL}"' in html
    assert f'href="/staff/questionnaires/{SLUG}/consent"' in html
    assert f'href="/staff/questionnaires/{SLUG}/translations/side-by-side"' in html


def test_double_clicks_are_harmless(app, staff_client):
    html = staff_client.get(URL).get_data(as_text=True)
    data = settings_form(html)
    data["min_group_size"] = ["9"]
    assert staff_client.post(URL, data=data).status_code == 302
    assert staff_client.post(URL, data=data).status_code == 302  # same revision, same values
    assert questionnaire().min_group_size == 9
    token = csrf_token(html)
    for _ in range(2):
        response = staff_client.post(f"{URL}/state", data={"csrf_token": token,
                                                           "action": "close"})
        assert response.status_code == 302
    create_user("builder@example.org", Role.BUILDER, "a long enough password")
    db.session.commit()
    for _ in range(2):
        response = staff_client.post(f"{URL}/shares", data={"csrf_token": token,
                                                            "email": "builder@example.org"})
        assert response.status_code == 302
    assert [a for a, _t in actions()] == ["questionnaire.settings", "questionnaire.close",
                                          "questionnaire.share"]


def test_a_questionnaire_without_content_yet_has_settings(app, staff_client):
    from surveyapp.questionnaires.models import Questionnaire

    db.session.add(Questionnaire(slug="blank", base_language="de", languages=["de"]))
    db.session.commit()
    url = "/staff/questionnaires/blank/settings"
    assert staff_client.get(url).status_code == 200
    html = staff_client.get(url).get_data(as_text=True)
    data = settings_form(html)
    data["languages"] = ["de", "fr"]
    data["base_language"] = ["fr"]
    assert staff_client.post(url, data=data).status_code == 302
    assert get_by_slug("blank").languages == ["fr", "de"]
    assert staff_client.get("/staff/questionnaires/blank/consent").status_code == 200


def test_pages_have_unique_ids(app, staff_client):
    for url in (URL, f"/staff/questionnaires/{SLUG}/consent",
                f"/staff/questionnaires/{SLUG}/translations/side-by-side", "/staff/audit/"):
        html = staff_client.get(url).get_data(as_text=True)
        ids = re.findall(r'\sid="([^"]+)"', html)
        assert len(ids) == len(set(ids)), (url, [i for i in ids if ids.count(i) > 1])
        for target in re.findall(r'(?:for|aria-describedby)="([^"]+)"', html):
            for part in target.split():
                assert part in ids, (url, part)
