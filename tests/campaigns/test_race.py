"""Two interviewers asking for the next person at the same moment never get the same one."""

from __future__ import annotations

import threading
import time
from collections import Counter

import sqlalchemy as sa

from surveyapp.accounts.models import Role
from surveyapp.accounts.services import create_user
from surveyapp.campaigns import services
from surveyapp.campaigns.models import CallAttempt, CallEntry, CallOutcome, Campaign
from surveyapp.db import db
from surveyapp.questionnaires.services import get_by_slug
from tests.conftest import csrf_token
from tests.formfiller import parse_forms

PEOPLE = 60


def _setup(app) -> tuple[int, list[int]]:
    with app.app_context():
        users = [create_user(f"racer{i}@example.org", Role.INTERVIEWER, "a long enough password")[0]
                 for i in range(2)]
        db.session.flush()
        campaign = services.create_campaign(get_by_slug("clubs-inclusion"), name="Race",
                                            interviewer_ids=[u.id for u in users])
        services.add_people(campaign, [services.Person(name=f"P{i}", phone=f"+4917{i:06d}")
                                       for i in range(PEOPLE)])
        db.session.commit()
        return campaign.id, [u.id for u in users]


def _caller(app, campaign_id: int, user_id: int, handed: list, barrier: threading.Barrier,
            errors: list) -> None:
    """Claim, record "refused", commit, until the list is empty; each round in its own request."""
    try:
        barrier.wait()
        while True:
            # A POST request context, as the real claim runs in: SQLite then begins IMMEDIATE.
            with app.test_request_context("/", method="POST"):
                campaign = db.session.get(Campaign, campaign_id)
                user = db.session.get(services.User, user_id)
                entry = services.claim_next(campaign, user)
                if entry is None:
                    db.session.commit()
                    return
                handed.append(entry.id)
                assert services.record_outcome(entry, user, CallOutcome.REFUSED,
                                               seen_attempts=entry.attempts)
                db.session.commit()
                db.session.remove()
            # A person's call takes a while: without a pause SQLite's busy handler can leave
            # the other thread waiting while this one takes the lock again and again.
            time.sleep(0.002)
    except Exception as error:  # reported to the main thread
        errors.append(error)


def test_two_interviewers_never_get_the_same_person(committing_app):
    app = committing_app
    campaign_id, user_ids = _setup(app)
    handed: dict[int, list[int]] = {uid: [] for uid in user_ids}
    errors: list = []
    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=_caller,
                                args=(app, campaign_id, uid, handed[uid], barrier, errors))
               for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    every = handed[user_ids[0]] + handed[user_ids[1]]
    doubles = [entry for entry, n in Counter(every).items() if n > 1]
    assert doubles == []
    assert len(every) == PEOPLE
    # Both took part in the race (otherwise it proved nothing).
    assert all(handed[uid] for uid in user_ids)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CallAttempt)) == PEOPLE
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CallEntry)
                                 .where(CallEntry.claimed_by.is_not(None))) == 0


def test_concurrent_claims_without_recording_hand_out_distinct_people(committing_app):
    """Many interviewers claim at once and keep their person: every claim is distinct."""
    app = committing_app
    with app.app_context():
        users = [create_user(f"many{i}@example.org", Role.INTERVIEWER, "a long enough password")[0]
                 for i in range(6)]
        db.session.flush()
        campaign = services.create_campaign(get_by_slug("clubs-inclusion"), name="Many")
        services.add_people(campaign, [services.Person(name=f"P{i}", phone=f"+4916{i:06d}")
                                       for i in range(4)])
        db.session.commit()
        campaign_id, user_ids = campaign.id, [u.id for u in users]
    got: dict[int, int | None] = {}
    errors: list = []
    barrier = threading.Barrier(len(user_ids))

    def claim(user_id: int) -> None:
        try:
            barrier.wait()
            with app.test_request_context("/", method="POST"):
                entry = services.claim_next(db.session.get(Campaign, campaign_id),
                                            db.session.get(services.User, user_id))
                got[user_id] = entry.id if entry else None
                db.session.commit()
                db.session.remove()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=claim, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    claimed = [entry for entry in got.values() if entry is not None]
    # Four people, six interviewers: four get one each, two get nobody, nobody gets a double.
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 4


def test_a_campaign_created_by_two_presses_at_once_is_created_once(committing_app):
    """The first press has created the campaign but not committed when the second arrives:
    the second waits on the lock of the person's row, then finds the first campaign."""
    app = committing_app
    with app.app_context():
        user = create_user("lead@example.org", Role.ADMIN, "a long enough password")[0]
        db.session.commit()
        user_id = user.id
    client = app.test_client()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    client.post("/staff/login", data={"csrf_token": token, "email": "lead@example.org",
                                      "password": "a long enough password"})
    page = client.get("/staff/campaigns/new").get_data(as_text=True)
    new_form = next(f for f in parse_forms(page) if (f.action or "").endswith("/campaigns/new"))
    form = {**{c.name: c.attrs.get("value", "") for c in new_form.controls
               if c.type == "hidden"}, "questionnaire_id": "", "name": "Doppelt",
            "max_attempts": "5", "retry_minutes": "60"}
    results = []
    with app.test_request_context("/", method="POST"):  # the first press, in mid-request
        questionnaire = get_by_slug("clubs-inclusion")
        form["questionnaire_id"] = str(questionnaire.id)
        assert services.already_created(user_id, form["form_key"]) is None
        first = services.create_campaign(questionnaire, name="Doppelt", created_by=user_id,
                                         form_key=form["form_key"])
        second = threading.Thread(target=lambda: results.append(
            client.post("/staff/campaigns/new", data=form)))
        second.start()
        time.sleep(1.5)  # the second press reaches the check and waits for the lock
        db.session.commit()
        first_id = first.id
        db.session.remove()
    second.join(timeout=60)
    [response] = results
    assert response.status_code == 302
    assert response.headers["Location"] == f"/staff/campaigns/{first_id}"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 1
