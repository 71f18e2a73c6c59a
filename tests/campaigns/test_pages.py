"""The campaign pages: the call screen, interviewer mode end to end, supervision, permissions."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from surveyapp.accounts.models import Role
from surveyapp.campaigns import services
from surveyapp.campaigns.models import CallAttempt, CallEntry, CallOutcome, EntryStatus
from surveyapp.consent.models import ConsentRecord
from surveyapp.db import db, utcnow
from surveyapp.questionnaires.services import get_by_slug, share
from surveyapp.responses.models import Channel, Response, ResponseStatus
from tests.campaigns.conftest import SLUG, log_in, make_user
from tests.conftest import hidden_values
from tests.formfiller import parse_forms
from tests.respondent import Respondent


def form_values(html: str, action_part: str) -> dict[str, str]:
    """The hidden inputs of the POST form whose action contains ``action_part``."""
    form = next(f for f in parse_forms(html)
                if f.method == "post" and action_part in (f.action or ""))
    return {c.name: c.attrs.get("value", "") for c in form.controls if c.type == "hidden"}


def _outcome(client, campaign, entry_id, outcome, **extra):
    page = client.get(f"/staff/campaigns/{campaign.id}/next").get_data(as_text=True)
    data = form_values(page, "/outcome")
    data.update(outcome=outcome, **extra)
    return client.post(f"/staff/campaigns/{campaign.id}/entries/{entry_id}/outcome", data=data)


def _held(campaign, user) -> CallEntry:
    db.session.expire_all()
    return services.held_entry(campaign, user)


def test_interviewer_lands_on_their_call_lists_and_sees_only_theirs(app, campaign_with):
    caller = make_user("caller@example.org")
    other = make_user("other@example.org")
    mine = campaign_with(1, [caller])
    theirs = campaign_with(1, [other])
    theirs.name = "Fremde Kampagne"
    db.session.commit()
    client = log_in(app, "caller@example.org")
    assert client.landing.endswith("/staff/campaigns/mine")
    html = client.get("/staff/campaigns/mine").get_data(as_text=True)
    assert "Neue Mitglieder anrufen" in html and "Fremde Kampagne" not in html
    assert client.get(f"/staff/campaigns/{mine.id}/next").status_code == 200
    assert client.get(f"/staff/campaigns/{theirs.id}/next").status_code == 403
    assert client.post(f"/staff/campaigns/{theirs.id}/next",
                       data={"csrf_token": client.csrf}).status_code == 403
    # Nothing else: no questionnaires, no supervision, no results.
    for url in ("/staff/questionnaires/", "/staff/campaigns/", f"/staff/campaigns/{mine.id}",
                f"/staff/results/{SLUG}"):
        assert client.get(url).status_code == 403, url
    assert "/staff/questionnaires/" not in client.get("/staff/campaigns/mine").get_data(
        as_text=True)


def test_supervision_needs_the_questionnaire(app, campaign_with):
    campaign = campaign_with(1)
    builder = make_user("builder@example.org", Role.BUILDER)
    make_user("evaluator@example.org", Role.EVALUATOR)
    db.session.commit()
    client = log_in(app, "builder@example.org")
    assert client.get(f"/staff/campaigns/{campaign.id}").status_code == 403
    assert "Neue Mitglieder" not in client.get("/staff/campaigns/").get_data(as_text=True)
    share(get_by_slug(SLUG), builder)
    db.session.commit()
    assert client.get(f"/staff/campaigns/{campaign.id}").status_code == 200
    assert "Neue Mitglieder" in client.get("/staff/campaigns/").get_data(as_text=True)
    # Builders supervise but do not call.
    assert client.get(f"/staff/campaigns/{campaign.id}/next").status_code == 403
    evaluator = log_in(app, "evaluator@example.org")
    assert evaluator.get(f"/staff/campaigns/{campaign.id}").status_code == 403
    assert evaluator.get("/staff/campaigns/mine").status_code == 403


def test_creating_a_campaign_and_assigning_interviewers(app, staff_client):
    caller = make_user("caller@example.org")
    db.session.commit()
    questionnaire = get_by_slug(SLUG)
    listing = staff_client.get("/staff/questionnaires/").get_data(as_text=True)
    assert f'href="/staff/campaigns/new?questionnaire={SLUG}"' in listing
    page = staff_client.get(f"/staff/campaigns/new?questionnaire={SLUG}")
    assert page.status_code == 200
    assert f'<option selected value="{questionnaire.id}">{SLUG}</option>' in page.get_data(
        as_text=True)
    data = {**form_values(page.get_data(as_text=True), "new"), "questionnaire_id": questionnaire.id,
            "name": "", "script": "Guten Tag", "max_attempts": "3", "retry_minutes": "30",
            "interviewers": str(caller.id)}
    refused = staff_client.post("/staff/campaigns/new", data=data)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'href="#name"' in html and "Guten Tag" in html  # what was typed is kept
    assert db.session.scalar(sa.select(sa.func.count()).select_from(services.Campaign)) == 0
    data["name"] = "Ausgetretene anrufen"
    created = staff_client.post("/staff/campaigns/new", data=data)
    assert created.status_code == 302
    campaign = db.session.scalar(sa.select(services.Campaign))
    assert (campaign.name, campaign.max_attempts, campaign.retry_minutes) == (
        "Ausgetretene anrufen", 3, 30)
    assert [u.email for u in campaign.interviewers] == ["caller@example.org"]
    show = staff_client.get(created.headers["Location"])
    assert show.status_code == 200
    token = hidden_values(show.get_data(as_text=True))["csrf_token"]
    staff_client.post(f"/staff/campaigns/{campaign.id}/interviewers",
                      data={"csrf_token": token})
    db.session.expire_all()
    assert campaign.interviewers == []


def test_pressing_create_campaign_twice_leads_to_the_first_campaign(app, staff_client):
    questionnaire = get_by_slug(SLUG)
    page = staff_client.get("/staff/campaigns/new").get_data(as_text=True)
    data = {**form_values(page, "new"), "questionnaire_id": questionnaire.id,
            "name": "Ausgetretene anrufen", "script": "", "max_attempts": "3",
            "retry_minutes": "30"}
    assert len(data["form_key"]) >= 16  # each form carries its own random key
    first = staff_client.post("/staff/campaigns/new", data=data)
    second = staff_client.post("/staff/campaigns/new", data=data)
    assert first.status_code == second.status_code == 302
    campaigns = list(db.session.scalars(sa.select(services.Campaign)))
    assert len(campaigns) == 1
    assert first.headers["Location"] == second.headers["Location"] == (
        f"/staff/campaigns/{campaigns[0].id}")
    # A new form (a new key) makes a new campaign, even with the same name.
    page = staff_client.get("/staff/campaigns/new").get_data(as_text=True)
    data["form_key"] = form_values(page, "new")["form_key"]
    assert staff_client.post("/staff/campaigns/new", data=data).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(services.Campaign)) == 2


def test_call_screen_outcomes_and_double_press(app, campaign_with):
    caller = make_user("caller@example.org")
    campaign = campaign_with(3, [caller], retry_minutes=0)
    db.session.commit()
    client = log_in(app, "caller@example.org")
    screen = client.get(f"/staff/campaigns/{campaign.id}/next").get_data(as_text=True)
    assert "Next person" in screen and "tel:" not in screen
    client.post(f"/staff/campaigns/{campaign.id}/next", data={"csrf_token": client.csrf})
    screen = client.get(f"/staff/campaigns/{campaign.id}/next").get_data(as_text=True)
    assert 'href="tel:+491700000000"' in screen and "Person 0" in screen
    assert "English" in screen  # the person's language by name
    # The script is plain text: markup in it is shown, never run.
    assert "Hallo &lt;b&gt;{name}&lt;/b&gt;!" in screen
    first = _held(campaign, caller)

    # A call back without a time: 422, nothing stored, the note typed is kept.
    refused = _outcome(client, campaign, first.id, "callback", note="Nach 18 Uhr")
    assert refused.status_code == 422
    assert "Nach 18 Uhr" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CallAttempt)) == 0

    # A call back tomorrow (local time): recorded once, even if the button is pressed twice.
    when = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    data = {**form_values(screen, "/outcome"), "outcome": "callback", "callback_at": when}
    url = f"/staff/campaigns/{campaign.id}/entries/{first.id}/outcome"
    assert client.post(url, data=data).status_code == 302
    assert client.post(url, data=data).status_code == 302
    db.session.expire_all()
    assert [c.outcome for c in db.session.get(CallEntry, first.id).calls] == [
        CallOutcome.CALLBACK]
    second = _held(campaign, caller)
    assert second.id != first.id  # the next person was handed out at once
    assert _outcome(client, campaign, second.id, "refused").status_code == 302
    third = _held(campaign, caller)
    assert _outcome(client, campaign, third.id, "no_answer").status_code == 302
    db.session.expire_all()
    assert db.session.get(CallEntry, second.id).status is EntryStatus.REFUSED
    assert db.session.get(CallEntry, first.id).is_callback
    # Taking a break gives the person back.
    again = _held(campaign, caller)
    assert again.id == third.id  # no pause configured: the unanswered person comes again
    client.post(f"/staff/campaigns/{campaign.id}/entries/{again.id}/release",
                data={"csrf_token": client.csrf})
    assert _held(campaign, caller) is None


def test_interviewer_mode_records_phone_consent_and_answers(app, campaign_with):
    get_by_slug(SLUG).is_anonymous = False  # anonymous ones forget the interviewer: below
    caller = make_user("caller@example.org")
    campaign = campaign_with(1, [caller])
    db.session.commit()
    client = log_in(app, "caller@example.org")
    client.post(f"/staff/campaigns/{campaign.id}/next", data={"csrf_token": client.csrf})
    entry = _held(campaign, caller)
    reached = _outcome(client, campaign, entry.id, "reached")
    interview_url = f"/staff/campaigns/{campaign.id}/entries/{entry.id}/interview"
    assert reached.headers["Location"].endswith(interview_url)
    # A second press of "reached" records nothing more and leads to the same interview.
    again = client.post(f"/staff/campaigns/{campaign.id}/entries/{entry.id}/outcome",
                        data={"csrf_token": client.csrf, "attempts": "0",
                              "outcome": "reached"})
    assert again.headers["Location"].endswith(interview_url)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CallAttempt)) == 1

    page = client.get(interview_url)
    html = page.get_data(as_text=True)
    assert "Please read this text aloud" in html and "This survey is run by" in html
    form = form_values(html, "/interview")
    no_consent = client.post(interview_url, data=form)
    assert no_consent.status_code == 422 and db.session.scalar(
        sa.select(sa.func.count()).select_from(Response).where(
            Response.channel == Channel.PHONE)) == 0
    started = client.post(interview_url, data=MultiDict(
        [*form.items(), ("consent", "y"), ("purpose", "contact")]))
    assert started.status_code == 302
    assert "/s/clubs-inclusion/r/" in started.headers["Location"]
    assert "resume_" not in started.headers.get("Set-Cookie", "")
    response = db.session.scalar(sa.select(Response).where(Response.channel == Channel.PHONE))
    assert (response.interviewer_id, response.unit_id, response.language) == (
        caller.id, entry.unit_id, "en")
    record = db.session.scalar(sa.select(ConsentRecord).filter_by(response_id=response.id))
    assert (record.channel, record.interviewer_id) == ("phone", caller.id)
    assert set(record.purposes) == {"answers", "contact"}

    # The normal page flow, in the interviewer's browser, to the end.
    interview = Respondent(client, SLUG, "en")
    interview.url = started.headers["Location"]
    done = interview.complete()
    assert "Back to the call list" in done
    db.session.expire_all()
    response = db.session.get(Response, response.id)
    assert response.status is ResponseStatus.COMPLETE and response.channel is Channel.PHONE
    assert response.interviewer_id == caller.id
    back = client.get("/staff/campaigns/back")
    assert back.headers["Location"].endswith(f"/staff/campaigns/{campaign.id}/next")
    db.session.expire_all()
    entry = db.session.get(CallEntry, entry.id)
    assert entry.status is EntryStatus.COMPLETED and entry.claimed_by is None
    # The entry names no response: the call entry's columns hold no way to the answers.
    assert not any("response" in column.name for column in CallEntry.__table__.columns)
    # Nothing in the interviewer's browser leads back to the answers any more.
    assert "Back to the call list" not in client.get(interview.url).get_data(as_text=True)
    assert client.get("/staff/campaigns/back").headers["Location"].endswith("/mine")


def test_unfinished_interview_is_offered_to_continue(app, campaign_with):
    caller = make_user("caller@example.org")
    campaign = campaign_with(2, [caller])
    db.session.commit()
    client = log_in(app, "caller@example.org")
    client.post(f"/staff/campaigns/{campaign.id}/next", data={"csrf_token": client.csrf})
    entry = _held(campaign, caller)
    _outcome(client, campaign, entry.id, "reached")
    url = f"/staff/campaigns/{campaign.id}/entries/{entry.id}/interview"
    form = form_values(client.get(url).get_data(as_text=True), "/interview")
    started = client.post(url, data={**form, "consent": "y"})
    back = client.get("/staff/campaigns/back")
    assert back.headers["Location"] == started.headers["Location"].rsplit("/", 1)[0] + "/"
    screen = client.get(f"/staff/campaigns/{campaign.id}/next").get_data(as_text=True)
    assert "Continue the interview" in screen
    assert "without a finished interview" not in screen  # it is the one to continue


def test_reached_person_without_interview_is_offered_until_an_outcome(app, campaign_with):
    caller = make_user("caller@example.org")
    campaign = campaign_with(2, [caller])
    db.session.commit()
    client = log_in(app, "caller@example.org")
    client.post(f"/staff/campaigns/{campaign.id}/next", data={"csrf_token": client.csrf})
    entry = _held(campaign, caller)
    _outcome(client, campaign, entry.id, "reached")
    # The interviewer leaves the consent page (the person hung up) and comes back later.
    screen = client.get(f"/staff/campaigns/{campaign.id}/next").get_data(as_text=True)
    interview_url = f"/staff/campaigns/{campaign.id}/entries/{entry.id}/interview"
    assert "without a finished interview" in screen and interview_url in screen
    page = client.get(interview_url).get_data(as_text=True)
    data = {**form_values(page, "/outcome"), "outcome": "callback",
            "callback_at": (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")}
    assert client.post(f"/staff/campaigns/{campaign.id}/entries/{entry.id}/outcome",
                       data=data).status_code == 302
    db.session.expire_all()
    entry = db.session.get(CallEntry, entry.id)
    assert (entry.status, entry.is_callback, entry.attempts) == (EntryStatus.OPEN, True, 2)
    assert "without a finished interview" not in client.get(
        f"/staff/campaigns/{campaign.id}/next").get_data(as_text=True)


def test_supervisor_view_shows_outcomes(app, staff_client, campaign_with):
    anna = make_user("anna@example.org")
    campaign = campaign_with(3, [anna])
    for outcome in (CallOutcome.REFUSED, CallOutcome.NO_ANSWER):
        entry = services.claim_next(campaign, anna)
        services.record_outcome(entry, anna, outcome, seen_attempts=0)
    entry = services.claim_next(campaign, anna)
    services.record_outcome(entry, anna, CallOutcome.CALLBACK, seen_attempts=0,
                            callback_at=utcnow() + timedelta(hours=1))
    db.session.commit()
    html = staff_client.get(f"/staff/campaigns/{campaign.id}").get_data(as_text=True)
    table = re.search(r"<caption>anna@example.org</caption>(.*?)</table>", html, re.S).group(1)
    assert re.findall(r'<td class="number">(\d+)</td>', table) == [
        "0", "1", "1", "0", "1", "0", "3"]
    assert "Call backs" in html and "Person 2" in html


def test_a_lapsed_claim_taken_by_another_records_nothing(app, campaign_with):
    anna, ben = make_user("anna@example.org"), make_user("ben@example.org")
    campaign = campaign_with(1, [anna, ben])
    db.session.commit()
    client = log_in(app, "anna@example.org")
    client.post(f"/staff/campaigns/{campaign.id}/next", data={"csrf_token": client.csrf})
    screen = client.get(f"/staff/campaigns/{campaign.id}/next").get_data(as_text=True)
    entry = _held(campaign, anna)
    # Too long a note: 422, the screen again with the note kept.
    data = {**form_values(screen, "/outcome"), "outcome": "no_answer", "note": "x" * 2001}
    url = f"/staff/campaigns/{campaign.id}/entries/{entry.id}/outcome"
    too_long = client.post(url, data=data)
    assert too_long.status_code == 422 and 'href="#note"' in too_long.get_data(as_text=True)
    # Anna's claim lapses during a long call and Ben takes the person.
    services.claim_next(campaign, ben, utcnow() + timedelta(minutes=campaign.claim_minutes + 1))
    db.session.commit()
    data["note"] = ""
    after = client.post(url, data=data, follow_redirects=True)
    assert "given to another interviewer" in after.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CallAttempt)) == 0


def test_anonymous_interview_keeps_no_interviewer_after_submission(app, campaign_with):
    questionnaire = get_by_slug(SLUG)
    questionnaire.is_anonymous = True
    caller = make_user("caller@example.org")
    campaign = campaign_with(1, [caller])
    db.session.commit()
    client = log_in(app, "caller@example.org")
    client.post(f"/staff/campaigns/{campaign.id}/next", data={"csrf_token": client.csrf})
    entry = _held(campaign, caller)
    _outcome(client, campaign, entry.id, "reached")
    interview_url = f"/staff/campaigns/{campaign.id}/entries/{entry.id}/interview"
    form = form_values(client.get(interview_url).get_data(as_text=True), "/interview")
    started = client.post(interview_url, data=MultiDict(
        [*form.items(), ("consent", "y"), ("purpose", "contact")]))
    interview = Respondent(client, SLUG, "en")
    interview.url = started.headers["Location"]
    interview.complete()
    db.session.expire_all()
    response = db.session.scalar(sa.select(Response).where(Response.channel == Channel.PHONE))
    assert response.status is ResponseStatus.COMPLETE
    # The call list says this interviewer reached this person; the answers must not say who
    # asked them, or they would name the person.
    assert response.interviewer_id is None
    record = db.session.scalar(sa.select(ConsentRecord).filter_by(response_id=response.id))
    assert (record.channel, record.interviewer_id) == ("phone", None)
