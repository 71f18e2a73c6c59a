"""Verbs of the respondent side. They flush; the view commits once per request."""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import secrets
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from surveyapp.accounts.models import Unit
from surveyapp.consent.models import ConsentText
from surveyapp.consent.services import (
    PurposeMissing,
    agreed_purposes,
    coarsen_consent_times,
    current_consent_text,
    forget_consent_interviewer,
    record_consent,
)
from surveyapp.db import db, start_of_day, utcnow
from surveyapp.questionnaires.models import Page, Questionnaire, QuestionnaireVersion
from surveyapp.questionnaires.question_types import AnswerValue, get_type
from surveyapp.responses.flow import Flow
from surveyapp.responses.models import Answer, Channel, Response, ResponseStatus, SentLink

#: Receipt codes: 16 characters from a 32-letter alphabet without look-alikes = 80 bits.
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


#: Called as ``hook(response_ids, submitted_at=..., unlink=..., coarse=...)`` inside the
#: transaction that submits (or, with ``submitted_at=None``, anonymises) responses, so that
#: later packages (fieldwork's invitations) can update or cut their own links to them.
submitted_hooks: list[Callable[..., None]] = []


class StartRefused(ValueError):
    """Starting a response was refused; ``reason`` names why (shown translated by the view)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def digest(secret: str) -> str:
    """SHA-256 of a token or receipt code; only digests are stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def resume_token_for(start_key: str) -> str:
    """The resume token of a start key: a repeated start yields the same token, nothing new."""
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    mac = hmac.new(key, b"resume:" + start_key.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode("ascii")


def new_start_key() -> str:
    """A random key for one start form."""
    return secrets.token_urlsafe(24)


def start_response(
    questionnaire: Questionnaire,
    *,
    language: str,
    consent_given: bool,
    consent_text_id: str | int | None,
    start_key: str,
    purposes: list[str] | None = None,
    channel: Channel = Channel.WEB,
    unit_id: int | None = None,
    is_preview: bool = False,
    interviewer_id: int | None = None,
) -> tuple[Response, str]:
    """Create a draft response with its consent record; return it and its resume token.

    Starting twice with the same ``start_key`` returns the first draft.

    :raise StartRefused: ``closed``, ``no_consent``, ``purpose_required`` or ``consent_changed``.
    """
    version = (
        questionnaire.latest_version if is_preview else questionnaire.published_version
    )
    if version is None or not (is_preview or accepting_answers(questionnaire) is None):
        raise StartRefused("closed")
    if not consent_given:
        raise StartRefused("no_consent")
    shown = current_consent_text(questionnaire, language)
    if shown is None or str(shown.id) != str(consent_text_id):
        raise StartRefused("consent_changed")
    if not start_key or len(start_key) > 64:
        raise StartRefused("consent_changed")
    try:
        agreed = agreed_purposes(shown, purposes or [])
    except PurposeMissing as missing:
        raise StartRefused("purpose_required") from missing
    token = resume_token_for(start_key)
    existing = db.session.scalar(sa.select(Response).filter_by(start_key=start_key))
    if existing is not None:
        if existing.questionnaire_id != questionnaire.id:
            raise StartRefused("consent_changed")
        return existing, token
    response = Response(
        questionnaire_id=questionnaire.id,
        version_id=version.id,
        language=language,
        channel=channel,
        unit_id=unit_id,
        interviewer_id=interviewer_id,
        is_preview=is_preview,
        start_key=start_key,
        resume_digest=digest(token),
        current_page=version.pages[0].code if version.pages else None,
    )
    db.session.add(response)
    db.session.flush()
    record_consent(
        response_id=response.id,
        questionnaire=questionnaire,
        version_id=version.id,
        consent_text=db.session.get(ConsentText, shown.id),
        channel=channel.value,
        purposes=agreed,
        interviewer_id=interviewer_id,
    )
    return response, token


def accepting_answers(questionnaire: Questionnaire, now: datetime | None = None, *,
                      starting: bool = True) -> str | None:
    """Why respondents may not answer now (``Questionnaire.closed_reason``), else ``None``.

    The one rule for the start page, starting, and every page of a draft. Complete
    responses are counted only for a new start with a maximum set: a draft started before
    the maximum was reached may still be finished (``starting=False``), so the maximum can
    be exceeded by the drafts under way at that moment, never by new starts.
    """
    complete = 0
    if starting and questionnaire.max_responses is not None:
        complete = db.session.scalar(
            sa.select(sa.func.count()).select_from(Response).where(
                Response.questionnaire_id == questionnaire.id,
                Response.status == ResponseStatus.COMPLETE, ~Response.is_preview))
    return questionnaire.closed_reason(now or utcnow(), complete_responses=complete,
                                       starting=starting)


def find_by_token(questionnaire: Questionnaire, token: str) -> Response | None:
    """The response a resume token belongs to, within this questionnaire."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(
        sa.select(Response).filter_by(questionnaire_id=questionnaire.id,
                                      resume_digest=digest(token))
    )


# The respondent's hot path runs these on every page; built once, they are only bound per
# request (building SQLAlchemy expressions cost more than executing them).
_DRAFT_CONTEXT = (
    sa.select(Questionnaire, Response, QuestionnaireVersion.published_at,
              QuestionnaireVersion.text_revision)
    .join(Response, Response.questionnaire_id == Questionnaire.id)
    .join(QuestionnaireVersion, QuestionnaireVersion.id == Response.version_id)
    .where(Questionnaire.slug == sa.bindparam("slug"),
           Response.resume_digest == sa.bindparam("digest"))
)
_STORED_VALUES = (
    sa.select(Answer.question_id, Answer.option_code, Answer.row_code, Answer.value_text,
              Answer.value_number, Answer.value_date)
    .where(Answer.response_id == sa.bindparam("response_id"))
    .order_by(Answer.id)
)
_DELETE_ANSWERS = sa.delete(Answer.__table__).where(
    Answer.__table__.c.response_id == sa.bindparam("response_id")
)
_INSERT_ANSWERS = sa.insert(Answer.__table__)
_UPDATE_DRAFT = (
    sa.update(Response.__table__)
    .where(Response.__table__.c.id == sa.bindparam("response_id"))
    .values(current_page=sa.bindparam("current_page"), language=sa.bindparam("language"),
            updated_at=sa.bindparam("updated_at"))
)


def find_draft_context(
    slug: str, token: str
) -> tuple[Questionnaire, Response, datetime | None, int] | None:
    """Questionnaire, response, and publication time and text revision of its version."""
    if not token or len(token) > 64:
        return None
    row = db.session.execute(_DRAFT_CONTEXT, {"slug": slug, "digest": digest(token)}).first()
    return tuple(row) if row is not None else None


def stored_values(
    response: Response, version: QuestionnaireVersion
) -> dict[str, list[AnswerValue]]:
    """The response's answers grouped by question code (read as plain rows, not objects)."""
    code_of = {q.id: q.code for q in version.questions}
    rows = db.session.execute(_STORED_VALUES, {"response_id": response.id})
    values: dict[str, list[AnswerValue]] = defaultdict(list)
    for question_id, *fields in rows:
        values[code_of[question_id]].append(AnswerValue(*fields))
    return dict(values)


def merge_page(
    stored: dict[str, list[AnswerValue]], page: Page, posted: dict[str, list[AnswerValue]]
) -> dict[str, list[AnswerValue]]:
    """The answers after this page is saved: the page's questions replaced by what was posted."""
    values = {code: vals for code, vals in stored.items()}
    for question in page.questions:
        values.pop(question.code, None)
    values.update({code: vals for code, vals in posted.items() if vals})
    return values


def save_answers(
    response: Response, version: QuestionnaireVersion, flow: Flow, current_page: str,
    language: str,
) -> None:
    """Store the flow's answers to visible questions (hidden ones are dropped) and the page.

    The whole (small) answer set is rewritten, so edits, going back and answers that became
    hidden all take one code path.
    """
    if response.status is not ResponseStatus.DRAFT:
        raise ValueError("response already submitted")
    keep = flow.visible_codes()
    id_of = {q.code: q.id for q in version.questions}
    db.session.execute(_DELETE_ANSWERS, {"response_id": response.id})
    rows = [
        {
            "response_id": response.id,
            "question_id": id_of[code],
            "row_code": v.row_code,
            "option_code": v.option_code,
            "value_text": v.value_text,
            "value_number": v.value_number,
            "value_date": v.value_date,
        }
        for code, vals in flow.values.items()
        if code in keep and code in id_of
        for v in vals
    ]
    if rows:
        db.session.execute(_INSERT_ANSWERS, rows)
    _attribute_unit(response, version, flow, keep)
    # One plain UPDATE: the ORM's unit of work for this single row cost more than the SQL.
    db.session.execute(_UPDATE_DRAFT, {"response_id": response.id, "current_page": current_page,
                                       "language": language, "updated_at": utcnow()})


def _attribute_unit(response: Response, version: QuestionnaireVersion, flow: Flow,
                    keep: set[str]) -> None:
    """Give the response the unit its answer to a unit question names.

    The rule: a unit handed out by staff (a unit link, an invitation, a call list) is set
    when the response starts and always wins. Only a response without a unit, or whose unit
    came from this answer before (``unit_from_question``), follows the answer: another unit
    moves it, no answer, "prefer not to answer" or a hidden question clears it.
    """
    if response.unit_id is not None and not response.unit_from_question:
        return
    code = None
    for question in version.questions:
        question_type = get_type(question.type)
        if question_type.sets_unit and question.code in keep:
            code = question_type.unit_code(flow.values.get(question.code, []))
            if code is not None:
                break
    unit_id = (db.session.scalar(sa.select(Unit.id).where(Unit.code == code))
               if code is not None else None)
    if unit_id != response.unit_id:
        response.unit_id = unit_id
        response.unit_from_question = unit_id is not None


def new_receipt_code() -> str:
    """A receipt code like ``K7QM-2XRA-9PZD-HT4W``: easy to write down, infeasible to guess."""
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _unlinked_keys() -> dict[str, str | None]:
    """Fresh random start key and resume digest, and no interviewer: no cookie, link or
    account leads to the row any more (the call list keeps who reached whom, not the answers).
    """
    return {"start_key": new_start_key(), "resume_digest": digest(secrets.token_urlsafe(32)),
            "interviewer_id": None}


def _coarse_times(started_at: datetime, submitted_at: datetime) -> dict[str, datetime]:
    return {"started_at": start_of_day(started_at), "submitted_at": start_of_day(submitted_at),
            "updated_at": start_of_day(submitted_at)}


def _receipt_signer(token: str) -> URLSafeSerializer:
    secret = current_app.config["SECRET_KEY"]
    return URLSafeSerializer(secret, salt="receipt-offer:" + digest(token))


def offer_receipt(token: str) -> str:
    """A fresh receipt code, signed for this resume token, to carry in the last page's form.

    Both presses of a double-clicked "Send answers" carry the same code, so whichever reply
    the browser keeps can show the code that was stored, without a link to the response.
    """
    return _receipt_signer(token).dumps(new_receipt_code())


def offered_receipt(token: str, offer: str | None) -> str | None:
    """The code of a valid offer for ``token``, else ``None``."""
    if not offer:
        return None
    try:
        code = _receipt_signer(token).loads(offer)
    except BadSignature:
        return None
    return code if isinstance(code, str) and normalise_receipt_code(code) else None


def receipt_is_stored(code: str) -> bool:
    """Whether some sent response holds this receipt code (to show only codes that work)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
        Response.receipt_digest == digest(code))) == 1


def submit_response(response: Response, *, unlink: bool = False, coarse: bool = False,
                    code: str | None = None) -> str | None:
    """Mark a complete draft as submitted, exactly once; return the new receipt code.

    Returns ``None`` when the response was already submitted (a double click or a reload).
    The status change is one guarded UPDATE, so two concurrent submits cannot both win.
    ``unlink`` (anonymous questionnaires) replaces the keys that the respondent's cookie and
    resume link point at, so nothing on a device leads back to the answers; ``coarse`` keeps
    only the day of every timestamp, of the consent too. ``code`` is the receipt code the
    last page offered (``offer_receipt``), else a new one is drawn.
    """
    code = code or new_receipt_code()
    now = utcnow()
    values: dict = {"status": ResponseStatus.COMPLETE, "submitted_at": now, "updated_at": now,
                    "receipt_digest": digest(code)}
    old_link = response.resume_digest
    if unlink:
        values.update(_unlinked_keys())
    if coarse:
        values.update(_coarse_times(response.started_at, now))
    result = db.session.execute(
        sa.update(Response)
        .where(Response.id == response.id, Response.status == ResponseStatus.DRAFT)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    if unlink:  # only the winner of concurrent presses records the link it cut
        db.session.add(SentLink(resume_digest=old_link,
                                questionnaire_id=response.questionnaire_id, sent_on=now.date()))
        forget_consent_interviewer([response.id])
    if coarse:
        coarsen_consent_times([response.id])
    for hook in submitted_hooks:
        hook([response.id], submitted_at=now, unlink=unlink, coarse=coarse)
    db.session.expire(response)
    return code


def was_sent(questionnaire_id: int, token: str) -> bool:
    """Whether ``token`` resumed an anonymous response that has been sent (and unlinked)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(SentLink).where(
        SentLink.resume_digest == digest(token),
        SentLink.questionnaire_id == questionnaire_id)) == 1


