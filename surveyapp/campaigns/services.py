"""Verbs of phone campaigns. They flush; the view commits once per request."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from surveyapp.accounts.models import Role, Unit, User
from surveyapp.audit.models import AuditEntry
from surveyapp.audit.services import record
from surveyapp.campaigns.models import (
    ACTIVE_STATUSES,
    CallAttempt,
    CallEntry,
    CallOutcome,
    Campaign,
    EntryStatus,
    campaign_interviewers,
)
from surveyapp.db import db, utcnow
from surveyapp.fieldwork.models import Contact
from surveyapp.fieldwork.services import contacts_for, invitation_lines
from surveyapp.questionnaires.models import Questionnaire
from surveyapp.questionnaires.services import list_questionnaires, may_work_on
from surveyapp.responses.models import Channel, Response
from surveyapp.responses.services import start_response

#: How many times a claim is retried when another interviewer took the same person first.
CLAIM_TRIES = 8

#: Where each outcome leaves the person (no answer depends on the attempts made).
STATUS_AFTER = {
    CallOutcome.REACHED: EntryStatus.INTERVIEWING,
    CallOutcome.CALLBACK: EntryStatus.OPEN,
    CallOutcome.WRONG_NUMBER: EntryStatus.WRONG_NUMBER,
    CallOutcome.REFUSED: EntryStatus.REFUSED,
    CallOutcome.DO_NOT_CALL: EntryStatus.DO_NOT_CALL,
}

#: Outcomes that may still follow a "reached" call: the person broke off or did not consent.
AFTER_REACHED = frozenset({CallOutcome.CALLBACK, CallOutcome.REFUSED, CallOutcome.DO_NOT_CALL})


class OutcomeRefused(ValueError):
    """An outcome could not be recorded; ``reason`` names why (shown translated by the view)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Person:
    """Someone to put on a call list."""

    name: str
    phone: str
    language: str | None = None
    unit_id: int | None = None
    contact_id: int | None = None


# --- who may see what -------------------------------------------------------------------------

def may_supervise(user, campaign: Campaign) -> bool:
    """Admins, and builders who may work on the campaign's questionnaire."""
    if user.role is Role.ADMIN:
        return True
    return user.role is Role.BUILDER and may_work_on(user, campaign.questionnaire)


def may_call(user, campaign: Campaign) -> bool:
    """Admins, and interviewers assigned to the campaign."""
    if user.role is Role.ADMIN:
        return True
    return user.role is Role.INTERVIEWER and bool(db.session.scalar(
        sa.select(sa.func.count()).select_from(campaign_interviewers).where(
            campaign_interviewers.c.campaign_id == campaign.id,
            campaign_interviewers.c.user_id == user.id)))


def supervised_campaigns(user) -> list[Campaign]:
    """The campaigns ``user`` may supervise, newest first."""
    ids = [q.id for q in list_questionnaires(user)]
    return list(db.session.scalars(
        sa.select(Campaign).where(Campaign.questionnaire_id.in_(ids))
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())))


def assigned_campaigns(user) -> list[Campaign]:
    """The campaigns ``user`` calls for (admins: all), newest first."""
    statement = sa.select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    if user.role is not Role.ADMIN:
        statement = statement.join(
            campaign_interviewers, campaign_interviewers.c.campaign_id == Campaign.id
        ).where(campaign_interviewers.c.user_id == user.id)
    return list(db.session.scalars(statement))


def unit_choices() -> list[Unit]:
    """Every unit, by name, to narrow a call list."""
    return list(db.session.scalars(sa.select(Unit).order_by(Unit.name)))


def interviewer_accounts() -> list[User]:
    """Active accounts with the interviewer role, to assign to campaigns."""
    return list(db.session.scalars(
        sa.select(User).where(User.role == Role.INTERVIEWER, User.is_active_account)
        .order_by(User.email)))


# --- building a campaign ----------------------------------------------------------------------

def create_campaign(questionnaire: Questionnaire, *, name: str, script: str = "",
                    max_attempts: int = 5, retry_minutes: int = 60,
                    created_by: int | None = None,
                    interviewer_ids: Iterable[int] = (),
                    form_key: str | None = None) -> Campaign:
    """A new campaign for ``questionnaire`` with its interviewers and an empty call list."""
    campaign = Campaign(questionnaire_id=questionnaire.id, name=name.strip(), script=script,
                        max_attempts=max_attempts, retry_minutes=retry_minutes,
                        created_by=created_by)
    db.session.add(campaign)
    db.session.flush()
    assign_interviewers(campaign, interviewer_ids)
    key = f" key:{form_key}" if form_key and FORM_KEY.match(form_key) else ""
    record(created_by, "campaign.create", f"{questionnaire.slug}: campaign {campaign.id}{key}")
    return campaign


