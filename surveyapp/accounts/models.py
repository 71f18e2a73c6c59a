"""Organisational units and staff accounts."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from surveyapp.db import UTCDateTime, db, utcnow


class UnitKind(enum.StrEnum):
    """Levels of the organisation tree."""

    FEDERATION = "federation"
    REGION = "region"
    CHAPTER = "chapter"


class Unit(db.Model):
    """An organisational unit: federation > region > local chapter."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable short code used in links and imports (``nrw``, ``koeln``).
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: Display name; unit names are proper names and are not translated.
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[UnitKind] = mapped_column(sa.Enum(UnitKind, native_enum=False, length=20))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    #: When the unit stopped working; a retired unit keeps its responses and programme
    #: history but is no longer offered for new work.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


class Role(enum.StrEnum):
    """What a staff account may do; see accounts.permissions."""

    ADMIN = "admin"
    BUILDER = "builder"
    EVALUATOR = "evaluator"
    INTERVIEWER = "interviewer"


class User(UserMixin, db.Model):
    """A staff account. Respondents never have one."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Login name, stored lower-case.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(sa.Enum(Role, native_enum=False, length=20))
    #: The unit the account works for; ``None`` for federation-wide staff.
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.is_active_account

    def set_password(self, password: str) -> None:
        """Store a salted hash of ``password``."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """True when ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
