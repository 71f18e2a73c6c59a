"""The audit log: filtered by questionnaire and action, a page at a time, admins only."""

from __future__ import annotations

from surveyapp.audit.services import PAGE_SIZE, record, search
from surveyapp.db import db


def fill_log():
    record(None, "questionnaire.close", "exit-survey")
    record(None, "questionnaire.settings", "exit-survey: min_group_size")
    record(None, "export_responses", "exit-survey csv web")
    record(None, "questionnaire.close", "mentors")
    record(None, "questionnaire.close", "exit-survey-2")  # another slug with the same start
    record(None, "response.erase", "response:1")
    db.session.commit()


def test_filter_by_questionnaire_and_action(app, staff_client):
    fill_log()
    entries, more = search(slug="exit-survey")
    assert [e.target for e in entries] == ["exit-survey csv web", "exit-survey: min_group_size",
                                           "exit-survey"]
    assert not more
    entries, _ = search(slug="exit-survey", action="questionnaire.close")
    assert [e.target for e in entries] == ["exit-survey"]
    html = staff_client.get("/staff/audit/?questionnaire=mentors&action=questionnaire.close"
                            ).get_data(as_text=True)
    assert "<code>mentors</code>" in html and "exit-survey</code>" not in html
    assert '<option value="questionnaire.close" selected>' in html


def test_paged_newest_first(app, staff_client):
    for number in range(PAGE_SIZE + 3):
        record(None, "questionnaire.settings", f"mentors: change {number}")
    db.session.commit()
    first = staff_client.get("/staff/audit/?questionnaire=mentors").get_data(as_text=True)
    assert f"mentors: change {PAGE_SIZE + 2}" in first and "mentors: change 2<" not in first
    assert "Older entries" in first and "Newer entries" not in first
    second = staff_client.get("/staff/audit/?questionnaire=mentors&page=2").get_data(
        as_text=True)
    assert "mentors: change 2<" in second and "Newer entries" in second
    assert "Older entries" not in second


def test_unknown_filter_values_are_ignored(app, staff_client):
    fill_log()
    response = staff_client.get("/staff/audit/?questionnaire=nope&action=%25&page=x")
    assert response.status_code == 200
    assert "response:1" in response.get_data(as_text=True)


def test_the_log_shows_who_by_e_mail(app, staff_client, admin):
    record(admin, "questionnaire.close", "mentors")
    db.session.commit()
    assert "staff@example.org" in staff_client.get("/staff/audit/").get_data(as_text=True)