def anonymise_responses(questionnaire: Questionnaire, batch: int = 2000) -> int:
    """Unlink and coarsen the complete responses already collected; return how many.

    For a questionnaire made anonymous after answers came in. Idempotent: running it again
    draws new random keys and keeps the (already coarse) days.
    """
    done = 0
    last_id = 0
    while True:
        rows = db.session.execute(
            sa.select(Response.id, Response.started_at, Response.submitted_at)
            .where(Response.questionnaire_id == questionnaire.id,
                   Response.status == ResponseStatus.COMPLETE, Response.id > last_id)
            .order_by(Response.id).limit(batch)).all()
        if not rows:
            return done
        db.session.execute(sa.update(Response), [
            {"id": rid, **_unlinked_keys(), **_coarse_times(started, submitted)}
            for rid, started, submitted in rows])
        coarsen_consent_times([rid for rid, _s, _t in rows])
        forget_consent_interviewer([rid for rid, _s, _t in rows])
        for hook in submitted_hooks:
            hook([rid for rid, _s, _t in rows], submitted_at=None, unlink=True, coarse=True)
        done += len(rows)
        last_id = rows[-1][0]


def normalise_receipt_code(typed: str) -> str | None:
    """The code as issued (``K7QM-2XRA-9PZD-HT4W``) from what a person typed, or ``None``.

    Case, spaces and dashes do not matter; only letters of the receipt alphabet count.
    """
    raw = "".join(ch for ch in typed.upper() if not ch.isspace() and ch != "-")
    if len(raw) != 16 or any(ch not in RECEIPT_ALPHABET for ch in raw):
        return None
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


