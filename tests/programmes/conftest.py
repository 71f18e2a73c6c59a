"""Helpers for the programme tests: real responses at chosen moments, units by code."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from surveyapp.accounts.models import Unit
from surveyapp.db import db
from surveyapp.demo.responses import generate_responses
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Response


def unit(code: str) -> Unit:
    """The demo unit with this code."""
    return db.session.scalar(sa.select(Unit).filter_by(code=code))


def submit_responses(code: str, when: datetime, count: int = 1, slug: str = "exit-survey") -> None:
    """Add ``count`` complete responses from unit ``code``, submitted exactly at ``when``."""
    questionnaire = get_by_slug(slug)
    before = db.session.scalar(sa.select(sa.func.max(Response.id))) or 0
    generate_responses(questionnaire, count, units=[unit(code).id], start=when, days=1)
    db.session.execute(sa.update(Response).where(Response.id > before)
                       .values(submitted_at=when.astimezone(UTC)))
    db.session.flush()
