"""Retention: expired answers, old drafts and previews go; a second run finds nothing."""

import csv
import io
from datetime import timedelta

import sqlalchemy as sa

from surveyapp.consent.models import ConsentRecord
from surveyapp.db import db, utcnow
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Answer, Response, ResponseStatus
from surveyapp.responses.retention import purge
from surveyapp.transfer import write_consent_records_csv
from tests.conftest import count_rows
from tests.respondent import Respondent


def make_responses(client):
    """Two complete responses and one draft of the exit survey."""
    for _ in range(2):
        respondent = Respondent(client, "exit-survey")
        respondent.start()
        respondent.complete()
    draft = Respondent(client, "exit-survey")
    draft.start()
    draft.fill_current()


def age(status, days):
    """Move every response of ``status`` ``days`` into the past."""
    past = utcnow() - timedelta(days=days)
    for response in db.session.scalars(sa.select(Response).filter_by(status=status)):
        response.submitted_at = past if response.submitted_at else None
        response.updated_at = past
        response.started_at = past
    db.session.commit()


def test_nothing_is_purged_before_its_time(app):
    make_responses(app.test_client())
    assert purge().total == 0
    assert count_rows(Response) == 3


def test_expired_answers_and_drafts_are_deleted_and_purge_is_idempotent(app):
    make_responses(app.test_client())
    retention = get_by_slug("exit-survey").retention_days
    age(ResponseStatus.COMPLETE, retention + 1)
    age(ResponseStatus.DRAFT, 31)
    report = purge()
    db.session.commit()
    assert (report.expired, report.drafts) == (2, 1)
    assert count_rows(Response) == 0 and count_rows(Answer) == 0
    assert count_rows(ConsentRecord) == 0
    assert purge().total == 0  # safe to run again, from cron


def test_purge_command_dry_run_changes_nothing(app, runner):
    make_responses(app.test_client())
    age(ResponseStatus.DRAFT, 31)
    result = runner.invoke(args=["purge", "--dry-run"])
    assert "would delete: 0 expired responses, 1 old drafts" in result.output
    assert count_rows(Response) == 3
    result = runner.invoke(args=["purge"])
    assert "deleted: 0 expired responses, 1 old drafts" in result.output
    assert count_rows(Response) == 2


def test_previews_are_deleted_after_a_day(app, staff_client):
    from tests.conftest import hidden_values

    html = staff_client.get("/s/exit-survey?preview=1").get_data(as_text=True)
    staff_client.post("/s/exit-survey?preview=1", data={**hidden_values(html), "consent": "y"})
    assert purge().previews == 0
    response = db.session.scalars(sa.select(Response)).one()
    response.started_at = utcnow() - timedelta(days=2)
    db.session.commit()
    assert purge().previews == 1


def test_consent_page_says_how_long_answers_are_kept(client):
    html = client.get("/s/exit-survey?lang=en").get_data(as_text=True)
    assert "kept for 24 months" in html and "deleted after 30 days" in html
    german = client.get("/s/exit-survey?lang=de").get_data(as_text=True)
    assert "24 Monate" in german


def test_consent_records_export_without_answers(app, staff_client):
    make_responses(app.test_client())
    out = io.StringIO()
    assert write_consent_records_csv(get_by_slug("exit-survey"), out) == 3
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {r["response_status"] for r in rows} == {"complete", "draft"}
    assert all(len(r["text_sha256"]) == 64 and r["purposes"] == "answers" for r in rows)
    download = staff_client.get("/staff/questionnaires/exit-survey/consent-records.csv")
    assert download.mimetype == "text/csv"
    assert download.get_data(as_text=True).startswith("\ufeffrecord_id,")
    assert "Beispieltext" not in download.get_data(as_text=True)  # no answers in it


def test_retention_settings_round_trip_and_are_checked(app):
    import copy

    import pytest

    from surveyapp.questionnaires.definition import DefinitionError, parse_definition
    from surveyapp.transfer import export_questionnaire

    exported = export_questionnaire(get_by_slug("exit-survey"))
    assert (exported["retention_days"], exported["draft_days"]) == (730, 30)
    bad = copy.deepcopy(exported)
    bad["retention_days"] = 0
    with pytest.raises(DefinitionError, match="retention_days"):
        parse_definition(bad)
