"""Verbs of personal invitations. They flush; the view commits once per request.

Tokens: the link's token is an HMAC of the invitation's random nonce under the app's secret
key, like the resume token of a draft. Only its SHA-256 is stored to find the invitation,
yet staff can export the links again (mail merge, printed codes) whenever they need them.
Changing ``SECRET_KEY`` therefore invalidates every invitation link that was handed out.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, url_for

from surveyapp.accounts.models import Unit
from surveyapp.db import db, start_of_day, utcnow
from surveyapp.fieldwork.contacts_csv import ContactRow
from surveyapp.fieldwork.models import (
    Contact,
    Invitation,
    MessageKind,
    MessageStatus,
    SentMessage,
)
from surveyapp.questionnaires.models import Questionnaire
from surveyapp.responses.models import Response, ResponseStatus
from surveyapp.responses.services import digest

#: Default validity of a new invitation.
DEFAULT_VALID_DAYS = 60
#: At most this many anonymous codes per request (a print run, not a flood).
MAX_CODES = 2000


def token_for(invitation: Invitation) -> str:
    """The secret token of an invitation's link, derived again from its nonce."""
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    mac = hmac.new(key, b"invitation:" + invitation.nonce.encode("ascii"), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:24]).decode("ascii")


def link_for(invitation: Invitation) -> str:
    """The full public link of an invitation."""
    return url_for("invitations.open_link", token=token_for(invitation), _external=True)


def _new_invitation(questionnaire: Questionnaire, contact: Contact | None,
                    expires_at: datetime, nonce: str | None = None) -> Invitation:
    invitation = Invitation(questionnaire_id=questionnaire.id, contact=contact,
                            nonce=nonce or secrets.token_hex(16), expires_at=expires_at)
    invitation.token_digest = digest(token_for(invitation))
    db.session.add(invitation)
    return invitation


def existing_addresses(questionnaire: Questionnaire) -> tuple[set[str], set[str]]:
    """E-mail addresses and phone numbers already in the questionnaire's contact list."""
    rows = db.session.execute(sa.select(Contact.email, Contact.phone)
                              .where(Contact.questionnaire_id == questionnaire.id)).all()
    return ({e for e, _p in rows if e}, {p for _e, p in rows if p})


def unit_codes() -> dict[str, int]:
    """Unit code (lower case) to unit id, for checking uploaded lists."""
    return {code.lower(): uid for code, uid in db.session.execute(sa.select(Unit.code, Unit.id))}


def import_contacts(questionnaire: Questionnaire, rows: list[ContactRow], *,
                    valid_days: int = DEFAULT_VALID_DAYS) -> list[Contact]:
    """Add one contact and one invitation per (valid) row.

    The unique constraints on e-mail and phone per questionnaire make a second, concurrent
    import of the same rows fail as a whole (IntegrityError) instead of doubling anyone.
    """
    expires_at = utcnow() + timedelta(days=valid_days)
    contacts = []
    for row in rows:
        contact = Contact(questionnaire_id=questionnaire.id, name=row.name, email=row.email,
                          phone=row.phone, unit_id=row.unit_id, language=row.language)
        db.session.add(contact)
        _new_invitation(questionnaire, contact, expires_at)
        contacts.append(contact)
    db.session.flush()
    return contacts


class BatchAlreadyCreated(ValueError):
    """The codes of this form were created by an earlier press of the same button."""


def create_codes(questionnaire: Questionnaire, count: int, *,
                 valid_days: int = DEFAULT_VALID_DAYS,
                 batch_key: str | None = None) -> list[Invitation]:
    """Create ``count`` anonymous invitations (no contact), e.g. to print on slips.

    With ``batch_key`` (a random key of the form) the nonces derive from the key, so a second
    press of the same form yields the same tokens and is refused instead of doubling the codes.

    :raise BatchAlreadyCreated: this batch key was used before.
    """
    if not 1 <= count <= MAX_CODES:
        raise ValueError("count out of range")
    expires_at = utcnow() + timedelta(days=valid_days)
    if batch_key:
        first = hashlib.sha256(f"{batch_key}:0".encode()).hexdigest()[:32]
        if db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)
                             .where(Invitation.nonce == first)):
            raise BatchAlreadyCreated(batch_key)
    codes = [_new_invitation(questionnaire, None, expires_at, nonce=hashlib.sha256(
        f"{batch_key}:{i}".encode()).hexdigest()[:32] if batch_key else None)
        for i in range(count)]
    db.session.flush()
    return codes


