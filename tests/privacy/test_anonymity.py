"""Anonymous questionnaires: nothing on the respondent's device leads back to the answers."""

from __future__ import annotations

import re

import sqlalchemy as sa

from surveyapp.consent.models import ConsentRecord
from surveyapp.db import db
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Response, ResponseStatus, SentLink
from surveyapp.responses.services import digest, resume_token_for
from tests.conftest import hidden_values
from tests.respondent import Respondent

SLUG = "exit-survey"


def only_response() -> Response:
    db.session.expire_all()
    return db.session.scalars(sa.select(Response)).one()


def is_midnight(moment) -> bool:
    return (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)


def test_submission_cuts_the_link_from_the_device(app, client):
    respondent = Respondent(client, SLUG)
    respondent.start()
    token = respondent.url.split("/r/")[1].split("/")[0]
    draft = only_response()
    start_key = draft.start_key
    assert draft.resume_digest == digest(token)
    html = respondent.complete()
    assert respondent.url.endswith("/thanks")
    code = re.search(r"<code>([A-Z0-9-]+)</code>", html).group(1)

    response = only_response()
    assert response.status is ResponseStatus.COMPLETE
    assert response.resume_digest != digest(token)
    assert response.start_key != start_key
    assert resume_token_for(response.start_key) != token
    for moment in (response.started_at, response.submitted_at, response.updated_at):
        assert is_midnight(moment)
    record = db.session.scalars(sa.select(ConsentRecord)).one()
    assert is_midnight(record.given_at)
    # The browser keeps its receipt code (a reload shows it), but not which response it was.
    with client.session_transaction() as session:
        assert "response" not in session["receipt"]
    assert code in client.get(f"/s/{SLUG}/thanks").get_data(as_text=True)
    # The old resume link leads to the thank-you page, not to the answers.
    assert client.get(f"/s/{SLUG}/r/{token}/").headers["Location"].endswith("/thanks")
    # Another browser with the same link sees a thank-you page without any receipt code.
    other = app.test_client()
    landed = other.get(f"/s/{SLUG}/r/{token}/", follow_redirects=True).get_data(as_text=True)
    assert "receipt-code" not in landed and "Thank you" in landed
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SentLink)) == 1
    # Withdrawal by receipt code still works: the code is the respondent's, not the device's.
    page = client.get(f"/s/{SLUG}/withdraw")
    client.post(f"/s/{SLUG}/withdraw", data={**hidden_values(page.get_data(as_text=True)),
                                              "code": code})
    assert only_response().status is ResponseStatus.WITHDRAWN


def send_named_response(client) -> str:
    """Make the questionnaire named, with exact times; send one response; return its token."""
    questionnaire = get_by_slug(SLUG)
    questionnaire.is_anonymous = False
    questionnaire.coarse_timestamps = False
    db.session.commit()
    respondent = Respondent(client, SLUG)
    respondent.start()
    token = respondent.url.split("/r/")[1].split("/")[0]
    respondent.complete()
    assert respondent.url.endswith("/done")
    return token


def test_named_questionnaire_keeps_the_link_and_can_keep_exact_times(app, client):
    token = send_named_response(client)
    response = only_response()
    assert response.resume_digest == digest(token)
    assert not is_midnight(response.submitted_at)


def test_turning_anonymity_on_afterwards_anonymises_what_was_collected(app, client, runner):
    token = send_named_response(client)
    draft = Respondent(app.test_client(), SLUG)
    draft.start()

    result = runner.invoke(args=["privacy", "anonymise", SLUG])
    assert result.exit_code == 0, result.output
    assert "1 complete responses" in result.output
    complete = db.session.scalars(sa.select(Response).filter_by(
        status=ResponseStatus.COMPLETE)).one()
    db.session.refresh(complete)
    assert complete.resume_digest != digest(token)
    assert is_midnight(complete.submitted_at) and is_midnight(complete.started_at)
    assert is_midnight(db.session.scalars(sa.select(ConsentRecord).filter_by(
        response_id=complete.id)).one().given_at)
    # The unfinished draft still resumes: its respondent has not sent it yet.
    assert draft.page().status_code == 200
    # Running it again is harmless.
    assert runner.invoke(args=["privacy", "anonymise", SLUG]).exit_code == 0
    assert get_by_slug(SLUG).is_anonymous
