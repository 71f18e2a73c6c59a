"""Admins hand out and erase one person's data by receipt code; both are in the audit log."""

import json
import shutil
import subprocess

import pytest
import sqlalchemy as sa

from surveyapp.audit.models import AuditEntry
from surveyapp.db import db
from surveyapp.responses.models import Response
from tests.conftest import csrf_token
from tests.responses.test_withdrawal import MARKER, submit_with_marker


def lookup(staff_client, code):
    page = staff_client.get("/staff/privacy/")
    return staff_client.post("/staff/privacy/", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "code": code})


def test_lookup_export_and_audit(app, staff_client):
    code = submit_with_marker(app.test_client())
    found = lookup(staff_client, code.lower())
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and "Response found" in html
    response_id = db.session.scalars(sa.select(Response.id)).one()
    token = csrf_token(html)
    export = staff_client.post(f"/staff/privacy/{response_id}/export",
                               data={"csrf_token": token})
    document = json.loads(export.get_data(as_text=True))
    assert document["questionnaire"] == "exit-survey" and document["status"] == "complete"
    assert any(a["text"] == MARKER for a in document["answers"])
    assert document["consent"]["purposes"] == ["answers"]
    assert all(a["question_text"] for a in document["answers"])
    actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert actions == ["response.access_export"]


def test_unknown_code_is_reported(app, staff_client):
    response = lookup(staff_client, "ABCD-EFGH-JKLM-NPQR")
    assert response.status_code == 422
    assert "No response has this receipt code." in response.get_data(as_text=True)


def test_erasure_needs_confirmation_then_leaves_no_trace(app, staff_client):
    code = submit_with_marker(app.test_client())
    html = lookup(staff_client, code).get_data(as_text=True)
    response_id = db.session.scalars(sa.select(Response.id)).one()
    token = csrf_token(html)
    refused = staff_client.post(f"/staff/privacy/{response_id}/erase", data={"csrf_token": token})
    assert refused.status_code == 422
    assert db.session.get(Response, response_id) is not None
    done = staff_client.post(f"/staff/privacy/{response_id}/erase",
                             data={"csrf_token": token, "confirm": "y"})
    assert "has been erased" in done.get_data(as_text=True)
    db.session.expire_all()
    # The planted marker is nowhere in the database: not in answers, drafts, consent, the log.
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)).all():
            assert MARKER not in str(row), table.name
    assert db.session.get(Response, response_id) is None
    entries = db.session.scalars(sa.select(AuditEntry)).all()
    assert [(e.action, e.target) for e in entries] == [("response.erase",
                                                       f"response:{response_id}")]
    assert lookup(staff_client, code).status_code == 422


def test_audit_log_page_for_admins(app, staff_client):
    from surveyapp.audit.services import record

    record(None, "response.erase", "response:1")
    db.session.commit()
    html = staff_client.get("/staff/audit/").get_data(as_text=True)
    assert "response.erase" in html and "response:1" in html


def _pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "access.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_access_document_as_pdf_in_the_persons_language(app, staff_client, tmp_path):
    code = submit_with_marker(app.test_client())
    html = lookup(staff_client, code).get_data(as_text=True)
    response = db.session.scalars(sa.select(Response)).one()
    pdf = staff_client.post(f"/staff/privacy/{response.id}/export.pdf",
                            data={"csrf_token": csrf_token(html)})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = _pdf_text(pdf.data, tmp_path)
    # The marker mixes Latin and Arabic; pdftotext may give the Arabic part in visual order.
    latin = MARKER.split("-زهرة")[0]
    assert "Your data" in text and latin in text and "SHA-256" in text
    assert db.session.scalars(sa.select(AuditEntry.action)).all() == [
        "response.access_export_pdf"]
    # In the language the person answered in: Arabic, laid out right to left.
    response.language = "ar"
    db.session.commit()
    pdf = staff_client.post(f"/staff/privacy/{response.id}/export.pdf",
                            data={"csrf_token": csrf_token(html)})
    arabic = _pdf_text(pdf.data, tmp_path)
    assert latin in arabic and "Your data" not in arabic
