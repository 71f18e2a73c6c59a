"""The unit tree: CSV import (all or nothing, idempotent), moving without cycles, retiring."""

from __future__ import annotations

import io

import sqlalchemy as sa

from surveyapp.accounts.models import Role, Unit, UnitKind
from surveyapp.accounts.services import import_units_csv, unit_with_descendants
from surveyapp.audit.models import AuditEntry
from surveyapp.db import db
from tests.accounts.test_permissions import log_in_as
from tests.conftest import count_rows, csrf_token
from tests.programmes.conftest import submit_responses, unit

GOOD_CSV = """code;name;parent code
bayern-nord;Bayern Nord;bayern
bayern;Bayern;bund
nuernberg;Nürnberg;bayern-nord
koeln;Köln am Rhein;nrw
"""


def _upload(client, text: str, name: str = "units.csv"):
    token = csrf_token(client.get("/staff/units/import").get_data(as_text=True))
    return client.post("/staff/units/import", data={
        "csrf_token": token, "file": (io.BytesIO(text.encode("utf-8")), name)},
        content_type="multipart/form-data")


def test_import_creates_parents_given_later_and_is_idempotent(app, staff_client):
    response = _upload(staff_client, GOOD_CSV)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "3 new, 1 changed, 0 unchanged" in response.get_data(as_text=True)
    assert unit("nuernberg").parent.code == "bayern-nord"
    assert unit("bayern").kind is UnitKind.REGION
    assert unit("koeln").name == "Köln am Rhein"
    assert set(unit_with_descendants("bayern")) == {
        unit(code).id for code in ("bayern", "bayern-nord", "nuernberg")}
    before = count_rows(Unit)
    again = _upload(staff_client, GOOD_CSV)
    assert "0 new, 0 changed, 4 unchanged" in again.get_data(as_text=True)
    assert count_rows(Unit) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .filter_by(action="unit.import")) == 2


def test_import_with_bad_rows_imports_nothing_and_names_each_row(app, staff_client):
    before = count_rows(Unit)
    text = ("code,name,parent\n"
            "hessen,Hessen,bund\n"          # fine, but must not be stored
            "Bad Code!,Somewhere,bund\n"     # row 3: malformed code
            "kassel,,hessen\n"               # row 4: no name
            "fulda,Fulda,nowhere\n"          # row 5: unknown parent
            "hessen,Hessen again,bund\n")    # row 6: duplicate
    response = _upload(staff_client, text)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was imported" in page
    for row in ("Row 3", "Row 4", "Row 5", "Row 6"):
        assert row in page
    assert "Row 2" not in page
    assert count_rows(Unit) == before
    assert unit("hessen") is None


def test_import_refuses_a_cycle_in_the_file_and_through_existing_units(app):
    report = import_units_csv("code,name,parent\na1,A,b1\nb1,B,a1\n")
    assert report.problems and not report.created
    # nrw would move below its own chapter koeln
    report = import_units_csv("code,name,parent\nnrw,Nordrhein-Westfalen,koeln\n")
    assert [row for row, _message in report.problems] == [2]
    assert unit("nrw").parent.code == "bund"


def test_moving_a_unit_and_refusing_cycles(app, staff_client):
    nrw, sachsen, koeln = unit("nrw"), unit("sachsen"), unit("koeln")
    page = staff_client.get(f"/staff/units/{koeln.id}").get_data(as_text=True)
    response = staff_client.post(f"/staff/units/{koeln.id}", data={
        "csrf_token": csrf_token(page), "name": "Köln", "parent": sachsen.id, "kind": "chapter"})
    assert response.status_code == 302
    db.session.expire_all()
    assert unit("koeln").parent.code == "sachsen"
    assert unit("koeln").id in unit_with_descendants("sachsen")
    # nrw under one of its own chapters: refused, nothing changed, the typed name kept
    response = staff_client.post(f"/staff/units/{nrw.id}", data={
        "csrf_token": csrf_token(page), "name": "NRW renamed", "parent": unit("dortmund").id,
        "kind": "region"})
    assert response.status_code == 422
    db.session.expire_all()
    assert unit("nrw").parent.code == "bund" and unit("nrw").name == "Nordrhein-Westfalen"
    # the same unit as its own parent
    response = staff_client.post(f"/staff/units/{nrw.id}", data={
        "csrf_token": csrf_token(page), "name": "NRW", "parent": nrw.id, "kind": "region"})
    assert response.status_code == 422


def test_units_with_history_are_retired_never_deleted(app, staff_client):
    from datetime import UTC, datetime

    submit_responses("dresden", datetime(2026, 5, 1, 12, tzinfo=UTC))
    dresden = unit("dresden")
    page = staff_client.get(f"/staff/units/{dresden.id}").get_data(as_text=True)
    assert "Delete this unit" not in page
    token = csrf_token(page)
    assert staff_client.post(f"/staff/units/{dresden.id}/delete",
                             data={"csrf_token": token}).status_code == 422
    assert staff_client.post(f"/staff/units/{dresden.id}/retire",
                             data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert unit("dresden").retired_at is not None
    assert "retired" in staff_client.get("/staff/units/").get_data(as_text=True)
    # a parent with a working sub-unit cannot be retired
    assert staff_client.post(f"/staff/units/{unit('sachsen').id}/retire",
                             data={"csrf_token": token}).status_code == 422
    # a unit that was never used can be deleted (a typo)
    response = staff_client.post("/staff/units/new", data={
        "csrf_token": token, "code": "tyop", "name": "Tyop", "parent": unit("nrw").id,
        "kind": "chapter"})
    assert response.status_code == 302
    typo = unit("tyop")
    assert staff_client.post(f"/staff/units/{typo.id}/delete",
                             data={"csrf_token": token}).status_code == 302
    assert unit("tyop") is None


def test_adding_a_unit_with_a_bad_code_keeps_what_was_typed(app, staff_client):
    token = csrf_token(staff_client.get("/staff/units/new").get_data(as_text=True))
    response = staff_client.post("/staff/units/new", data={
        "csrf_token": token, "code": "Not OK", "name": "Bremen", "parent": unit("bund").id,
        "kind": "region"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Bremen"' in page and 'value="Not OK"' in page
    assert unit("bremen") is None


def test_only_admins_manage_units(app):
    for role in (Role.BUILDER, Role.EVALUATOR, Role.INTERVIEWER):
        client = log_in_as(app, role)
        assert client.get("/staff/units/").status_code == 403
        response = client.post("/staff/units/import", data={"csrf_token": client.csrf})
        assert response.status_code == 403
