"""Withdrawal by receipt code: answers deleted, a tombstone kept, guessing pointless."""

import re

import pytest
import sqlalchemy as sa

from surveyapp.consent.models import ConsentRecord
from surveyapp.db import db
from surveyapp.responses.models import Answer, Response, ResponseStatus
from surveyapp.responses.services import normalise_receipt_code
from tests.conftest import count_rows, hidden_values
from tests.respondent import Respondent

MARKER = "Marker-Text-4711-زهرة"


def submit_with_marker(client, slug="exit-survey", lang="en") -> str:
    """Complete a response whose free text holds MARKER; return its receipt code."""
    from werkzeug.datastructures import MultiDict

    from tests.formfiller import fill, parse_forms

    respondent = Respondent(client, slug, lang)
    respondent.start()
    while 'name="win_back"' not in respondent.page().get_data(as_text=True):
        respondent.fill_current()
    html = respondent.page().get_data(as_text=True)
    data = dict(fill(next(f for f in parse_forms(html) if f.method == "post")))
    data.update(come_back="yes", win_back=MARKER, js="1")
    response = client.post(respondent.url, data=MultiDict(data))
    respondent.url = response.headers["Location"]
    html = respondent.complete()
    return re.search(r"<code>([A-Z0-9-]+)</code>", html).group(1)


def withdraw(client, code, slug="exit-survey"):
    page = client.get(f"/s/{slug}/withdraw")
    return client.post(f"/s/{slug}/withdraw",
                       data={**hidden_values(page.get_data(as_text=True)), "code": code})


def test_withdrawal_deletes_answers_and_keeps_a_tombstone(app, client):
    code = submit_with_marker(client)
    assert MARKER in db.session.scalars(sa.select(Answer.value_text)).all()
    response = withdraw(client, code.lower().replace("-", " "))
    assert response.status_code == 200
    assert "have been deleted" in response.get_data(as_text=True)
    stored = db.session.scalars(sa.select(Response)).one()
    assert stored.status is ResponseStatus.WITHDRAWN and stored.withdrawn_at is not None
    assert stored.submitted_at is not None
    assert count_rows(Answer) == 0
    assert db.session.scalars(sa.select(ConsentRecord)).one().response_id == stored.id
    # No copy of the free text is left anywhere in the database.
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)).all():
            assert MARKER not in str(row), table.name
    again = withdraw(client, code)
    assert "already deleted" in again.get_data(as_text=True)


def test_unknown_or_malformed_codes_change_nothing(app, client):
    submit_with_marker(client)
    for code in ("", "ABCD-EFGH-JKLM-NPQR", "not a code", "K7QM-2XRA-9PZD-HT4"):
        response = withdraw(client, code)
        assert response.status_code == 422
        assert "We found no answers with this code" in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Response)).one().status is ResponseStatus.COMPLETE


def test_a_code_only_works_for_its_own_questionnaire(app, client):
    code = submit_with_marker(client)
    assert withdraw(client, code, slug="mentors").status_code == 422
    assert db.session.scalars(sa.select(Response)).one().status is ResponseStatus.COMPLETE


def test_withdrawal_page_speaks_the_respondents_language(client):
    html = client.get("/s/needs-tcn/withdraw?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert 'dir="ltr"' in html  # the code field stays left to right


def test_thank_you_page_links_to_withdrawal(client):
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    assert "/s/exit-survey/withdraw" in respondent.complete()


@pytest.mark.parametrize("typed,expected", [
    ("k7qm 2xra 9pzd ht4w", "K7QM-2XRA-9PZD-HT4W"),
    ("K7QM-2XRA-9PZD-HT4W", "K7QM-2XRA-9PZD-HT4W"),
    ("K7QM2XRA9PZDHT4W", "K7QM-2XRA-9PZD-HT4W"),
    ("K7QM-2XRA-9PZD-HT40", None),  # 0 is not in the alphabet
    ("K7QM-2XRA-9PZD", None),
])
def test_typed_codes_are_normalised(typed, expected):
    assert normalise_receipt_code(typed) == expected


def test_guessing_is_rate_limited(app):
    client = app.test_client()
    app.config["WITHDRAW_RATE_LIMIT"] = "3 per hour"
    from surveyapp.extensions import limiter

    limiter.reset()
    try:
        statuses = [withdraw(client, "ABCD-EFGH-JKLM-NPQR").status_code for _ in range(5)]
    finally:
        app.config["WITHDRAW_RATE_LIMIT"] = "10 per hour"
        limiter.reset()
    assert statuses[:3] == [422, 422, 422]
    assert statuses[3:] == [429, 429]