#: What the new-campaign form sends (``secrets.token_urlsafe(24)``); short enough for the log.
FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,32}$")


def already_created(user_id: int, form_key: str | None) -> Campaign | None:
    """The campaign this person already created with this form, if any.

    Like the builder's start key: each new-campaign form carries a random key, written with
    the creation to the audit log (a unique column would need a migration, and the log is
    written in the same transaction anyway). A second press of the same form (a double
    click, a slow network) finds the first campaign instead of making a second. The person's
    row is locked first (PostgreSQL; SQLite's writers queue anyway), so that two presses are
    checked one after the other and the second sees the first's committed log entry.
    """
    if not form_key or not FORM_KEY.match(form_key):
        return None
    db.session.execute(sa.select(User.id).where(User.id == user_id).with_for_update())
    target = db.session.scalar(
        sa.select(AuditEntry.target).where(
            AuditEntry.user_id == user_id, AuditEntry.action == "campaign.create",
            AuditEntry.target.like(f"% key:{form_key}")))
    if target is None:
        return None
    campaign_id = target.rsplit(" key:", 1)[0].rsplit(" ", 1)[1]
    return db.session.get(Campaign, int(campaign_id))


def assign_interviewers(campaign: Campaign, user_ids: Iterable[int]) -> None:
    """Make exactly these interviewer accounts the campaign's callers (others are ignored)."""
    wanted = set(user_ids)
    campaign.interviewers = [u for u in interviewer_accounts() if u.id in wanted]
    db.session.flush()


def add_people(campaign: Campaign, people: Iterable[Person]) -> int:
    """Put people on the call list; a phone number already on it is skipped. Return how many."""
    known = set(db.session.scalars(
        sa.select(CallEntry.phone).where(CallEntry.campaign_id == campaign.id)))
    rows = []
    for person in people:
        phone = (person.phone or "").strip()
        if not phone or phone in known:
            continue
        known.add(phone)
        rows.append({"campaign_id": campaign.id, "contact_id": person.contact_id,
                     "name": person.name.strip(), "phone": phone,
                     "language": person.language or None, "unit_id": person.unit_id,
                     "status": EntryStatus.OPEN, "attempts": 0, "is_callback": False})
    if rows:
        db.session.execute(sa.insert(CallEntry), rows)
    return len(rows)


class ListSource(enum.StrEnum):
    """Whom a call list is built from."""

    #: Every contact of the questionnaire (or of the chosen units).
    CONTACTS = "contacts"
    #: Contacts whose invitation has not been answered yet.
    INVITATIONS = "invitations"


def units_within(unit_ids: Iterable[int]) -> set[int]:
    """The given units and every unit below them (a region brings its chapters)."""
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in db.session.execute(sa.select(Unit.id, Unit.parent_id)):
        children.setdefault(parent_id, []).append(unit_id)
    found: set[int] = set()
    todo = list(unit_ids)
    while todo:
        unit_id = todo.pop()
        if unit_id not in found:
            found.add(unit_id)
            todo.extend(children.get(unit_id, []))
    return found


def people_from_contacts(campaign: Campaign, *, source: ListSource = ListSource.CONTACTS,
                         unit_ids: Iterable[int] | None = None) -> list[Person]:
    """Contacts of the campaign's questionnaire with a phone number who may be called.

    Contacts who asked not to be contacted are never included. ``unit_ids`` narrows to those
    units and the units below them.
    """
    questionnaire = campaign.questionnaire
    units = sorted(units_within(unit_ids)) if unit_ids else None
    if source is ListSource.INVITATIONS and questionnaire.is_anonymous:
        # Who has not answered yet is what anonymity hides (the invitations page shows counts).
        raise ValueError("anonymous questionnaires list no one by answer")
    if source is ListSource.INVITATIONS:
        contacts = [line.contact for line in invitation_lines(questionnaire, only_open=True)
                    if not line.contact.do_not_contact
                    and (units is None or line.contact.unit_id in units)]
    else:
        contacts = contacts_for(questionnaire, units)
    seen: set[int] = set()
    people = []
    for contact in contacts:
        if contact.phone and contact.id not in seen:
            seen.add(contact.id)
            people.append(Person(name=contact.name, phone=contact.phone,
                                 language=contact.language, unit_id=contact.unit_id,
                                 contact_id=contact.id))
    return people


