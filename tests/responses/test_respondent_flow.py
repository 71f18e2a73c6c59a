"""The respondent flow: consent first, page by page, back, resume, conditions, submit once."""

import re
import threading

import pytest
import sqlalchemy as sa

from surveyapp.consent.models import ConsentRecord
from surveyapp.db import db
from surveyapp.questionnaires.models import QuestionnaireState
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Answer, Response, ResponseStatus
from tests.conftest import count_rows, hidden_values
from tests.respondent import Respondent


def complete_responses() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Response).filter_by(status=ResponseStatus.COMPLETE)
    )


def test_nothing_is_stored_before_consent(app, client):
    respondent = Respondent(client, "exit-survey")
    response = respondent.start(consent=False)
    assert response.status_code == 422
    assert "Please tick the box" in response.get_data(as_text=True)
    assert count_rows(Response) == 0 and count_rows(ConsentRecord) == 0


def test_consent_checkbox_starts_unticked(client):
    html = client.get("/s/exit-survey").get_data(as_text=True)
    box = re.search(r'<input type="checkbox" name="consent"[^>]*>', html).group(0)
    assert "checked" not in box


@pytest.mark.parametrize("value", ["", "n", "false"])
def test_consent_false_stores_nothing(app, client, value):
    page = client.get("/s/exit-survey")
    data = hidden_values(page.get_data(as_text=True))
    data["consent"] = value
    assert client.post("/s/exit-survey", data=data).status_code == 422
    assert count_rows(Response) == 0


def test_stale_or_foreign_consent_version_stores_nothing(app, client):
    other = get_by_slug("mentors")
    from surveyapp.consent.services import current_consent_text

    foreign = current_consent_text(other, "de").id
    for forged in (str(foreign), "999999", ""):
        response = Respondent(client, "exit-survey").start(consent_text_id=forged)
        assert response.status_code == 422
        assert "has changed" in response.get_data(as_text=True)
    assert count_rows(Response) == 0


def test_consent_record_is_written_with_the_response(app, client):
    Respondent(client, "needs-tcn", "ar").start()
    response = db.session.scalars(sa.select(Response)).one()
    record = db.session.scalars(sa.select(ConsentRecord)).one()
    assert record.response_id == response.id
    assert record.language == "ar" and response.language == "ar"
    assert record.consent_text.language == "ar"
    assert record.digest == record.consent_text.digest
    assert record.purposes == ["answers"]
    assert record.given_at.tzinfo is not None


