"""Opening and closing times and a maximum of responses, as respondents meet them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from surveyapp.db import db, utcnow
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Answer, Response, ResponseStatus
from surveyapp.responses.services import StartRefused, accepting_answers, start_response
from tests.conftest import count_rows, hidden_values
from tests.respondent import Respondent

SLUG = "exit-survey"


def configure(**values):
    questionnaire = get_by_slug(SLUG)
    for name, value in values.items():
        setattr(questionnaire, name, value)
    db.session.commit()
    return questionnaire


def test_before_the_opening_time_respondents_are_told_when_it_opens(app, client):
    configure(opens_at=utcnow() + timedelta(days=2))
    response = client.get(f"/s/{SLUG}")
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "It opens on" in html and "Please come back then." in html
    assert accepting_answers(get_by_slug(SLUG)) == "not_yet_open"
    configure(opens_at=utcnow() - timedelta(minutes=1))
    assert client.get(f"/s/{SLUG}").status_code == 200


def test_after_the_closing_time_nobody_starts_or_goes_on(app, client):
    respondent = Respondent(client, SLUG)
    respondent.start()
    form = hidden_values(respondent.page().get_data(as_text=True))
    configure(closes_at=utcnow() - timedelta(seconds=1))
    closed = client.get(f"/s/{SLUG}")
    assert closed.status_code == 410
    assert "It closed on" in closed.get_data(as_text=True)
    # A draft under way cannot be saved any more either.
    page = client.post(respondent.url, data={**form, "nav": "next",
                                             "member_duration": "3_5"})
    assert page.status_code == 410 and "It closed on" in page.get_data(as_text=True)
    assert count_rows(Answer) == 0


def test_the_service_refuses_a_start_outside_the_window(app):
    questionnaire = configure(closes_at=utcnow() - timedelta(seconds=1))
    with pytest.raises(StartRefused) as refused:
        start_response(questionnaire, language="de", consent_given=True, consent_text_id=1,
                       start_key="k" * 20)
    assert refused.value.reason == "closed"
    assert count_rows(Response) == 0


def test_a_full_questionnaire_takes_no_new_respondents_but_lets_drafts_finish(app, client):
    configure(max_responses=1)
    early = Respondent(app.test_client(), SLUG)
    early.start()  # a draft begun while there is room
    first = Respondent(client, SLUG)
    first.start()
    first.complete()
    assert accepting_answers(get_by_slug(SLUG)) == "full"
    newcomer = app.test_client()
    response = newcomer.get(f"/s/{SLUG}")
    assert response.status_code == 410
    assert "It has received all the answers it needs." in response.get_data(as_text=True)
    # The early draft was let in before the maximum was reached: it may still be sent.
    assert accepting_answers(get_by_slug(SLUG), starting=False) is None
    early.complete()
    statuses = db.session.scalars(sa.select(Response.status)).all()
    assert statuses == [ResponseStatus.COMPLETE, ResponseStatus.COMPLETE]


def test_a_draft_holder_returning_to_the_start_page_of_a_full_questionnaire_goes_on(app):
    configure(is_anonymous=False)
    browser = app.test_client()
    respondent = Respondent(browser, SLUG)
    respondent.start()
    configure(max_responses=1)
    Respondent(app.test_client(), SLUG).start()
    other = Respondent(app.test_client(), SLUG)
    other.start()
    other.complete()
    assert accepting_answers(get_by_slug(SLUG)) == "full"
    back = browser.get(f"/s/{SLUG}")
    assert back.status_code == 302 and "/r/" in back.headers["Location"]


def test_preview_and_withdrawn_responses_do_not_count_towards_the_maximum(app, client):
    configure(max_responses=1)
    respondent = Respondent(client, SLUG)
    respondent.start()
    respondent.complete()
    db.session.execute(sa.update(Response).values(status=ResponseStatus.WITHDRAWN))
    db.session.commit()
    assert accepting_answers(get_by_slug(SLUG)) is None