def build_call_list(campaign: Campaign, *, source: ListSource = ListSource.CONTACTS,
                    unit_ids: Iterable[int] | None = None) -> int:
    """Add the campaign's contacts (see ``people_from_contacts``); return how many were new."""
    known = set(db.session.scalars(
        sa.select(CallEntry.contact_id).where(CallEntry.campaign_id == campaign.id,
                                              CallEntry.contact_id.is_not(None))))
    people = people_from_contacts(campaign, source=source, unit_ids=unit_ids)
    return add_people(campaign, [p for p in people if p.contact_id not in known])


def mark_do_not_contact(entry: CallEntry) -> None:
    """The person asked not to be called again: their contact is never contacted again."""
    if entry.contact_id is not None:
        # fieldwork has no service for this yet; one UPDATE of the flag it owns.
        db.session.execute(sa.update(Contact).where(Contact.id == entry.contact_id)
                           .values(do_not_contact=True))


# --- the interviewer's queue ------------------------------------------------------------------

def _free(now: datetime):
    return sa.or_(CallEntry.claimed_by.is_(None), CallEntry.claimed_until < now)


def held_entry(campaign: Campaign, user, now: datetime | None = None) -> CallEntry | None:
    """The person ``user`` holds in this campaign now, if any."""
    now = now or utcnow()
    return db.session.scalar(
        sa.select(CallEntry).where(CallEntry.campaign_id == campaign.id,
                                   CallEntry.status == EntryStatus.OPEN,
                                   CallEntry.claimed_by == user.id,
                                   CallEntry.claimed_until >= now)
        .order_by(CallEntry.id).limit(1))