def test_double_start_finds_the_same_draft(app, client):
    page = client.get("/s/exit-survey").get_data(as_text=True)
    data = {**hidden_values(page), "consent": "y"}
    first = client.post("/s/exit-survey", data=data)
    second = client.post("/s/exit-survey", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert count_rows(Response) == 1 and count_rows(ConsentRecord) == 1


def test_answers_survive_back_and_resume_by_cookie_and_link(app, client):
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    first_page = respondent.url
    respondent.post({"member_duration": "3_5", "left_on": "2025-01-15"})
    second_page = respondent.url
    assert second_page != first_page
    back = respondent.post({}, nav="back")
    assert back.headers["Location"].endswith(first_page.rsplit("/", 1)[1])
    html = respondent.page().get_data(as_text=True)
    assert re.search(r'value="3_5" checked', html)
    assert 'value="2025-01-15"' in html
    # Resume from the cookie: the start page sends the respondent back to the saved page.
    assert client.get("/s/exit-survey").headers["Location"] == first_page
    # Resume from the link in another browser (no cookie).
    other = app.test_client()
    assert other.get(first_page).status_code == 200
    assert re.search(r'value="3_5" checked', other.get(first_page).get_data(as_text=True))


def test_wrong_resume_token_is_not_found(app, client):
    response = client.get("/s/exit-survey/r/not-a-real-token/membership")
    assert response.status_code == 404
    assert "not valid" in response.get_data(as_text=True)


def test_required_questions_block_next_with_messages_and_keep_input(app, client):
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    response = respondent.post({"left_on": "2025-01-15"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="error-summary"' in html and "Please answer this question." in html
    assert 'href="#q-member_duration"' in html
    assert 'value="2025-01-15"' in html  # what was typed is still there
    assert 'aria-describedby="e-member_duration"' in html
    assert count_rows(Answer) == 0  # nothing half-stored


def test_bad_values_are_refused_with_a_message_and_nothing_stored(app, client):
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    # An option code of another question, a date out of bounds.
    response = respondent.post({"member_duration": "costs", "left_on": "1900-01-01"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please choose one of the options shown." in html
    assert "Please enter a date" in html
    assert count_rows(Answer) == 0


def test_option_code_of_another_questionnaire_is_refused(app, client):
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    mentors_code = get_by_slug("mentors").published_version.questions[0].options[0].code
    response = respondent.post({"member_duration": mentors_code + "_x"})
    assert response.status_code == 422
    assert count_rows(Answer) == 0


def test_oversized_field_is_refused(app, client):
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    respondent.post({"member_duration": "3_5"})
    response = respondent.post({"main_reason": "_other", "main_reason__other": "x" * 201})
    assert response.status_code == 422
    assert "200 characters" in response.get_data(as_text=True)


def test_oversized_request_gets_a_translated_page(app, client):
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    response = client.post(respondent.url, data={"left_on": "x" * (600 * 1024)})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_missing_or_forged_csrf_keeps_answers_and_stores_nothing(app, client):
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    for token in ("", "forged-token"):
        response = client.post(respondent.url, data={
            "csrf_token": token, "nav": "next", "member_duration": "3_5",
            "left_on": "2025-01-15",
        })
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "away for a while" in html
        assert re.search(r'value="3_5" checked', html)
        assert count_rows(Answer) == 0
    # The page came back with a fresh token: sending it again works.
    form = hidden_values(html)
    again = client.post(respondent.url, data={**form, "nav": "next", "member_duration": "3_5",
                                              "left_on": "2025-01-15"})
    assert again.status_code == 302
    assert count_rows(Answer) == 2


def test_expired_session_on_start_page_keeps_the_box(app):
    client = app.test_client()
    page = client.get("/s/exit-survey").get_data(as_text=True)
    data = {**hidden_values(page), "consent": "y"}
    fresh = app.test_client()  # a browser whose session cookie is gone
    response = fresh.post("/s/exit-survey", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "away for a while" in html
    assert re.search(r'name="consent" id="consent" value="y" checked', html)
    assert count_rows(Response) == 0


def test_hidden_questions_answers_are_dropped(app, client):
    """exit-survey: `win_back` shows only when `come_back` is yes or maybe."""
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    while "come_back" not in respondent.page().get_data(as_text=True):
        assert respondent.fill_current().status_code in (200, 302)
    html = respondent.page().get_data(as_text=True)
    assert re.search(r'id="q-win_back"[^>]*hidden', html)
    form_values = dict(hidden_values(html))
    # Posting an answer to the hidden question together with "no": it must not be stored.
    response = client.post(respondent.url, data={
        **form_values, "js": "1", "nav": "next", "come_back": "no",
        "win_back": "Mehr Angebote am Abend",
    })
    assert response.status_code in (302, 422)
    texts = db.session.scalars(sa.select(Answer.value_text)).all()
    assert "Mehr Angebote am Abend" not in texts


def test_questions_that_appear_without_javascript_are_shown_before_moving_on(app, client):
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    while "come_back" not in respondent.page().get_data(as_text=True):
        respondent.fill_current()
    page_url = respondent.url
    html = respondent.page().get_data(as_text=True)
    data = {**hidden_values(html), "nav": "next", "come_back": "yes", "recommend": "8"}
    response = client.post(page_url, data=data)
    assert response.headers["Location"] == page_url  # same page again
    again = client.get(page_url).get_data(as_text=True)
    assert "more questions appeared" in again
    assert not re.search(r'id="q-win_back"[^>]*hidden', again)


def test_submit_is_idempotent(app, client):
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    data = respondent.last_page_data()
    last_url = respondent.url
    first = client.post(last_url, data=data)
    second = client.post(last_url, data=data)  # double click / reload
    # The demo questionnaires are anonymous: the thank-you page needs no link to the response.
    assert first.headers["Location"].endswith("/thanks")
    assert second.headers["Location"].endswith("/thanks")
    done = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "receipt-code" in done
    assert complete_responses() == 1
    # Back button after submit: the page redirects to the thank-you page, nothing new.
    assert client.get(last_url).headers["Location"].endswith("/thanks")
    assert count_rows(Response) == 1
    # A new visit to the start page starts fresh (a shared phone), not the old response.
    assert client.get("/s/exit-survey").status_code == 200


def test_receipt_code_is_stored_only_as_a_digest(app, client):
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    html = respondent.complete()
    code = re.search(r"<code>([A-Z0-9-]+)</code>", html).group(1)
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", code)
    response = db.session.scalars(sa.select(Response)).one()
    from surveyapp.responses.services import digest

    assert response.receipt_digest == digest(code)
    assert code not in str(db.session.execute(sa.select(Response.__table__)).all())


def test_closed_questionnaire_refuses_start_and_pages(app, client):
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    form = hidden_values(respondent.page().get_data(as_text=True))
    questionnaire = get_by_slug("exit-survey")
    questionnaire.move_to(QuestionnaireState.CLOSED)
    db.session.commit()
    assert client.get("/s/exit-survey").status_code == 410
    response = client.post(respondent.url, data={**form, "nav": "next",
                                                 "member_duration": "3_5"})
    assert response.status_code == 410
    assert "not open" in response.get_data(as_text=True)
    assert count_rows(Answer) == 0


def test_unknown_questionnaire_is_a_translated_404(client):
    response = client.get("/s/does-not-exist", headers={"Accept-Language": "de"})
    assert response.status_code == 404
    assert '<html lang="de"' in response.get_data(as_text=True)


def test_language_follows_browser_then_link_then_choice(app, client):
    english = client.get("/s/exit-survey", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert 'lang="en"' in english.get_data(as_text=True)
    # Arabic is not offered by the exit survey: the base language is used.
    assert 'lang="de"' in client.get("/s/exit-survey",
                                     headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert 'lang="ar"' in client.get("/s/needs-tcn?lang=ar").get_data(as_text=True)
    # A link parameter is not a choice: without it, the browser's language counts again.
    assert 'lang="de"' in client.get("/s/needs-tcn",
                                     headers={"Accept-Language": "de"}).get_data(as_text=True)
    # The switch is a choice: it is remembered and beats both the link and the browser.
    client.get("/s/needs-tcn?choose=en")
    chosen = client.get("/s/needs-tcn?lang=ar", headers={"Accept-Language": "de"})
    assert 'lang="en"' in chosen.get_data(as_text=True)
    # A language the questionnaire does not offer is never chosen.
    assert 'lang="en"' in client.get("/s/needs-tcn?choose=xx").get_data(as_text=True)


def test_language_switch_on_a_page_keeps_what_was_typed(app, client):
    respondent = Respondent(client, "needs-tcn", "de")
    respondent.start()
    html = respondent.page().get_data(as_text=True)
    assert 'lang="de"' in html
    data = {**hidden_values(html), "lang": "ar"}
    first_radio = re.search(r'type="radio" name="([a-z_]+)" id="[^"]+" value="([a-z0-9_]+)"', html)
    data[first_radio.group(1)] = first_radio.group(2)
    response = client.post(respondent.url, data=data)
    assert response.status_code == 302
    switched = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in switched
    assert re.search(rf'value="{first_radio.group(2)}" checked', switched)


def test_concurrent_submits_create_one_response(committing_app):
    """Two requests racing to submit the same draft: exactly one completes it."""
    client = committing_app.test_client()
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    data = respondent.last_page_data()
    results = []
    barrier = threading.Barrier(4)

    def send():
        barrier.wait()
        results.append(client.post(respondent.url, data=data).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(code in (302, 422) for code in results), results
    with committing_app.app_context():
        assert complete_responses() == 1
        assert count_rows(Response) == 1


def send_twice_first_reply_lost(client, url: str, data) -> tuple[str, str]:
    """Press "Send answers" twice; the first reply (and its session cookie) is lost.

    Returns the receipt code the first reply showed and the page the second one leads to.
    """
    first = client.post(url, data=data)
    first_code = re.search(r"<code>([A-Z0-9-]+)</code>",
                           client.get(first.headers["Location"]).get_data(as_text=True)).group(1)
    with client.session_transaction() as session:
        session.pop("receipt")
    second = client.post(url, data=data)
    return first_code, client.get(second.headers["Location"]).get_data(as_text=True)


def test_repeated_send_gets_a_fresh_receipt_and_the_old_one_stops_working(app):
    """The browser keeps only the reply to the second "Send answers": it must carry a code."""
    from surveyapp.responses.services import digest

    questionnaire = get_by_slug("exit-survey")
    questionnaire.is_anonymous = False  # anonymous ones: see the next test
    questionnaire.coarse_timestamps = False  # renewal needs the time of sending
    db.session.commit()
    client = app.test_client()
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    data = respondent.last_page_data()
    data.pop("receipt")  # a form from before receipt offers: the code is renewed
    first_code, done = send_twice_first_reply_lost(client, respondent.url, data)
    second_code = re.search(r"<code>([A-Z0-9-]+)</code>", done).group(1)
    assert second_code != first_code
    response = db.session.scalars(sa.select(Response)).one()
    assert response.receipt_digest == digest(second_code)
    assert complete_responses() == 1


def test_repeated_send_of_an_anonymous_response_shows_the_stored_code(app):
    """Both presses carry the code the last page offered; the server needs no link to show it."""
    from surveyapp.responses.services import digest

    client = app.test_client()
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    data = respondent.last_page_data()
    assert data.get("receipt"), "the last page offers a signed receipt code"
    first_code, thanks = send_twice_first_reply_lost(client, respondent.url, data)
    assert re.search(r"<code>([A-Z0-9-]+)</code>", thanks).group(1) == first_code
    response = db.session.scalars(sa.select(Response)).one()
    assert response.receipt_digest == digest(first_code)
    # A forged or foreign offer is never shown.
    with client.session_transaction() as session:
        session.pop("receipt")
    forged = client.post(respondent.url, data={**data, "receipt": data["receipt"] + "x"})
    assert "<code>" not in client.get(forged.headers["Location"]).get_data(as_text=True)
    assert complete_responses() == 1


def test_old_resume_links_cannot_mint_receipts(app, client):
    from datetime import timedelta

    get_by_slug("exit-survey").is_anonymous = False  # else the link is cut at once
    db.session.commit()
    respondent = Respondent(client, "exit-survey")
    respondent.start()
    respondent.complete()
    response = db.session.scalars(sa.select(Response)).one()
    response.submitted_at = response.submitted_at - timedelta(hours=1)
    before = response.receipt_digest
    db.session.commit()
    with client.session_transaction() as session:
        session.pop("receipt")
    page_url = respondent.url.replace("/done", "/membership")
    html = hidden_values(client.get("/s/exit-survey").get_data(as_text=True))
    client.post(page_url, data={**html, "nav": "next"})
    db.session.expire_all()
    assert db.session.scalars(sa.select(Response)).one().receipt_digest == before


def test_thank_you_page_follows_the_language_switch(client):
    respondent = Respondent(client, "exit-survey", "de")
    respondent.start()
    done_url = respondent.complete() and respondent.url
    assert '<html lang="en"' in client.get(done_url + "?choose=en").get_data(as_text=True)
    assert '<html lang="de"' in client.get(done_url).get_data(as_text=True)
