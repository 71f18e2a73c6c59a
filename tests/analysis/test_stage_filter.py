"""The "stage" filter: the units taking part in a programme stage, within the stage's dates."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest

from surveyapp.accounts.models import Role
from surveyapp.analysis.catalogue import load_catalogue
from surveyapp.analysis.filters import ResultFilter, parse_filter
from surveyapp.analysis.summaries import build_results
from surveyapp.db import db
from surveyapp.programmes.services import add_unit_to_stage, create_programme
from surveyapp.questionnaires.services import get_by_slug
from tests.analysis.test_results_pages import login
from tests.programmes.conftest import submit_responses, unit

SLUG = "exit-survey"
FIRST, LAST = date(2027, 1, 1), date(2027, 3, 31)


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def stage(app):
    """Stage 1 (Q1 2027) with NRW and its chapters; responses inside and outside it."""
    programme = create_programme("Benchmark", FIRST, LAST, None)
    stage = programme.stages[0]
    add_unit_to_stage(stage, unit("nrw"), None)
    submit_responses("koeln", _at(FIRST, 0), count=3)       # first minute of the stage: in
    submit_responses("nrw", _at(LAST, 23), count=2)         # last hour of its last day: in
    submit_responses("koeln", _at(date(2027, 4, 1), 0))     # the day after: out
    submit_responses("berlin", _at(date(2027, 2, 1)))       # not taking part: out
    get_by_slug(SLUG).min_group_size = 1
    db.session.commit()
    return stage


def test_stage_keeps_its_units_within_its_days(app, stage):
    catalogue = load_catalogue(get_by_slug(SLUG), "de")
    everything = build_results(catalogue, ResultFilter()).overview.complete
    in_stage = build_results(catalogue, ResultFilter(stage=stage.id)).overview.complete
    assert in_stage == 5
    assert everything >= 7


def test_stage_filter_in_url_page_and_export(app, client, stage):
    login(client, Role.EVALUATOR)
    page = client.get(f"/staff/results/{SLUG}?stage={stage.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Benchmark: stage 1 (2027-01-01 to 2027-03-31)" in html  # named among the filters
    assert re.search(rf'<option value="{stage.id}" selected>', html)
    export = client.get(f"/staff/results/{SLUG}/export.csv?stage={stage.id}")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 5


def test_unknown_stage_is_named_and_left_out(app, stage):
    catalogue = load_catalogue(get_by_slug(SLUG), "de")
    flt, errors = parse_filter(_Args(stage="999999"), catalogue)
    assert flt.stage is None
    assert errors and "999999" in errors[0]
    flt, errors = parse_filter(_Args(stage=str(stage.id)), catalogue)
    assert flt.stage == stage.id and not errors
    assert ("stage", str(stage.id)) in flt.to_args()


class _Args(dict):
    """Query arguments with ``getlist``, as the views and the CLI give them."""

    def getlist(self, key):
        return [self[key]] if key in self else []