def claim_next(campaign: Campaign, user, now: datetime | None = None) -> CallEntry | None:
    """Hand ``user`` the next person to call, or the one they already hold; ``None`` if done.

    Due call backs come first (earliest first), then people called least often. The claim is
    a conditional UPDATE whose row count says who won, so two interviewers never hold the same
    person; a claim lapses after the campaign's ``claim_minutes``. On PostgreSQL the candidate
    row is locked with SKIP LOCKED so concurrent interviewers pick different people at once.
    """
    now = now or utcnow()
    held = held_entry(campaign, user, now)
    until = now + timedelta(minutes=campaign.claim_minutes)
    if held is not None:
        held.claimed_until = until
        db.session.flush()
        return held
    candidate = (
        sa.select(CallEntry.id)
        .where(CallEntry.campaign_id == campaign.id, CallEntry.status == EntryStatus.OPEN,
               sa.or_(CallEntry.next_call_at.is_(None), CallEntry.next_call_at <= now),
               _free(now))
        .order_by(CallEntry.is_callback.desc(), CallEntry.next_call_at.asc().nulls_first(),
                  CallEntry.attempts, CallEntry.id)
        .limit(1)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        candidate = candidate.with_for_update(skip_locked=True)
    for _ in range(CLAIM_TRIES):
        entry_id = db.session.scalar(candidate)
        if entry_id is None:
            return None
        won = db.session.execute(
            sa.update(CallEntry)
            .where(CallEntry.id == entry_id, CallEntry.status == EntryStatus.OPEN, _free(now))
            .values(claimed_by=user.id, claimed_until=until)
            .execution_options(synchronize_session=False)
        ).rowcount == 1
        if won:
            return db.session.get(CallEntry, entry_id, populate_existing=True)
    return None


def release(entry: CallEntry, user) -> bool:
    """Give a held person back to the list at once (the interviewer pauses)."""
    result = db.session.execute(
        sa.update(CallEntry)
        .where(CallEntry.id == entry.id, CallEntry.claimed_by == user.id,
               CallEntry.status == EntryStatus.OPEN)
        .values(claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False))
    db.session.expire(entry)
    return result.rowcount == 1


def record_outcome(entry: CallEntry, user, outcome: CallOutcome, *, seen_attempts: int,
                   callback_at: datetime | None = None, note: str = "",
                   now: datetime | None = None) -> bool:
    """Record how a call ended; ``False`` if it was recorded already (a double click).

    ``seen_attempts`` is the count the interviewer's screen showed: the update only applies
    while it still holds and the interviewer still holds the person, so a second press of the
    same button changes nothing. A person who did not answer comes back after the campaign's
    pause until ``max_attempts`` calls were made; a call back comes back at its time.

    :raise OutcomeRefused: ``callback_time`` when a call back has no time in the future.
    """
    now = now or utcnow()
    campaign = entry.campaign
    if outcome is CallOutcome.CALLBACK and (callback_at is None or callback_at <= now):
        raise OutcomeRefused("callback_time")
    number = seen_attempts + 1
    values = {"attempts": number, "last_outcome": outcome, "last_called_at": now,
              "is_callback": False, "next_call_at": None, "claimed_by": None,
              "claimed_until": None}
    if outcome is CallOutcome.NO_ANSWER:
        exhausted = number >= campaign.max_attempts
        values["status"] = EntryStatus.EXHAUSTED if exhausted else EntryStatus.OPEN
        if not exhausted:
            values["next_call_at"] = now + timedelta(minutes=campaign.retry_minutes)
    else:
        values["status"] = STATUS_AFTER[outcome]
    if outcome is CallOutcome.CALLBACK:
        values.update(next_call_at=callback_at, is_callback=True)
    if outcome is CallOutcome.REACHED:
        # The interviewer keeps the person for the interview.
        values["claimed_by"] = user.id
    allowed = [EntryStatus.OPEN]
    if outcome in AFTER_REACHED:
        allowed.append(EntryStatus.INTERVIEWING)
    result = db.session.execute(
        sa.update(CallEntry)
        .where(CallEntry.id == entry.id, CallEntry.attempts == seen_attempts,
               CallEntry.claimed_by == user.id, CallEntry.status.in_(allowed))
        .values(**values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.expire(entry)
        return False
    if outcome is CallOutcome.DO_NOT_CALL:
        mark_do_not_contact(entry)
    db.session.add(CallAttempt(entry_id=entry.id, number=number, interviewer_id=user.id,
                               called_at=now, outcome=outcome,
                               callback_at=callback_at if outcome is CallOutcome.CALLBACK
                               else None, note=(note or "").strip()[:2000]))
    db.session.flush()
    db.session.expire(entry)
    return True


# --- interviewer mode -------------------------------------------------------------------------

def interview_language(entry: CallEntry) -> str:
    """The content language to interview in: the person's, if the questionnaire has it."""
    questionnaire = entry.campaign.questionnaire
    if entry.language in questionnaire.languages:
        return entry.language
    return questionnaire.base_language


def is_interviewing(entry: CallEntry, user) -> bool:
    """Whether ``user`` reached this person and may interview them now."""
    return entry.status is EntryStatus.INTERVIEWING and entry.claimed_by == user.id


def open_interviews(campaign: Campaign, user) -> list[CallEntry]:
    """People ``user`` reached in this campaign whose interview is not recorded as done."""
    return list(db.session.scalars(
        sa.select(CallEntry).where(CallEntry.campaign_id == campaign.id,
                                   CallEntry.status == EntryStatus.INTERVIEWING,
                                   CallEntry.claimed_by == user.id)
        .order_by(CallEntry.last_called_at, CallEntry.id)))


def start_interview(entry: CallEntry, user, *, consent_given: bool,
                    consent_text_id: str | int | None, start_key: str,
                    purposes: list[str]) -> tuple[Response, str]:
    """Start the response of a reached person, with consent confirmed by the interviewer.

    The consent record says channel ``phone`` and names the interviewer; the response is
    attributed to the person's unit. Starting twice with the same ``start_key`` returns the
    first draft (see ``responses.services.start_response``).

    :raise StartRefused: as ``start_response``, or ``not_interviewing``.
    """
    from surveyapp.responses.services import StartRefused

    if not is_interviewing(entry, user):
        raise StartRefused("not_interviewing")
    return start_response(
        entry.campaign.questionnaire, language=interview_language(entry),
        consent_given=consent_given, consent_text_id=consent_text_id, start_key=start_key,
        purposes=purposes, channel=Channel.PHONE, unit_id=entry.unit_id,
        interviewer_id=user.id)


def finish_interview(entry: CallEntry, user) -> bool:
    """Mark an interviewed person completed; the entry keeps no link to the response."""
    result = db.session.execute(
        sa.update(CallEntry)
        .where(CallEntry.id == entry.id, CallEntry.status == EntryStatus.INTERVIEWING,
               CallEntry.claimed_by == user.id)
        .values(status=EntryStatus.COMPLETED, claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False))
    db.session.expire(entry)
    return result.rowcount == 1


# --- progress ---------------------------------------------------------------------------------

def status_counts(campaign: Campaign) -> dict[str, int]:
    """Number of people per status (one GROUP BY)."""
    rows = db.session.execute(
        sa.select(CallEntry.status, sa.func.count())
        .where(CallEntry.campaign_id == campaign.id).group_by(CallEntry.status))
    counts = {str(status): 0 for status in EntryStatus}
    counts.update({str(status): n for status, n in rows})
    return counts


def outcome_counts(campaign: Campaign) -> dict[str, int]:
    """Number of calls per outcome (one GROUP BY)."""
    rows = db.session.execute(
        sa.select(CallAttempt.outcome, sa.func.count())
        .join(CallEntry, CallEntry.id == CallAttempt.entry_id)
        .where(CallEntry.campaign_id == campaign.id).group_by(CallAttempt.outcome))
    counts = {str(outcome): 0 for outcome in CallOutcome}
    counts.update({str(outcome): n for outcome, n in rows})
    return counts


def progress_by_interviewer(campaign: Campaign) -> list[dict]:
    """Per interviewer: their e-mail, calls per outcome and calls in all (one GROUP BY)."""
    rows = db.session.execute(
        sa.select(User.id, User.email, CallAttempt.outcome, sa.func.count())
        .join(CallAttempt, CallAttempt.interviewer_id == User.id)
        .join(CallEntry, CallEntry.id == CallAttempt.entry_id)
        .where(CallEntry.campaign_id == campaign.id)
        .group_by(User.id, User.email, CallAttempt.outcome)
        .order_by(User.email))
    table: dict[int, dict] = {}
    for user_id, email, outcome, n in rows:
        line = table.setdefault(user_id, {"email": email, "total": 0,
                                          **{str(o): 0 for o in CallOutcome}})
        line[str(outcome)] = n
        line["total"] += n
    return list(table.values())


def due_callbacks(campaign: Campaign, now: datetime | None = None,
                  limit: int = 50) -> list[CallEntry]:
    """People who asked to be called back, earliest first; those due now are marked by time."""
    return list(db.session.scalars(
        sa.select(CallEntry)
        .where(CallEntry.campaign_id == campaign.id, CallEntry.status == EntryStatus.OPEN,
               CallEntry.is_callback)
        .order_by(CallEntry.next_call_at, CallEntry.id).limit(limit)))


def campaign_progress(campaign: Campaign) -> dict:
    """How far a campaign is: people in all, done, remaining, per status and per outcome.

    Keys: ``total``, ``done``, ``remaining``, ``completed``, ``reached`` (calls that reached
    someone), ``by_status`` and ``by_outcome`` (name -> count). Stable for other packages.
    """
    by_status = status_counts(campaign)
    by_outcome = outcome_counts(campaign)
    total = sum(by_status.values())
    remaining = sum(by_status[str(s)] for s in ACTIVE_STATUSES)
    return {"total": total, "done": total - remaining, "remaining": remaining,
            "completed": by_status[str(EntryStatus.COMPLETED)],
            "reached": by_outcome[str(CallOutcome.REACHED)],
            "by_status": by_status, "by_outcome": by_outcome}


def _moment(value: date | datetime, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    # A date counts whole: from its midnight, or up to the midnight after it.
    return datetime.combine(value + timedelta(days=1) if end else value, time(), tzinfo=UTC)


def calls_reached(unit_ids: Iterable[int], start: date | datetime,
                  end: date | datetime) -> int:
    """Calls that reached a person of these units from ``start`` to ``end`` (any campaign).

    Datetimes form the half-open range ``[start, end)``; a date counts as the whole day, so
    ``calls_reached(ids, date(2026, 1, 1), date(2026, 3, 31))`` covers the first quarter.
    """
    ids = list(unit_ids)
    if not ids:
        return 0
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(CallAttempt)
        .join(CallEntry, CallEntry.id == CallAttempt.entry_id)
        .where(CallAttempt.outcome == CallOutcome.REACHED, CallEntry.unit_id.in_(ids),
               CallAttempt.called_at >= _moment(start, end=False),
               CallAttempt.called_at < _moment(end, end=True))) or 0
