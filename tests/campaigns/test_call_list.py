"""Call lists: who is on them, in which order people come, and where each outcome leaves them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from surveyapp.accounts.models import Unit, UnitKind
from surveyapp.campaigns import services
from surveyapp.campaigns.models import CallAttempt, CallEntry, CallOutcome, EntryStatus
from surveyapp.db import db, utcnow
from surveyapp.fieldwork.models import Contact, Invitation
from tests.campaigns.conftest import make_user


def _units():
    region = Unit(code="test-region", name="Testregion", kind=UnitKind.REGION)
    db.session.add(region)
    db.session.flush()
    chapter = Unit(code="test-chapter", name="Testortsgruppe", kind=UnitKind.CHAPTER,
                   parent_id=region.id)
    other = Unit(code="test-other", name="Andere Region", kind=UnitKind.REGION)
    db.session.add_all([chapter, other])
    db.session.flush()
    return region, chapter, other


def _contact(questionnaire, name, phone, unit=None, **extra):
    contact = Contact(questionnaire_id=questionnaire.id, name=name, phone=phone,
                      unit_id=unit.id if unit else None, language="en", **extra)
    db.session.add(contact)
    db.session.flush()
    return contact


def test_call_list_from_contacts_skips_do_not_contact_and_missing_phones(app, questionnaire):
    region, chapter, other = _units()
    a = _contact(questionnaire, "Amal", "+491700000001", region)
    b = _contact(questionnaire, "Bashir", "+491700000002", chapter)
    _contact(questionnaire, "Chiara", "+491700000003", other)
    _contact(questionnaire, "Dana", "+491700000004", region, do_not_contact=True)
    _contact(questionnaire, "Emre", None, region, email="emre@example.org")
    campaign = services.create_campaign(questionnaire, name="Regionen")

    # A region brings its chapters; the other region stays out.
    assert services.build_call_list(campaign, unit_ids=[region.id]) == 2
    entries = db.session.scalars(sa.select(CallEntry).filter_by(campaign_id=campaign.id)
                                 .order_by(CallEntry.id)).all()
    assert [(e.contact_id, e.name, e.phone, e.language, e.unit_id) for e in entries] == [
        (a.id, "Amal", "+491700000001", "en", region.id),
        (b.id, "Bashir", "+491700000002", "en", chapter.id)]
    assert all(e.status is EntryStatus.OPEN and e.attempts == 0 for e in entries)
    # Building again for all units adds only who is missing, never twice.
    assert services.build_call_list(campaign) == 1
    assert services.build_call_list(campaign) == 0
    assert services.campaign_progress(campaign)["total"] == 3


def test_call_list_from_unanswered_invitations(app, questionnaire):
    questionnaire.is_anonymous = False  # anonymous ones never list people by answer (below)
    answered = _contact(questionnaire, "Answered", "+491700000011")
    waiting = _contact(questionnaire, "Waiting", "+491700000012")
    _contact(questionnaire, "Never invited", "+491700000013")
    later = utcnow() + timedelta(days=30)
    for contact, used in ((answered, utcnow()), (waiting, None)):
        db.session.add(Invitation(questionnaire_id=questionnaire.id, contact_id=contact.id,
                                  nonce=f"n{contact.id}", token_digest=f"d{contact.id}",
                                  expires_at=later, used_at=used))
    db.session.flush()
    campaign = services.create_campaign(questionnaire, name="Erinnern")
    assert services.build_call_list(campaign, source=services.ListSource.INVITATIONS) == 1
    assert db.session.scalar(sa.select(CallEntry.name).filter_by(campaign_id=campaign.id)) \
        == "Waiting"


def test_callback_comes_back_at_its_time_and_not_before_and_comes_first(app, campaign_with):
    caller = make_user("caller@example.org")
    campaign = campaign_with(2, [caller], retry_minutes=180)
    now = utcnow()
    first = services.claim_next(campaign, caller, now)
    assert first.name == "Person 0"
    at = now + timedelta(hours=2)
    assert services.record_outcome(first, caller, CallOutcome.CALLBACK, seen_attempts=0,
                                   callback_at=at, now=now)
    second = services.claim_next(campaign, caller, now)
    assert second.name == "Person 1"
    assert services.record_outcome(second, caller, CallOutcome.NO_ANSWER, seen_attempts=0,
                                   now=now)
    # Before its time the call back is not offered (and Person 1 waits for the retry pause).
    assert services.claim_next(campaign, caller, at - timedelta(minutes=1)) is None
    # Once due it comes first, before Person 1 whose pause is over too.
    due = services.claim_next(campaign, caller, now + timedelta(hours=4))
    assert due.id == first.id and due.is_callback and due.attempts == 1
    assert services.due_callbacks(campaign)[0].id == first.id


def test_callback_needs_a_time_in_the_future(app, campaign_with):
    caller = make_user("caller@example.org")
    campaign = campaign_with(1, [caller])
    entry = services.claim_next(campaign, caller)
    for when in (None, utcnow() - timedelta(minutes=5)):
        with pytest.raises(services.OutcomeRefused):
            services.record_outcome(entry, caller, CallOutcome.CALLBACK, seen_attempts=0,
                                    callback_at=when)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CallAttempt)) == 0


@pytest.mark.parametrize("outcome, status", [
    (CallOutcome.REFUSED, EntryStatus.REFUSED),
    (CallOutcome.DO_NOT_CALL, EntryStatus.DO_NOT_CALL),
    (CallOutcome.WRONG_NUMBER, EntryStatus.WRONG_NUMBER),
])
def test_final_outcomes_leave_the_list(app, questionnaire, outcome, status):
    caller = make_user("caller@example.org")
    contact = _contact(questionnaire, "Farid", "+491700000021")
    campaign = services.create_campaign(questionnaire, name="Ende", interviewer_ids=[caller.id])
    services.build_call_list(campaign)
    entry = services.claim_next(campaign, caller)
    assert services.record_outcome(entry, caller, outcome, seen_attempts=0, note="  ok ")
    assert entry.status is status and entry.claimed_by is None
    assert services.claim_next(campaign, caller, utcnow() + timedelta(days=400)) is None
    db.session.refresh(contact)
    # Only "do not call again" marks the contact for every future list and mailing.
    assert contact.do_not_contact is (outcome is CallOutcome.DO_NOT_CALL)
    assert services.campaign_progress(campaign)["done"] == 1
    [call] = entry.calls
    assert (call.outcome, call.interviewer_id, call.number, call.note) == (
        outcome, caller.id, 1, "ok")


def test_attempts_are_counted_and_capped(app, campaign_with):
    caller = make_user("caller@example.org")
    campaign = campaign_with(1, [caller], max_attempts=3, retry_minutes=0)
    moment = utcnow()
    for seen in range(3):
        entry = services.claim_next(campaign, caller, moment)
        assert entry is not None and entry.attempts == seen
        assert services.record_outcome(entry, caller, CallOutcome.NO_ANSWER,
                                       seen_attempts=seen, now=moment)
        moment += timedelta(seconds=1)
    assert entry.status is EntryStatus.EXHAUSTED and entry.attempts == 3
    assert services.claim_next(campaign, caller, moment + timedelta(days=1)) is None
    assert services.campaign_progress(campaign)["by_outcome"]["no_answer"] == 3


def test_a_second_press_records_nothing(app, campaign_with):
    caller = make_user("caller@example.org")
    campaign = campaign_with(2, [caller])
    entry = services.claim_next(campaign, caller)
    assert services.record_outcome(entry, caller, CallOutcome.NO_ANSWER, seen_attempts=0)
    services.claim_next(campaign, caller)
    assert not services.record_outcome(entry, caller, CallOutcome.NO_ANSWER, seen_attempts=0)
    assert not services.record_outcome(entry, caller, CallOutcome.REFUSED, seen_attempts=0)
    assert entry.attempts == 1 and entry.status is EntryStatus.OPEN
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CallAttempt)) == 1


def test_only_the_holder_records_and_an_abandoned_claim_returns(app, campaign_with):
    anna, ben = make_user("anna@example.org"), make_user("ben@example.org")
    campaign = campaign_with(1, [anna, ben])
    now = utcnow()
    held = services.claim_next(campaign, anna, now)
    assert services.claim_next(campaign, ben, now) is None
    assert not services.record_outcome(held, ben, CallOutcome.REFUSED, seen_attempts=0)
    # Asking again keeps Anna's person with her.
    assert services.claim_next(campaign, anna, now).id == held.id
    later = now + timedelta(minutes=campaign.claim_minutes + 1)
    assert services.claim_next(campaign, ben, later).id == held.id
    assert services.held_entry(campaign, anna, later) is None
    assert services.release(held, ben)
    assert services.claim_next(campaign, anna, later).id == held.id


def test_progress_counts_and_calls_reached(app, campaign_with):
    anna, ben = make_user("anna@example.org"), make_user("ben@example.org")
    campaign = campaign_with(3, [anna, ben])
    now = utcnow()
    first = services.claim_next(campaign, anna, now)
    services.record_outcome(first, anna, CallOutcome.REACHED, seen_attempts=0, now=now)
    second = services.claim_next(campaign, ben, now)
    services.record_outcome(second, ben, CallOutcome.REFUSED, seen_attempts=0, now=now)
    third = services.claim_next(campaign, ben, now)
    services.record_outcome(third, ben, CallOutcome.NO_ANSWER, seen_attempts=0, now=now)
    assert services.finish_interview(first, anna)
    progress = services.campaign_progress(campaign)
    assert (progress["total"], progress["done"], progress["remaining"],
            progress["completed"], progress["reached"]) == (3, 2, 1, 1, 1)
    lines = {line["email"]: line for line in services.progress_by_interviewer(campaign)}
    assert (lines["anna@example.org"]["reached"], lines["anna@example.org"]["total"]) == (1, 1)
    assert (lines["ben@example.org"]["refused"], lines["ben@example.org"]["no_answer"],
            lines["ben@example.org"]["total"]) == (1, 1, 2)
    unit_id = first.unit_id
    assert services.calls_reached([unit_id], now - timedelta(minutes=1),
                                  now + timedelta(minutes=1)) == 1
    assert services.calls_reached([unit_id], now.date(), now.date()) == 1
    assert services.calls_reached([unit_id], date(2020, 1, 1), date(2020, 12, 31)) == 0
    assert services.calls_reached([], now.date(), now.date()) == 0


def test_erasing_a_contact_erases_them_from_call_lists(app, questionnaire):
    from surveyapp.fieldwork.services import erase_contact

    caller = make_user("caller@example.org")
    contact = _contact(questionnaire, "Gül", "+491700000031")
    campaign = services.create_campaign(questionnaire, name="Löschen",
                                        interviewer_ids=[caller.id])
    services.build_call_list(campaign)
    entry = services.claim_next(campaign, caller)
    services.record_outcome(entry, caller, CallOutcome.NO_ANSWER, seen_attempts=0)
    erase_contact(contact)
    db.session.flush()
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CallEntry)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CallAttempt)) == 0


def test_anonymous_questionnaires_never_list_who_has_not_answered(app, questionnaire,
                                                                 staff_client):
    questionnaire.is_anonymous = True
    campaign = services.create_campaign(questionnaire, name="Anonym")
    db.session.commit()
    with pytest.raises(ValueError):
        services.build_call_list(campaign, source=services.ListSource.INVITATIONS)
    page = staff_client.get(f"/staff/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'value="contacts"' in page and 'value="invitations"' not in page
