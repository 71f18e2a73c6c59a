"""Phone campaigns: a call list per questionnaire, worked through by assigned interviewers."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.accounts.models import Unit, User
from surveyapp.db import UTCDateTime, db, utcnow
from surveyapp.questionnaires.models import Questionnaire

campaign_interviewers = sa.Table(
    "campaign_interviewers",
    db.metadata,
    sa.Column("campaign_id", sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True),
)


class Campaign(db.Model):
    """A phone campaign for one questionnaire."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaires.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    #: What callers say; shown to interviewers only, never to respondents (plain text).
    script: Mapped[str] = mapped_column(sa.Text, default="")
    #: Calls without an answer after which a person is no longer called.
    max_attempts: Mapped[int] = mapped_column(default=5)
    #: Minutes before a person who did not answer is offered again.
    retry_minutes: Mapped[int] = mapped_column(default=60)
    #: Minutes an interviewer holds a person before the claim lapses back to the list.
    claim_minutes: Mapped[int] = mapped_column(default=20)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    questionnaire: Mapped[Questionnaire] = relationship()
    interviewers: Mapped[list[User]] = relationship(secondary=campaign_interviewers,
                                                    order_by=User.email)


class EntryStatus(enum.StrEnum):
    """Where a person on the call list stands."""

    #: To be called (now, or from ``next_call_at`` on).
    OPEN = "open"
    #: Reached; the interview has been started.
    INTERVIEWING = "interviewing"
    COMPLETED = "completed"
    REFUSED = "refused"
    WRONG_NUMBER = "wrong_number"
    DO_NOT_CALL = "do_not_call"
    #: The most calls without an answer were made.
    EXHAUSTED = "exhausted"


#: Statuses in which a person is still to be called or interviewed.
ACTIVE_STATUSES = (EntryStatus.OPEN, EntryStatus.INTERVIEWING)


class CallOutcome(enum.StrEnum):
    """What one call ended with."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    CALLBACK = "callback"
    WRONG_NUMBER = "wrong_number"
    REFUSED = "refused"
    DO_NOT_CALL = "do_not_call"


class CallEntry(db.Model):
    """One person on a campaign's call list."""

    __tablename__ = "call_entries"
    __table_args__ = (
        sa.Index("ix_call_entries_queue", "campaign_id", "status", "next_call_at"),
        # A contact is on a campaign's list once, however often the list is extended.
        sa.UniqueConstraint("campaign_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    #: The contact the person came from; erasing the contact erases them from call lists.
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    #: The person as they were when the list was built (the caller needs nothing else).
    name: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str] = mapped_column(sa.String(40))
    #: Language the person prefers (content language code), if known.
    language: Mapped[str | None] = mapped_column(sa.String(10))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    status: Mapped[EntryStatus] = mapped_column(
        sa.Enum(EntryStatus, native_enum=False, length=20), default=EntryStatus.OPEN
    )
    #: Calls made so far.
    attempts: Mapped[int] = mapped_column(default=0)
    #: Not offered before this time (a call back, or a pause after no answer).
    next_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The person asked to be called back at ``next_call_at``: offered first once due.
    is_callback: Mapped[bool] = mapped_column(default=False)
    last_outcome: Mapped[CallOutcome | None] = mapped_column(
        sa.Enum(CallOutcome, native_enum=False, length=20)
    )
    last_called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The interviewer holding this person now (until ``claimed_until``).
    claimed_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship()
    unit: Mapped[Unit | None] = relationship()
    calls: Mapped[list[CallAttempt]] = relationship(
        back_populates="entry", order_by="CallAttempt.number", cascade="all, delete-orphan",
        passive_deletes=True,
    )


class CallAttempt(db.Model):
    """One call: who made it, when, and how it ended."""

    __tablename__ = "call_attempts"
    # The n-th call of an entry exists once: a double click cannot record two.
    __table_args__ = (sa.UniqueConstraint("entry_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        sa.ForeignKey("call_entries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    interviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    called_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[CallOutcome] = mapped_column(
        sa.Enum(CallOutcome, native_enum=False, length=20)
    )
    #: The time the person asked to be called back, for ``callback``.
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(sa.Text, default="")

    entry: Mapped[CallEntry] = relationship(back_populates="calls")
    interviewer: Mapped[User] = relationship()
