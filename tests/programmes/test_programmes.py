"""A programme run through two stages: marks counted and entered, confirmation, history."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from surveyapp.accounts.models import Role
from surveyapp.audit.models import AuditEntry
from surveyapp.db import db
from surveyapp.programmes.metrics import all_metrics, count_mark, register_metric
from surveyapp.programmes.models import (
    MarkEntry,
    MarkKind,
    Participation,
    ParticipationStatus,
    Programme,
    Stage,
)
from surveyapp.programmes.services import (
    AlreadyConfirmed,
    Decision,
    ProgrammeError,
    add_entry,
    add_marks,
    add_unit_to_stage,
    confirm_stage,
    create_programme,
    stage_choices,
    stage_progress,
    stage_scope,
    suggest_dates,
)
from tests.accounts.test_permissions import log_in_as
from tests.conftest import count_rows, csrf_token
from tests.programmes.conftest import submit_responses, unit

JAN, MAR_END = date(2027, 1, 1), date(2027, 3, 31)


def _at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _participation(stage: Stage, code: str) -> Participation | None:
    return next((p for p in stage.participations if p.unit.code == code), None)


def _post(client, url: str, data: dict):
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_a_programme_through_two_stages(app, staff_client, admin):
    # An admin starts the programme; the first stage's dates are suggested on the form.
    assert 'name="starts_on"' in staff_client.get("/staff/programmes/new").get_data(as_text=True)
    response = _post(staff_client, "/staff/programmes/new", {
        "name": "Regionen-Benchmark", "starts_on": "2027-01-01", "ends_on": "2027-03-31"})
    assert response.status_code == 302
    programme = db.session.scalar(sa.select(Programme).filter_by(name="Regionen-Benchmark"))
    stage = programme.stages[0]
    for code in ("nrw", "sachsen"):
        response = _post(staff_client, f"/staff/programmes/stages/{stage.id}/units",
                         {"unit": unit(code).id})
        assert response.status_code == 302, response.get_data(as_text=True)
    both = [unit("nrw").id, unit("sachsen").id]
    response = _post(staff_client, f"/staff/programmes/stages/{stage.id}/marks", {
        "kind": "counted", "metric": "complete_responses", "param_questionnaire": "exit-survey",
        "label": "", "target": "3", "units": both})
    assert response.status_code == 302, response.get_data(as_text=True)
    response = _post(staff_client, f"/staff/programmes/stages/{stage.id}/marks", {
        "kind": "entered", "label": "Veranstaltungen", "target": "2", "units": both})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert len(stage.marks) == 4

    # NRW: three complete responses from its chapters within the stage, two outside it.
    submit_responses("koeln", _at(JAN, 0, 5), 2)
    submit_responses("dortmund", _at(MAR_END, 23, 50))
    submit_responses("koeln", _at(date(2026, 12, 31), 23, 59))
    submit_responses("nrw", _at(date(2027, 4, 1), 0, 1))
    submit_responses("leipzig", _at(date(2027, 2, 1)))
    # Staff report events: entries add up.
    events = {m.unit.code: m for m in stage.marks if m.kind is MarkKind.ENTERED}
    for amount, note in ((1, "Sommerfest"), (1, "Infoabend")):
        response = staff_client.post(
            f"/staff/programmes/marks/{events['nrw'].id}/entries",
            data={"csrf_token": csrf_token(staff_client.get(
                f"/staff/programmes/marks/{events['nrw'].id}").get_data(as_text=True)),
                "amount": str(amount), "happened_on": "2027-02-14", "note": note})
        assert response.status_code == 302
    add_entry(events["sachsen"], 1, "Stammtisch", date(2027, 2, 1), admin)
    db.session.commit()

    page = staff_client.get(f"/staff/programmes/{programme.id}").get_data(as_text=True)
    assert "3 of 3" in page and "2 of 2" in page and "1 of 3" in page and "1 of 2" in page
    assert page.count("✓ </span>met") == 2
    assert "advances (every mark met)" in page and "drops out (2 marks not met)" in page

    # The end of the stage: the proposal is the form's default; Berlin enters as a new unit.
    confirm_url = f"/staff/programmes/stages/{stage.id}/confirm"
    confirm_page = staff_client.get(confirm_url).get_data(as_text=True)
    assert 'value="2027-04-01"' in confirm_page and 'value="2027-06-30"' in confirm_page
    decisions = {f"decision_{unit('nrw').id}": "advanced",
                 f"decision_{unit('sachsen').id}": "dropped_out",
                 "next_starts_on": "2027-04-01", "next_ends_on": "2027-06-30",
                 "newcomers": [unit("berlin").id]}
    token = csrf_token(confirm_page)
    response = staff_client.post(confirm_url, data={"csrf_token": token, **decisions})
    assert response.status_code == 302, response.get_data(as_text=True)
    # A second click (or a second admin) changes nothing.
    again = staff_client.post(confirm_url, data={"csrf_token": token, **decisions})
    assert again.status_code == 409
    db.session.expire_all()
    assert [s.number for s in programme.stages] == [1, 2]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .filter_by(action="programme.stage_confirm")) == 1

    first, second = programme.stages
    assert _participation(first, "nrw").status is ParticipationStatus.ADVANCED
    assert _participation(first, "sachsen").status is ParticipationStatus.DROPPED_OUT
    assert (_participation(second, "nrw").level, _participation(second, "nrw").attempt) == (2, 1)
    assert _participation(second, "berlin").level == 1
    assert _participation(second, "sachsen") is None
    assert (second.starts_on, second.ends_on) == (date(2027, 4, 1), date(2027, 6, 30))

    # Sachsen applies again: it re-enters at level 1, as its second run; history stays.
    response = _post(staff_client, f"/staff/programmes/stages/{second.id}/units",
                     {"unit": unit("sachsen").id})
    assert response.status_code == 302
    db.session.expire_all()
    again = _participation(second, "sachsen")
    assert (again.level, again.attempt, again.status) == (1, 2, ParticipationStatus.ACTIVE)
    assert _participation(first, "sachsen").status is ParticipationStatus.DROPPED_OUT

    # The board keeps stage 1 with its values frozen at confirmation.
    submit_responses("koeln", _at(date(2027, 2, 2)), 5)  # late import into a closed stage
    db.session.commit()
    page = staff_client.get(f"/staff/programmes/{programme.id}").get_data(as_text=True)
    assert "Stage 1: " in page and "Stage 2: " in page
    assert "3 of 3" in page and "Confirmed on" in page
    assert page.index("Stage 2: ") < page.index("Stage 1: ")  # current stage first


def test_counted_marks_count_only_within_the_stage_dates_and_units(app):
    programme = create_programme("Zählung", JAN, MAR_END, None)
    stage = programme.stages[0]
    add_unit_to_stage(stage, unit("nrw"), None)
    [mark] = add_marks(stage, [unit("nrw")], "", MarkKind.COUNTED, 10,
                       metric="complete_responses", params={"questionnaire": "exit-survey"})
    assert mark.label == ""  # shown as the metric's label in the reader's language
    submit_responses("koeln", _at(JAN, 0, 0))            # first moment: in
    submit_responses("dortmund", _at(MAR_END, 23, 59))   # last minute: in
    submit_responses("nrw", _at(date(2027, 2, 1)), 2)   # the unit itself: in
    submit_responses("koeln", _at(date(2026, 12, 31), 23, 59))  # before: out
    submit_responses("koeln", _at(date(2027, 4, 1), 0, 0))      # after: out
    submit_responses("leipzig", _at(date(2027, 2, 1)))           # other unit: out
    submit_responses("koeln", _at(date(2027, 2, 1)), slug="mentors")  # other questionnaire
    [row] = stage_progress(stage)
    assert row.marks[0].value == 4 and not row.marks[0].met and row.marks[0].percent == 40


def test_staff_entries_add_up_and_are_checked(app, admin, staff_client):
    programme = create_programme("Einträge", JAN, MAR_END, admin)
    stage = programme.stages[0]
    add_unit_to_stage(stage, unit("berlin"), admin)
    [letters] = add_marks(stage, [unit("berlin")], "Briefe an Betriebe", MarkKind.ENTERED, 500)
    add_entry(letters, 200, "Serienbrief Januar", date(2027, 1, 20), admin)
    add_entry(letters, 320, "Serienbrief Februar", date(2027, 2, 20), admin)
    add_entry(letters, -20, "Korrektur: 20 Briefe kamen zurück", date(2027, 2, 21), admin)
    db.session.commit()
    [row] = stage_progress(stage)
    assert row.marks[0].value == 500 and row.marks[0].met
    # Without a note nothing is stored and what was typed is kept.
    url = f"/staff/programmes/marks/{letters.id}"
    token = csrf_token(staff_client.get(url).get_data(as_text=True))
    response = staff_client.post(url + "/entries", data={
        "csrf_token": token, "amount": "7", "happened_on": "2027-03-01", "note": ""})
    assert response.status_code == 422
    assert 'value="7"' in response.get_data(as_text=True)
    assert count_rows(MarkEntry) == 3
    # A double click on "Add" adds the number once.
    key = re.search(r'name="key" type="hidden" value="([^"]+)"',
                    staff_client.get(url).get_data(as_text=True)).group(1)
    for _click in range(2):
        response = staff_client.post(url + "/entries", data={
            "csrf_token": token, "key": key, "amount": "7", "happened_on": "2027-03-01",
            "note": "Nachzügler"})
        assert response.status_code == 302
    assert count_rows(MarkEntry) == 4
    # ... and so does a double click on "Add a target mark".
    for _click in range(2):
        add_marks(stage, [unit("berlin")], "Briefe an Betriebe", MarkKind.ENTERED, 500)
    assert len(stage.marks) == 1
    with pytest.raises(ProgrammeError):
        add_entry(letters, 0, "nothing", date(2027, 3, 1), admin)
    [counted] = add_marks(stage, [unit("berlin")], "", MarkKind.COUNTED, 5,
                          metric="complete_responses", params={"questionnaire": "exit-survey"})
    with pytest.raises(ProgrammeError):
        add_entry(counted, 1, "cannot enter a counted mark", date(2027, 3, 1), admin)


def test_deciding_against_the_proposal_needs_a_reason_and_confirming_twice_is_refused(app, admin):
    programme = create_programme("Entscheidungen", JAN, MAR_END, admin)
    stage = programme.stages[0]
    add_unit_to_stage(stage, unit("nrw"), admin)
    add_marks(stage, [unit("nrw")], "Neue Mitglieder", MarkKind.ENTERED, 5)
    dropped = {unit("nrw").id: Decision(ParticipationStatus.ADVANCED)}  # not met: proposal is out
    with pytest.raises(ProgrammeError):
        confirm_stage(stage, dropped, suggest_dates(stage), [], admin)
    assert not stage.is_confirmed
    dropped[unit("nrw").id].note = "Mitgliederwerbung lief erst im März an"
    with pytest.raises(ProgrammeError):  # the next stage must follow this one
        confirm_stage(stage, dropped, (MAR_END, date(2027, 6, 30)), [], admin)
    next_stage = confirm_stage(stage, dropped, suggest_dates(stage), [], admin)
    assert next_stage.number == 2 and stage.is_confirmed
    with pytest.raises(AlreadyConfirmed):
        confirm_stage(stage, dropped, suggest_dates(stage), [], admin)
    assert len(programme.stages) == 2
    with pytest.raises(ProgrammeError):  # a closed stage takes no entries or units
        add_unit_to_stage(stage, unit("berlin"), admin)


def test_stage_scope_gives_units_with_their_sub_units_and_the_dates(app):
    programme = create_programme("Umfang", JAN, MAR_END, None)
    stage = programme.stages[0]
    add_unit_to_stage(stage, unit("nrw"), None)
    add_unit_to_stage(stage, unit("berlin"), None)
    ids, start, end = stage_scope(stage.id)
    assert set(ids) == {unit(c).id for c in ("nrw", "koeln", "dortmund", "berlin",
                                             "berlin-mitte")}
    assert (start, end) == (JAN, MAR_END)
    with force_locale("en"):  # outside a request the deployment's default locale applies
        assert (stage.id, "Umfang: stage 1 (2027-01-01 to 2027-03-31)") in stage_choices()
    with pytest.raises(LookupError):
        stage_scope(999999)


def test_suggested_dates_follow_the_stage(app):
    programme = create_programme("Daten", date(2027, 1, 1), date(2027, 3, 31), None)
    assert suggest_dates(programme.stages[0]) == (date(2027, 4, 1), date(2027, 6, 30))
    assert suggest_dates(today=date(2027, 11, 15)) == (date(2027, 12, 1), date(2028, 2, 29))


def test_more_counted_metrics_can_be_registered(app):
    metric = register_metric("test_units_counted", "Units counted",
                             lambda unit_ids, start, end: len(unit_ids))
    try:
        assert metric in all_metrics()
        assert count_mark("test_units_counted", [1, 2, 3], JAN, MAR_END, {}) == 3
        assert count_mark("unknown", [1], JAN, MAR_END, {}) is None
    finally:
        from surveyapp.programmes import metrics

        metrics._REGISTRY.pop("test_units_counted")


def test_who_may_do_what(app, admin):
    programme = create_programme("Rechte", JAN, MAR_END, admin)
    stage = programme.stages[0]
    add_unit_to_stage(stage, unit("nrw"), admin)
    [events] = add_marks(stage, [unit("nrw")], "Veranstaltungen", MarkKind.ENTERED, 2)
    db.session.commit()
    board = f"/staff/programmes/{programme.id}"
    entry = f"/staff/programmes/marks/{events.id}/entries"
    data = {"amount": "1", "happened_on": "2027-02-01", "note": "Fest"}
    evaluator = log_in_as(app, Role.EVALUATOR)
    assert evaluator.get(board).status_code == 200
    assert evaluator.post(entry, data={"csrf_token": evaluator.csrf, **data}).status_code == 403
    assert evaluator.get(f"/staff/programmes/stages/{stage.id}/confirm").status_code == 403
    builder = log_in_as(app, Role.BUILDER)
    assert builder.post(entry, data={"csrf_token": builder.csrf, **data}).status_code == 302
    assert builder.get(f"/staff/programmes/stages/{stage.id}/marks").status_code == 403
    interviewer = log_in_as(app, Role.INTERVIEWER)
    assert interviewer.get(board).status_code == 403
    db.session.expire_all()
    assert [e.amount for e in events.entries] == [1]


def test_a_unit_above_or_below_one_taking_part_cannot_join(app):
    programme = create_programme("Überlappung", JAN, MAR_END, None)
    stage = programme.stages[0]
    add_unit_to_stage(stage, unit("nrw"), None)
    for code in ("koeln", "bund"):
        with pytest.raises(ProgrammeError):
            add_unit_to_stage(stage, unit(code), None)
    from surveyapp.programmes.services import joinable_units

    offered = {u.code for u, _depth in joinable_units(stage)}
    assert {"sachsen", "leipzig", "berlin"} <= offered
    assert not offered & {"nrw", "koeln", "dortmund", "bund"}


def test_confirm_form_against_the_proposal_without_reason_points_at_the_note(app, staff_client,
                                                                             admin):
    programme = create_programme("Begründung", JAN, MAR_END, admin)
    stage = programme.stages[0]
    add_unit_to_stage(stage, unit("nrw"), admin)
    add_marks(stage, [unit("nrw")], "Neue Mitglieder", MarkKind.ENTERED, 5)
    db.session.commit()
    url = f"/staff/programmes/stages/{stage.id}/confirm"
    nrw = unit("nrw").id
    data = {f"decision_{nrw}": "advanced", "next_starts_on": "2027-04-01",
            "next_ends_on": "2027-06-30"}
    response = _post(staff_client, url, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'href="#note_{nrw}"' in page
    assert f'<input checked id="decision_{nrw}-0"' in page  # "advances", as chosen, is kept
    db.session.expire_all()
    assert not stage.is_confirmed and len(programme.stages) == 1
    response = _post(staff_client, url, {**data, f"note_{nrw}": "Werbung startete spät"})
    assert response.status_code == 302
    db.session.expire_all()
    assert _participation(stage, "nrw").note == "Werbung startete spät"


def test_new_contacts_count_as_a_mark_within_the_stage(app):
    from surveyapp.fieldwork.models import Contact
    from surveyapp.questionnaires.services import get_by_slug

    questionnaire = get_by_slug("exit-survey")
    for number, (code, day) in enumerate([("koeln", JAN), ("nrw", MAR_END),
                                          ("koeln", date(2027, 4, 1)), ("berlin", JAN)]):
        db.session.add(Contact(questionnaire_id=questionnaire.id, name=f"P{number}",
                               email=f"p{number}@example.org", unit_id=unit(code).id,
                               language="de", created_at=_at(day, 23, 59)))
    db.session.flush()
    nrw = [unit(c).id for c in ("nrw", "koeln", "dortmund")]
    assert count_mark("new_contacts", nrw, JAN, MAR_END, {"questionnaire": "exit-survey"}) == 2
