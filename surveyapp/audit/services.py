"""Writing to the audit log (in the caller's transaction, so the log and the act agree)."""

from __future__ import annotations

import sqlalchemy as sa

from surveyapp.audit.models import AuditEntry
from surveyapp.db import db

#: Entries per page of the log.
PAGE_SIZE = 50


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


def _about(slug: str):
    # Targets name the questionnaire first: "exit-survey", "exit-survey: ...",
    # "exit-survey csv ...". Slugs hold only [a-z0-9-], never LIKE wildcards.
    return sa.or_(AuditEntry.target == slug, AuditEntry.target.like(f"{slug}:%"),
                  AuditEntry.target.like(f"{slug} %"))


def search(*, slug: str | None = None, action: str | None = None, page: int = 1,
           per_page: int = PAGE_SIZE) -> tuple[list[AuditEntry], bool]:
    """One page of entries, newest first, about one questionnaire and/or of one action.

    Returns the entries and whether an older page follows.
    """
    statement = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    if slug:
        statement = statement.where(_about(slug))
    if action:
        statement = statement.where(AuditEntry.action == action)
    found = list(db.session.scalars(
        statement.offset((max(page, 1) - 1) * per_page).limit(per_page + 1)))
    return found[:per_page], len(found) > per_page


def actions() -> list[str]:
    """Every action the log holds, for the filter."""
    return list(db.session.scalars(sa.select(AuditEntry.action).distinct()
                                   .order_by(AuditEntry.action)))