class WithdrawOutcome(enum.StrEnum):
    """What a withdrawal request found."""

    WITHDRAWN = "withdrawn"
    ALREADY = "already"
    UNKNOWN = "unknown"


def withdraw_by_receipt(questionnaire: Questionnaire, typed_code: str) -> WithdrawOutcome:
    """Delete the answers of the response this receipt code belongs to; keep a tombstone.

    The tombstone keeps ids, dates, the consent record and ``withdrawn_at``; every answer row
    (free text included) is deleted in the same transaction.
    """
    code = normalise_receipt_code(typed_code)
    if code is None:
        return WithdrawOutcome.UNKNOWN
    response = db.session.scalar(
        sa.select(Response).filter_by(questionnaire_id=questionnaire.id,
                                      receipt_digest=digest(code))
    )
    if response is None:
        return WithdrawOutcome.UNKNOWN
    if response.status is ResponseStatus.WITHDRAWN:
        return WithdrawOutcome.ALREADY
    db.session.execute(sa.delete(Answer).where(Answer.response_id == response.id))
    response.status = ResponseStatus.WITHDRAWN
    response.withdrawn_at = utcnow()
    db.session.flush()
    return WithdrawOutcome.WITHDRAWN


#: How long after submitting a repeated "Send answers" may still be given a receipt code.
RECEIPT_RENEWAL_WINDOW = timedelta(minutes=10)


