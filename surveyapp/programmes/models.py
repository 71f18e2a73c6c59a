"""Programmes, their stages, the units taking part, target marks and staff-entered counts."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.accounts.models import Unit, User
from surveyapp.db import UTCDateTime, db, utcnow


class Programme(db.Model):
    """A programme several units run through, one dated stage after the other."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Proper name chosen by staff (not translated).
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    stages: Mapped[list[Stage]] = relationship(
        back_populates="programme", order_by="Stage.number", cascade="all, delete-orphan")


class Stage(db.Model):
    """A period of the programme (typically three months) with its own target marks."""

    __tablename__ = "programme_stages"
    __table_args__ = (sa.UniqueConstraint("programme_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id"), index=True)
    #: 1, 2, 3, ... in the order the stages follow each other.
    number: Mapped[int] = mapped_column()
    #: First and last day, both counted in (UTC days, as the results filters count them).
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)
    #: Set once, when an admin confirms who advances; a confirmed stage never changes again.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    programme: Mapped[Programme] = relationship(back_populates="stages")
    participations: Mapped[list[Participation]] = relationship(
        back_populates="stage", cascade="all, delete-orphan")
    marks: Mapped[list[TargetMark]] = relationship(
        back_populates="stage", order_by="TargetMark.id", cascade="all, delete-orphan")
    confirmed_by: Mapped[User | None] = relationship()

    @property
    def is_confirmed(self) -> bool:
        """Whether the end of this stage has been confirmed."""
        return self.confirmed_at is not None


class ParticipationStatus(enum.StrEnum):
    """Where a unit stands in a stage; only ``active`` can still change."""

    ACTIVE = "active"
    ADVANCED = "advanced"
    DROPPED_OUT = "dropped_out"
    #: Left during the stage on its own account.
    WITHDRAWN = "withdrawn"


class Participation(db.Model):
    """One unit taking part in one stage."""

    __tablename__ = "programme_participations"
    __table_args__ = (sa.UniqueConstraint("stage_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(sa.ForeignKey("programme_stages.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    status: Mapped[ParticipationStatus] = mapped_column(
        sa.Enum(ParticipationStatus, native_enum=False, length=20),
        default=ParticipationStatus.ACTIVE)
    #: The unit's own step in the programme: 1 on entering (or re-entering), +1 per advance.
    level: Mapped[int] = mapped_column(default=1)
    #: 1 for a unit's first run through the programme, 2 after dropping out and applying again...
    attempt: Mapped[int] = mapped_column(default=1)
    #: Why the decision differs from the proposal, or why the unit withdrew.
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    stage: Mapped[Stage] = relationship(back_populates="participations")
    unit: Mapped[Unit] = relationship()


class MarkKind(enum.StrEnum):
    """Counted by the app from its own data, or entered by staff."""

    COUNTED = "counted"
    ENTERED = "entered"


class TargetMark(db.Model):
    """A target one unit is to reach in one stage: 50 complete responses, 3 events held."""

    __tablename__ = "programme_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(sa.ForeignKey("programme_stages.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    #: What is counted, in staff's words ("Events held"); not translated.
    label: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[MarkKind] = mapped_column(sa.Enum(MarkKind, native_enum=False, length=20))
    #: Name of a counted metric in ``programmes.metrics``; ``None`` for staff-entered marks.
    metric: Mapped[str | None] = mapped_column(sa.String(40))
    #: The metric's parameters, e.g. ``{"questionnaire": "exit-survey"}``.
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    target: Mapped[int] = mapped_column()
    #: The value when the stage was confirmed: history stays as decided even after
    #: responses are withdrawn or purged.
    final_value: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    stage: Mapped[Stage] = relationship(back_populates="marks")
    unit: Mapped[Unit] = relationship()
    entries: Mapped[list[MarkEntry]] = relationship(
        back_populates="mark", order_by="MarkEntry.id", cascade="all, delete-orphan")


class MarkEntry(db.Model):
    """A count staff report for a mark. Entries add up and are never edited: a correction
    is a new entry with a negative amount and a note saying why."""

    __tablename__ = "programme_mark_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    mark_id: Mapped[int] = mapped_column(sa.ForeignKey("programme_marks.id"), index=True)
    amount: Mapped[int] = mapped_column()
    #: What was done, or why a correction was needed.
    note: Mapped[str] = mapped_column(sa.String(500))
    #: The day it happened (the event, the letters sent).
    happened_on: Mapped[date] = mapped_column(sa.Date)
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: Random key of the form it came from: a double click adds the number once.
    form_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    mark: Mapped[TargetMark] = relationship(back_populates="entries")
    entered_by: Mapped[User | None] = relationship()
