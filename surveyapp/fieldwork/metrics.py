"""Fieldwork's counted target mark for programmes: new contacts per unit and stage."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from surveyapp.db import db
from surveyapp.fieldwork.models import Contact
from surveyapp.programmes.metrics import QUESTIONNAIRE, register_metric
from surveyapp.questionnaires.models import Questionnaire


def count_new_contacts(unit_ids: list[int], start: date, end: date, *,
                       questionnaire: str) -> int:
    """Contacts of questionnaire ``questionnaire`` (a slug) in these units, added from ``start``
    to ``end`` (UTC days, both counted in): one COUNT."""
    return db.session.scalar(
        sa.select(sa.func.count(Contact.id))
        .join(Questionnaire, Questionnaire.id == Contact.questionnaire_id)
        .where(Questionnaire.slug == questionnaire, Contact.unit_id.in_(unit_ids),
               Contact.created_at >= datetime.combine(start, time.min, tzinfo=UTC),
               Contact.created_at < datetime.combine(end + timedelta(days=1), time.min,
                                                     tzinfo=UTC))) or 0


register_metric("new_contacts", _l("New contacts of a questionnaire"), count_new_contacts,
                (QUESTIONNAIRE,))