def renew_receipt(response: Response) -> str | None:
    """A new receipt code for a response submitted moments ago; the old code stops working.

    Returns ``None`` outside the renewal window, so an old resume link cannot mint codes.
    """
    code = new_receipt_code()
    result = db.session.execute(
        sa.update(Response)
        .where(Response.id == response.id, Response.status == ResponseStatus.COMPLETE,
               Response.submitted_at >= utcnow() - RECEIPT_RENEWAL_WINDOW)
        .values(receipt_digest=digest(code))
        .execution_options(synchronize_session=False)
    )
    return code if result.rowcount == 1 else None


def count_by_status(questionnaire_ids: list[int]) -> dict[tuple[int, str], int]:
    """Number of real (non-preview) responses per questionnaire and status."""
    rows = db.session.execute(
        sa.select(Response.questionnaire_id, Response.status, sa.func.count())
        .where(Response.questionnaire_id.in_(questionnaire_ids), ~Response.is_preview)
        .group_by(Response.questionnaire_id, Response.status)
    )
    return {(qid, str(status)): n for qid, status, n in rows}


def count_complete_between(slug: str, unit_ids: list[int], start: date, end: date) -> int:
    """Real complete responses to questionnaire ``slug`` from units ``unit_ids``, submitted
    from ``start`` to ``end`` (UTC days, both counted in): one COUNT, for programme marks."""
    return db.session.scalar(
        sa.select(sa.func.count(Response.id))
        .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
        .where(Questionnaire.slug == slug, Response.status == ResponseStatus.COMPLETE,
               ~Response.is_preview, Response.unit_id.in_(unit_ids),
               Response.submitted_at >= datetime.combine(start, time.min, tzinfo=UTC),
               Response.submitted_at < datetime.combine(end + timedelta(days=1), time.min,
                                                        tzinfo=UTC))) or 0