class TokenState(enum.StrEnum):
    """What a token in a link leads to."""

    OPEN = "open"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


def find_invitation(token: str) -> Invitation | None:
    """The invitation a link's token belongs to."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(sa.select(Invitation).filter_by(token_digest=digest(token)))


def token_state(invitation: Invitation | None, now: datetime | None = None) -> TokenState:
    """Whether the link may (still) be used."""
    if invitation is None:
        return TokenState.UNKNOWN
    if invitation.used_at is not None:
        return TokenState.USED
    if invitation.expires_at <= (now or utcnow()):
        return TokenState.EXPIRED
    return TokenState.OPEN


def open_draft(invitation: Invitation) -> Response | None:
    """The unfinished response started with this invitation, to resume it."""
    if invitation.response_id is None:
        return None
    response = db.session.get(Response, invitation.response_id)
    return response if response is not None and response.status is ResponseStatus.DRAFT \
        else None


def attach_draft(invitation: Invitation, response: Response) -> bool:
    """Link a freshly started draft to the invitation, unless another one got there first.

    One guarded UPDATE: of two people starting with the same link at once, one wins; the
    caller rolls the loser's draft back.
    """
    table = Invitation.__table__
    result = db.session.execute(
        sa.update(table)
        .where(table.c.id == invitation.id, table.c.used_at.is_(None),
               sa.or_(table.c.response_id.is_(None), table.c.response_id == response.id))
        .values(response_id=response.id))
    return result.rowcount == 1


def on_responses_submitted(response_ids: list[int], *, submitted_at: datetime | None,
                           unlink: bool, coarse: bool) -> None:
    """Mark the invitations of just-submitted responses used; cut their link if anonymous.

    Runs inside the submitting (or anonymising) transaction, called by
    ``responses.services``. ``submitted_at`` is ``None`` when responses collected earlier
    are anonymised: then only the links are cut and the days coarsened.
    """
    if not response_ids:
        return
    table = Invitation.__table__
    if submitted_at is not None:
        # Cut to the day also when unlinking: the exact moment would match the response.
        used_at = start_of_day(submitted_at) if coarse or unlink else submitted_at
        db.session.execute(sa.update(table).where(table.c.response_id.in_(response_ids),
                                                  table.c.used_at.is_(None))
                           .values(used_at=used_at))
    if unlink:
        rows = db.session.execute(sa.select(table.c.id, table.c.used_at)
                                  .where(table.c.response_id.in_(response_ids))).all()
        for invitation_id, used_at in rows:
            values: dict = {"response_id": None}
            if coarse and used_at is not None:
                values["used_at"] = start_of_day(used_at)
            db.session.execute(sa.update(table).where(table.c.id == invitation_id)
                               .values(**values))
    for loaded in list(db.session.identity_map.values()):
        if isinstance(loaded, Invitation):
            db.session.expire(loaded)


def invitation_counts(questionnaire: Questionnaire) -> dict:
    """Counts for a response rate: ``invited``, ``started`` (drafts open now), ``used``, ``sent``.

    ``sent`` counts invitations that at least one e-mail went out for.
    """
    base = sa.select(sa.func.count()).select_from(Invitation).where(
        Invitation.questionnaire_id == questionnaire.id)
    sent = sa.select(sa.func.count(sa.distinct(SentMessage.invitation_id))).join(
        Invitation, Invitation.id == SentMessage.invitation_id).where(
        Invitation.questionnaire_id == questionnaire.id,
        SentMessage.status == MessageStatus.SENT)
    return {
        "invited": db.session.scalar(base),
        "used": db.session.scalar(base.where(Invitation.used_at.is_not(None))),
        "started": db.session.scalar(base.where(Invitation.used_at.is_(None),
                                                Invitation.response_id.is_not(None))),
        "sent": db.session.scalar(sent),
        "anonymous_codes": db.session.scalar(base.where(Invitation.contact_id.is_(None))),
    }


def contacts_for(questionnaire: Questionnaire, unit_ids: list[int] | None = None,
                 ) -> list[Contact]:
    """The questionnaire's contacts who may be contacted, optionally only in these units."""
    statement = (sa.select(Contact).where(Contact.questionnaire_id == questionnaire.id,
                                          ~Contact.do_not_contact)
                 .order_by(Contact.name, Contact.id))
    if unit_ids is not None:
        statement = statement.where(Contact.unit_id.in_(unit_ids))
    return list(db.session.scalars(statement))


