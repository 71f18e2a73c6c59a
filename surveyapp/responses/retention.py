"""Retention: what has outlived its questionnaire's retention period is deleted, on a schedule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from surveyapp.consent.models import ConsentRecord
from surveyapp.db import db, utcnow
from surveyapp.questionnaires.models import Questionnaire
from surveyapp.responses.models import Answer, Response, ResponseStatus, SentLink

#: Staff previews are only for looking: gone after a day.
PREVIEW_DAYS = 1

#: Called as ``hook(questionnaire, now) -> int`` for every questionnaire by ``purge``: later
#: packages (fieldwork's contact lists) delete their own expired personal data and say how
#: much, without this package importing them.
purge_hooks: list[Callable[[Questionnaire, datetime], int]] = []


@dataclass
class PurgeReport:
    """How many responses each rule removed."""

    expired: int = 0
    drafts: int = 0
    previews: int = 0
    #: Contacts (with their invitations and calls) kept longer than the retention period.
    contacts: int = 0

    @property
    def total(self) -> int:
        """All responses removed."""
        return self.expired + self.drafts + self.previews


def _delete_responses(condition) -> int:
    """Delete responses matching ``condition`` with their answers and consent records."""
    ids = sa.select(Response.id).where(condition).scalar_subquery()
    db.session.execute(sa.delete(Answer).where(Answer.response_id.in_(ids)))
    db.session.execute(sa.delete(ConsentRecord).where(ConsentRecord.response_id.in_(ids)))
    result = db.session.execute(sa.delete(Response).where(Response.id.in_(ids)))
    return result.rowcount or 0


def purge(now: datetime | None = None) -> PurgeReport:
    """Delete what has expired; safe to run again and again (a second run finds nothing).

    - complete and withdrawn responses older than the questionnaire's retention period
      (counted from submission),
    - unfinished drafts untouched for longer than the questionnaire's draft period,
    - staff previews older than a day,
    - digests of unlinked resume links older than the draft period,
    - what ``purge_hooks`` delete (contacts added longer ago than the retention period).
    """
    now = now or utcnow()
    report = PurgeReport()
    for questionnaire in db.session.scalars(sa.select(Questionnaire)):
        report.expired += _delete_responses(sa.and_(
            Response.questionnaire_id == questionnaire.id,
            ~Response.is_preview,
            Response.status.in_([ResponseStatus.COMPLETE, ResponseStatus.WITHDRAWN]),
            Response.submitted_at < now - timedelta(days=questionnaire.retention_days),
        ))
        report.drafts += _delete_responses(sa.and_(
            Response.questionnaire_id == questionnaire.id,
            ~Response.is_preview,
            Response.status == ResponseStatus.DRAFT,
            Response.updated_at < now - timedelta(days=questionnaire.draft_days),
        ))
        # A resume link older than the draft period would find nothing anyway.
        db.session.execute(sa.delete(SentLink).where(
            SentLink.questionnaire_id == questionnaire.id,
            SentLink.sent_on < (now - timedelta(days=questionnaire.draft_days)).date()))
        for hook in purge_hooks:
            report.contacts += hook(questionnaire, now)
    report.previews += _delete_responses(sa.and_(
        Response.is_preview, Response.started_at < now - timedelta(days=PREVIEW_DAYS)
    ))
    db.session.flush()
    return report
