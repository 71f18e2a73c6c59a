"""One link, two people at once: one draft, one response, with real commits on both engines."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from surveyapp.db import db
from surveyapp.fieldwork import services
from surveyapp.fieldwork.models import Invitation
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Response, ResponseStatus
from tests.conftest import hidden_values
from tests.respondent import Respondent

SLUG = "exit-survey"


def run_together(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads released at the same moment; their results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_people_using_one_link_at_once_store_one_response(committing_app):
    with committing_app.app_context():
        [invitation] = services.create_codes(get_by_slug(SLUG), 1)
        db.session.commit()
        token = services.token_for(invitation)
        invitation_id = invitation.id

    clients = [committing_app.test_client() for _ in range(2)]
    forms = [{**hidden_values(c.get(f"/i/{token}").get_data(as_text=True)), "consent": "y"}
             for c in clients]
    # Both press "Start" at once: one draft is linked, the other start is rolled back and
    # sent to the draft that won.
    started = run_together(2, lambda i: clients[i].post(f"/i/{token}", data=forms[i]))
    assert all(r.status_code == 302 for r in started)
    with committing_app.app_context():
        drafts = db.session.scalars(sa.select(Response)).all()
        assert len(drafts) == 1
        assert db.session.get(Invitation, invitation_id).response_id == drafts[0].id

    respondents = []
    for client, reply in zip(clients, started, strict=True):
        location = reply.headers["Location"]
        if location.endswith(f"/i/{token}"):
            location = client.get(location).headers["Location"]
        respondent = Respondent(client, SLUG)
        respondent.url = location
        respondents.append(respondent)
    assert respondents[0].url.split("/r/")[1].split("/")[0] == \
        respondents[1].url.split("/r/")[1].split("/")[0]

    # Both send the last page at once: one response, the link used exactly once.
    last = [r.last_page_data() for r in respondents]
    sent = run_together(2, lambda i: clients[i].post(respondents[i].url, data=last[i]))
    assert all(r.status_code in (302, 422) for r in sent), [r.status_code for r in sent]
    with committing_app.app_context():
        responses = db.session.scalars(sa.select(Response)).all()
        assert [r.status for r in responses] == [ResponseStatus.COMPLETE]
        stored = db.session.get(Invitation, invitation_id)
        assert stored.used_at is not None and stored.response_id is None
    # Afterwards the link is used up for everyone.
    assert committing_app.test_client().get(f"/i/{token}").status_code == 410


def test_concurrent_starts_on_a_fresh_link_never_leave_two_drafts(committing_app):
    with committing_app.app_context():
        [invitation] = services.create_codes(get_by_slug(SLUG), 1)
        db.session.commit()
        token = services.token_for(invitation)
    clients = [committing_app.test_client() for _ in range(4)]
    forms = [{**hidden_values(c.get(f"/i/{token}").get_data(as_text=True)), "consent": "y"}
             for c in clients]
    replies = run_together(4, lambda i: clients[i].post(f"/i/{token}", data=forms[i]))
    assert all(r.status_code == 302 for r in replies)
    with committing_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1