def invitation_of(contact: Contact) -> Invitation | None:
    """The contact's newest invitation (e.g. to attach a phone interview's draft to it)."""
    return db.session.scalar(sa.select(Invitation).where(Invitation.contact_id == contact.id)
                             .order_by(Invitation.id.desc()).limit(1))


def mark_do_not_contact(contact: Contact) -> None:
    """The person asked not to be contacted again: no more messages, reminders or calls."""
    contact.do_not_contact = True
    db.session.flush()


@dataclass
class InvitationLine:
    """A row of the staff list of a non-anonymous questionnaire."""

    invitation: Invitation
    contact: Contact
    state: str  # "not_started", "started", "answered", "expired"
    last_sent: SentMessage | None


def invitation_lines(questionnaire: Questionnaire, *, only_open: bool = False,
                     ) -> list[InvitationLine]:
    """Invitations of contacts with their state, for the list of who has not answered yet."""
    rows = db.session.execute(
        sa.select(Invitation, Contact).join(Contact, Contact.id == Invitation.contact_id)
        .where(Invitation.questionnaire_id == questionnaire.id)
        .order_by(Contact.name, Contact.id)).all()
    last = _last_messages([inv.id for inv, _c in rows])
    now = utcnow()
    lines = []
    for invitation, contact in rows:
        if invitation.used_at is not None:
            state = "answered"
        elif invitation.response_id is not None:
            state = "started"
        elif invitation.expires_at <= now:
            state = "expired"
        else:
            state = "not_started"
        if only_open and state == "answered":
            continue
        lines.append(InvitationLine(invitation, contact, state, last.get(invitation.id)))
    return lines


def _last_messages(invitation_ids: list[int]) -> dict[int, SentMessage]:
    if not invitation_ids:
        return {}
    newest = (sa.select(sa.func.max(SentMessage.id)).where(
        SentMessage.invitation_id.in_(invitation_ids)).group_by(SentMessage.invitation_id))
    return {m.invitation_id: m for m in db.session.scalars(
        sa.select(SentMessage).where(SentMessage.id.in_(newest)))}


def mail_merge_rows(questionnaire: Questionnaire) -> list[list[str]]:
    """Rows for a mail merge: name, e-mail, phone, language, unit, link (open invitations)."""
    now = utcnow()
    rows = db.session.execute(
        sa.select(Invitation, Contact, Unit.code)
        .join(Contact, Contact.id == Invitation.contact_id)
        .outerjoin(Unit, Unit.id == Contact.unit_id)
        .where(Invitation.questionnaire_id == questionnaire.id, Invitation.used_at.is_(None),
               Invitation.expires_at > now, ~Contact.do_not_contact)
        .order_by(Contact.name, Contact.id)).all()
    # Phones hold only digits, spaces and + - / ( ): at worst arithmetic, and a mail merge
    # needs their leading "+"; names and addresses are free text and are neutralised.
    return [[_no_formula(c.name), _no_formula(c.email or ""), c.phone or "", c.language,
             code or "", link_for(inv)] for inv, c, code in rows]


def _no_formula(text: str) -> str:
    """A name or address as a spreadsheet shows it, never runs it (CSV injection)."""
    return "'" + text if text.lstrip().startswith(("=", "+", "-", "@")) or \
        text.startswith(("\t", "\r")) else text


def code_rows(questionnaire: Questionnaire) -> list[list[str]]:
    """Rows of the anonymous codes not used yet: number, link, valid until (ISO date)."""
    now = utcnow()
    invitations = db.session.scalars(
        sa.select(Invitation).where(Invitation.questionnaire_id == questionnaire.id,
                                    Invitation.contact_id.is_(None),
                                    Invitation.used_at.is_(None), Invitation.expires_at > now)
        .order_by(Invitation.id))
    return [[str(number), link_for(inv), inv.expires_at.date().isoformat()]
            for number, inv in enumerate(invitations, start=1)]


