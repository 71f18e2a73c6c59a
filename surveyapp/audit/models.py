"""Audit log entries."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.db import UTCDateTime, db, utcnow


class AuditEntry(db.Model):
    """One action by a staff member. Never holds answers: only what happened to what."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: The staff account (kept as a plain id so that deleting an account keeps its history).
    user_id: Mapped[int | None] = mapped_column()
    #: What was done: ``response.access_export``, ``response.erase``, ...
    action: Mapped[str] = mapped_column(sa.String(60))
    #: What it was done to: ``response:123``, ``questionnaire:exit-survey``.
    target: Mapped[str] = mapped_column(sa.String(120))
