"""Two admins (or a double click) confirming the same stage, or entering the same number, at
once: exactly one succeeds."""

from __future__ import annotations

import threading
import time
from datetime import date

import sqlalchemy as sa

from surveyapp.accounts.models import Role
from surveyapp.accounts.services import create_user
from surveyapp.audit.models import AuditEntry
from surveyapp.db import db
from surveyapp.programmes.models import MarkEntry, MarkKind, Stage
from surveyapp.programmes.services import add_marks, add_unit_to_stage, create_programme
from tests.conftest import csrf_token
from tests.formfiller import parse_forms
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


def test_a_number_entered_by_two_presses_at_once_is_stored_once(committing_app):
    """The other press inserted the entry but has not committed when this one checks the key:
    this one's insert then meets the unique key (PostgreSQL waits for the other to commit)
    and must lead to the mark page like a single press, not to a server error."""
    with committing_app.app_context():
        create_user("one@example.org", Role.ADMIN, "a long enough password")
        programme = create_programme("Doppelklick", date(2027, 1, 1), date(2027, 3, 31), None)
        stage = programme.stages[0]
        add_unit_to_stage(stage, unit("nrw"), None)
        [mark] = add_marks(stage, [unit("nrw")], "Treffen", MarkKind.ENTERED, 10)
        db.session.commit()
        mark_id = mark.id
    client = _admin_client(committing_app, "one@example.org")
    url = f"/staff/programmes/marks/{mark_id}"
    page = client.get(url).get_data(as_text=True)
    entry_form = next(f for f in parse_forms(page) if "/entries" in (f.action or ""))
    form = {**{c.name: c.attrs.get("value", "") for c in entry_form.controls
               if c.type == "hidden"}, "amount": "3",
            "note": "Stammtisch", "happened_on": "2027-02-01"}
    results = []
    with committing_app.app_context():
        with db.engine.connect() as other:  # the first press, between its insert and commit
            other.execute(sa.insert(MarkEntry).values(
                mark_id=mark_id, amount=3, note="Stammtisch", happened_on=date(2027, 2, 1),
                form_key=form["key"]))
            second = threading.Thread(target=lambda: results.append(
                client.post(f"{url}/entries", data=form)))
            second.start()
            time.sleep(1.5)  # the second press checks the key and waits at its insert
            other.commit()
        second.join()
    [response] = results
    assert response.status_code == 302, response.status_code
    assert response.headers["Location"] == url
    with committing_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MarkEntry)) == 1
