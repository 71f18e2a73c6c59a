"""Writing to the audit log (in the caller's transaction, so the log and the act agree)."""

from __future__ import annotations

import sqlalchemy as sa

from surveyapp.audit.models import AuditEntry
from surveyapp.db import db


def record(user_id: int | None, action: str, target: str) -> AuditEntry:
    """Log that ``user_id`` did ``action`` to ``target``; flushed, committed with the act."""
    entry = AuditEntry(user_id=user_id, action=action, target=target)
    db.session.add(entry)
    db.session.flush()
    return entry


def recent(limit: int = 200) -> list[AuditEntry]:
    """The newest entries first."""
    return list(db.session.scalars(
        sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
