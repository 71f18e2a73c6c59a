"""Responses and their answers, one row per value, as language-neutral codes."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import UTCDateTime, db, utcnow


class ResponseStatus(enum.StrEnum):
    """A response is a draft until it is submitted once; the respondent may withdraw it."""

    DRAFT = "draft"
    COMPLETE = "complete"
    #: Answers deleted at the respondent's request; only a tombstone remains.
    WITHDRAWN = "withdrawn"


class Channel(enum.StrEnum):
    """How the answers reached us."""

    WEB = "web"
    PHONE = "phone"


class Response(db.Model):
    """One person's answers to one questionnaire version."""

    __tablename__ = "responses"
    __table_args__ = (sa.Index("ix_responses_questionnaire_status", "questionnaire_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaires.id"))
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire_versions.id"))
    status: Mapped[ResponseStatus] = mapped_column(
        sa.Enum(ResponseStatus, native_enum=False, length=20), default=ResponseStatus.DRAFT
    )
    #: Content language the respondent answered in.
    language: Mapped[str] = mapped_column(sa.String(10))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    #: The unit came from the respondent's answer to a unit question, not from a unit link,
    #: an invitation or a call list (those win; see ``services.save_answers``).
    unit_from_question: Mapped[bool] = mapped_column(default=False, server_default="0")
    channel: Mapped[Channel] = mapped_column(
        sa.Enum(Channel, native_enum=False, length=20), default=Channel.WEB
    )
    #: The interviewer who entered the answers on the phone (``None`` on the web).
    interviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: Staff preview answers are kept apart from real ones and never counted.
    is_preview: Mapped[bool] = mapped_column(default=False)
    #: Random key of the start form: a double click on "Start" finds the same draft.
    start_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: SHA-256 of the resume token in the respondent's cookie and resume link.
    resume_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: SHA-256 of the receipt code shown once after submitting.
    receipt_digest: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: Code of the page the respondent was on, to resume there.
    current_page: Mapped[str | None] = mapped_column(sa.String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True
    )


class Answer(db.Model):
    """One value of an answer: an option code, a number, a date or a text."""

    __tablename__ = "answers"
    # Covers every aggregate of the results (counts per option, distinct respondents, numbers
    # and dates), so they are read from this index alone; see analysis/selection.py.
    __table_args__ = (sa.Index("ix_answers_summary", "question_id", "option_code", "row_code",
                               "value_number", "value_date", "response_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        sa.ForeignKey("responses.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questions.id"))
    #: Matrix row code; ``None`` for other types.
    row_code: Mapped[str | None] = mapped_column(sa.String(32))
    #: Option code, ``_other`` or ``_pna`` (prefer not to answer); ``None`` for typed values.
    option_code: Mapped[str | None] = mapped_column(sa.String(32))
    value_text: Mapped[str | None] = mapped_column(sa.Text)
    value_number: Mapped[float | None] = mapped_column(sa.Float)
    value_date: Mapped[date | None] = mapped_column(sa.Date)

    response: Mapped[Response] = relationship(back_populates="answers")


class SentLink(db.Model):
    """The digest of a resume token whose anonymous response was sent and then unlinked.

    It names no response: it only lets a second click on "Send answers" (or the back button)
    land on the thank-you page instead of an error. Purged with expired drafts.
    """

    __tablename__ = "sent_links"

    resume_digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaires.id"), index=True)
    #: Day only, like the response it came from.
    sent_on: Mapped[date] = mapped_column(sa.Date)
