"""A small demo programme: three regions, a confirmed first stage and a running second one."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from surveyapp.accounts.models import Unit
from surveyapp.db import db
from surveyapp.programmes.models import MarkKind, Programme
from surveyapp.programmes.services import (
    Decision,
    add_entry,
    add_marks,
    add_months,
    add_unit_to_stage,
    confirm_stage,
    create_programme,
    stage_progress,
)

DEMO_NAME = "Regionen-Benchmark (Demo)"


def seed_demo_programme(today: date | None = None) -> Programme | None:
    """Add the demo programme when the demo regions exist and it does not; return it.

    Stage 2 is the quarter holding ``today``; stage 1 the quarter before. In stage 1 NRW and
    Sachsen meet their marks and advance, Berlin drops out and applies again in stage 2.
    """
    if db.session.scalar(sa.select(Programme.id).filter_by(name=DEMO_NAME)) is not None:
        return None
    units = {u.code: u for u in db.session.scalars(
        sa.select(Unit).where(Unit.code.in_(["nrw", "sachsen", "berlin"])))}
    if len(units) < 3:
        return None
    today = today or date.today()
    quarter_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    first_start = add_months(quarter_start, -3)
    programme = create_programme(DEMO_NAME, first_start, quarter_start - timedelta(days=1), None)
    first = programme.stages[0]
    regions = [units["nrw"], units["sachsen"], units["berlin"]]
    for unit in regions:
        add_unit_to_stage(first, unit, None)
    events = add_marks(first, regions, "Veranstaltungen mit 50 Personen", MarkKind.ENTERED, 2)
    letters = add_marks(first, regions, "Briefe an Betriebe", MarkKind.ENTERED, 300)
    for mark, counts in zip(events + letters, ((1, 1), (2,), (1,), (320,), (150, 150), (120,)),
                            strict=True):
        for number, amount in enumerate(counts):
            add_entry(mark, amount, "Demo", first.starts_on + timedelta(days=20 + 30 * number),
                      None)
    decisions = {row.participation.unit_id: Decision(row.proposal)
                 for row in stage_progress(first)}
    second = confirm_stage(first, decisions, (quarter_start, add_months(quarter_start, 3)
                                              - timedelta(days=1)), [], None)
    add_unit_to_stage(second, units["berlin"], None)
    add_marks(second, regions[:2], "", MarkKind.COUNTED, 40, metric="complete_responses",
              params={"questionnaire": "member-activation"})
    add_marks(second, regions[2:], "", MarkKind.COUNTED, 15, metric="complete_responses",
              params={"questionnaire": "member-activation"})
    members = add_marks(second, regions, "Neue Mitglieder", MarkKind.ENTERED, 5)
    for mark, amount in zip(members, (3, 5, 1), strict=True):
        add_entry(mark, amount, "Demo", quarter_start + timedelta(days=10), None)
    return programme