def messages_in_last_hour(now: datetime | None = None) -> int:
    """Messages the app tried to send in the last hour, over all questionnaires."""
    since = (now or utcnow()) - timedelta(hours=1)
    return db.session.scalar(sa.select(sa.func.count()).select_from(SentMessage)
                             .where(SentMessage.sent_at > since))


def due_messages(questionnaire: Questionnaire, kind: MessageKind,
                 now: datetime | None = None) -> list[tuple[Invitation, Contact]]:
    """Invitations owed a message of ``kind`` by e-mail, oldest contact first.

    Invitations go to everyone with an address not yet successfully invited; reminders only to
    those invited who have not answered, at most one a day.
    """
    now = now or utcnow()
    sent = sa.select(SentMessage.invitation_id).where(
        SentMessage.kind == MessageKind.INVITATION, SentMessage.status == MessageStatus.SENT)
    statement = (
        sa.select(Invitation, Contact).join(Contact, Contact.id == Invitation.contact_id)
        .where(Invitation.questionnaire_id == questionnaire.id, Invitation.used_at.is_(None),
               Invitation.expires_at > now, Contact.email.is_not(None),
               ~Contact.do_not_contact)
        .order_by(Contact.id))
    if kind is MessageKind.INVITATION:
        statement = statement.where(Invitation.id.not_in(sent))
    else:
        recent = sa.select(SentMessage.invitation_id).where(
            SentMessage.kind == MessageKind.REMINDER, SentMessage.status == MessageStatus.SENT,
            SentMessage.sent_at > now - timedelta(days=1))
        statement = statement.where(Invitation.id.in_(sent), Invitation.id.not_in(recent))
    return [tuple(row) for row in db.session.execute(statement).all()]


def record_message(invitation: Invitation, kind: MessageKind, error: str | None) -> SentMessage:
    """Note one attempt to send; ``error`` is ``None`` when the server accepted it."""
    message = SentMessage(invitation_id=invitation.id, kind=kind,
                          status=MessageStatus.FAILED if error else MessageStatus.SENT,
                          error=(error or "")[:300])
    db.session.add(message)
    db.session.flush()
    return message


def find_contacts_by_address(typed: str) -> list[Contact]:
    """Contacts of non-anonymous questionnaires with this e-mail address or invitation link.

    Accepts an e-mail address, a bare token or a whole link (``.../i/<token>``).
    """
    typed = typed.strip()
    if not typed:
        return []
    if "@" in typed and "/" not in typed:
        statement = sa.select(Contact).where(Contact.email == typed.lower())
    else:
        invitation = find_invitation(typed.rstrip("/").rsplit("/", 1)[-1])
        if invitation is None or invitation.contact_id is None:
            return []
        statement = sa.select(Contact).where(Contact.id == invitation.contact_id)
    statement = statement.join(Questionnaire, Questionnaire.id == Contact.questionnaire_id) \
        .where(~Questionnaire.is_anonymous).order_by(Contact.id)
    return list(db.session.scalars(statement))


def responses_of(contact: Contact) -> list[Response]:
    """The responses started with the contact's invitations (non-anonymous questionnaires)."""
    return list(db.session.scalars(
        sa.select(Response).join(Invitation, Invitation.response_id == Response.id)
        .where(Invitation.contact_id == contact.id).order_by(Response.id)))


def purge_contacts(questionnaire: Questionnaire, now: datetime) -> int:
    """Erase the questionnaire's contacts added longer ago than its retention period, with
    their invitations, sent records and call-list entries; return how many (for ``purge``).

    A contact list is personal data like the answers, and is kept no longer than them.
    """
    expired = list(db.session.scalars(sa.select(Contact).where(
        Contact.questionnaire_id == questionnaire.id,
        Contact.created_at < now - timedelta(days=questionnaire.retention_days))))
    for contact in expired:
        erase_contact(contact)
    return len(expired)


def erase_contact(contact: Contact) -> None:
    """Delete a contact with its invitations and the record of messages sent to it."""
    invitation_ids = sa.select(Invitation.id).where(Invitation.contact_id == contact.id)
    db.session.execute(sa.delete(SentMessage).where(SentMessage.invitation_id.in_(
        invitation_ids)))
    db.session.execute(sa.delete(Invitation).where(Invitation.contact_id == contact.id))
    db.session.execute(sa.delete(Contact).where(Contact.id == contact.id))
