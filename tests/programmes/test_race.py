"""Two admins (or a double click) confirming the same stage at once: exactly one succeeds."""

from __future__ import annotations

import threading
from datetime import date

import sqlalchemy as sa

from surveyapp.accounts.models import Role
from surveyapp.accounts.services import create_user
from surveyapp.audit.models import AuditEntry
from surveyapp.db import db
from surveyapp.programmes.models import Stage
from surveyapp.programmes.services import add_unit_to_stage, create_programme
from tests.conftest import csrf_token
from tests.programmes.conftest import unit


def _admin_client(app, email: str):
    client = app.test_client()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post("/staff/login", data={
        "csrf_token": token, "email": email, "password": "a long enough password"})
    assert response.status_code == 302
    return client


def test_concurrent_confirmations_open_one_next_stage(committing_app):
    with committing_app.app_context():
        for email in ("one@example.org", "two@example.org"):
            create_user(email, Role.ADMIN, "a long enough password")
        programme = create_programme("Wettlauf", date(2027, 1, 1), date(2027, 3, 31), None)
        stage = programme.stages[0]
        add_unit_to_stage(stage, unit("nrw"), None)
        add_unit_to_stage(stage, unit("sachsen"), None)
        db.session.commit()
        stage_id, ids = stage.id, (unit("nrw").id, unit("sachsen").id)
    url = f"/staff/programmes/stages/{stage_id}/confirm"
    clients = [_admin_client(committing_app, e) for e in ("one@example.org", "two@example.org")]
    forms = []
    for client in clients:
        token = csrf_token(client.get(url).get_data(as_text=True))
        forms.append({"csrf_token": token, f"decision_{ids[0]}": "advanced",
                      f"decision_{ids[1]}": "advanced", "next_starts_on": "2027-04-01",
                      "next_ends_on": "2027-06-30"})
    barrier = threading.Barrier(2)
    results = []

    def confirm(client, form):
        barrier.wait()
        results.append(client.post(url, data=form).status_code)

    threads = [threading.Thread(target=confirm, args=pair) for pair in zip(clients, forms,
                                                                           strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [302, 409], results
    with committing_app.app_context():
        numbers = db.session.scalars(sa.select(Stage.number).order_by(Stage.number)).all()
        assert numbers == [1, 2]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                 .filter_by(action="programme.stage_confirm")) == 1
