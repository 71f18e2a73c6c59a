"""Two saves of the same question at the same moment: one wins, the other is told (real commits)."""

from __future__ import annotations

import threading

from surveyapp.accounts.models import Role
from surveyapp.builder.services import draft_version
from surveyapp.db import db
from surveyapp.questionnaires.services import get_by_slug
from tests.builder.conftest import editor_form, login, start_from_template


def test_simultaneous_saves_never_silently_overwrite(committing_app):
    with committing_app.app_context():
        first = login(committing_app, "first@example.org", Role.ADMIN)
        second = login(committing_app, "second@example.org", Role.ADMIN)
        start_from_template(first, "exit-survey", "race")
        question_id = draft_version(get_by_slug("race")).questions[0].id
        action, form_one = editor_form(first, "race", f"/questions/{question_id}")
        _action, form_two = editor_form(second, "race", f"/questions/{question_id}")
        db.session.remove()

    barrier = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def send(name, client, data):
        barrier.wait()
        statuses[name] = client.post(action, data={**data, "text": f"Fassung {name}"}).status_code

    threads = [threading.Thread(target=send, args=("eins", first, form_one)),
               threading.Thread(target=send, args=("zwei", second, form_two))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses.values()) == [302, 409], statuses
    winner = next(name for name, status in statuses.items() if status == 302)
    with committing_app.app_context():
        question = draft_version(get_by_slug("race")).questions[0]
        assert question.text["de"] == f"Fassung {winner}"
