"""The respondent side in Chromium on a 390 px phone: whole questionnaires, conditions, errors,
resuming, double submits and right-to-left layout."""

from __future__ import annotations

import io
import os
import re
import time

import pytest

if not os.environ.get("SURVEYAPP_REQUIRE_BROWSER"):
    pytest.importorskip("playwright", reason="browser tests skipped: Playwright is not installed")

import sqlalchemy as sa
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from surveyapp.db import db
from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses import services
from surveyapp.responses.models import Answer, Response, ResponseStatus
from tests.browser.walker import (
    RECEIPT,
    advance_until,
    assert_fits_phone,
    assert_language,
    complete,
    fill_visible,
    is_done,
    nav_button,
    page_code,
    press,
    progress,
    screenshot,
    start,
    token_of,
    visible_codes,
)

ARABIC = {"locale": "ar", "lang": "ar", "dir": "rtl", "slug": "needs-tcn"}
GERMAN = {"locale": "de-DE", "lang": "de", "dir": "ltr", "slug": "exit-survey"}
FARSI = {"locale": "fa-IR", "lang": "fa", "dir": "rtl", "slug": "needs-tcn"}
UKRAINIAN = {"locale": "uk-UA", "lang": "uk", "dir": "ltr", "slug": "needs-tcn"}
TIGRINYA = {"locale": "ti-ER", "lang": "ti", "dir": "ltr", "slug": "needs-tcn"}


# --------------------------------------------------------------------------------------------
# Database look-ups through the app


def complete_count(app, slug: str) -> int:
    with app.app_context():
        questionnaire = get_by_slug(slug)
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(Response).where(
                Response.questionnaire_id == questionnaire.id,
                Response.status == ResponseStatus.COMPLETE,
            )
        )


def stored_response(app, slug: str, token: str):
    """(status, language, {question code: [stored values]}) of the response behind ``token``."""
    with app.app_context():
        questionnaire = get_by_slug(slug)
        response = services.find_by_token(questionnaire, token)
        if response is None and questionnaire.is_anonymous:
            # Sending an anonymous response cuts its link to the token; the tests run one at
            # a time, so the newest response is the one this test's browser just sent.
            response = db.session.scalars(
                sa.select(Response).filter_by(questionnaire_id=questionnaire.id)
                .order_by(Response.id.desc()).limit(1)).first()
        assert response is not None, "no response for this token"
        rows = db.session.execute(
            sa.select(Question.code, Answer.value_text, Answer.option_code, Answer.value_number,
                      Answer.value_date)
            .join(Question, Question.id == Answer.question_id)
            .where(Answer.response_id == response.id)
            .order_by(Answer.id)
        )
        values: dict[str, list] = {}
        for code, *fields in rows:
            values.setdefault(code, []).append(next((x for x in fields if x is not None), None))
        return response.status, response.language, values


def _js_id(javascript: bool) -> str:
    return "js" if javascript else "nojs"


# --------------------------------------------------------------------------------------------
# Whole questionnaires


@pytest.mark.parametrize("javascript", [True, False], ids=_js_id)
@pytest.mark.parametrize(
    ("locale", "case"), [("ar", ARABIC), ("de-DE", GERMAN)], ids=["needs-tcn-ar", "exit-survey-de"]
)
def test_questionnaire_completed_on_a_phone(
    live_app, live_server, new_phone, screenshots, locale, case, javascript
):
    page = new_phone(locale, javascript=javascript).new_page()
    slug, lang, direction = case["slug"], case["lang"], case["dir"]
    before = complete_count(live_app, slug)
    prefix = f"{lang}-{slug}" + ("" if javascript else "-nojs")
    start(page, live_server, slug, lang, direction,
          shots=screenshots if javascript else None, shot_name=f"{prefix}-00-start")
    token = token_of(page)

    walk = complete(page, lang=lang, direction=direction, javascript=javascript,
                    shots=screenshots if javascript else None, prefix=prefix)

    assert [p.value for p in walk.progress] == list(range(1, len(walk.pages) + 1))
    assert len(walk.pages) >= 3, walk.pages
    if javascript:
        assert walk.notices == [], "with the page script on, no question may appear late"
    else:
        # The generic answers reveal conditional questions on one page at least.
        assert walk.notices, "expected a 'more questions appeared' notice without the script"
    status, language, values = stored_response(live_app, slug, token)
    assert status is ResponseStatus.COMPLETE
    assert language == lang
    assert complete_count(live_app, slug) == before + 1
    # Answers typed in the browser reached the database.
    texts = [v for vals in values.values() for v in vals if isinstance(v, str) and " " in v]
    assert texts, values


@pytest.mark.parametrize(
    "case", [FARSI, UKRAINIAN, TIGRINYA], ids=["fa", "uk", "ti"]
)
def test_needs_survey_completed_in_more_languages(live_app, live_server, new_phone, screenshots,
                                                  case):
    """The needs survey in Farsi (right to left), Ukrainian and Tigrinya, with the page script."""
    page = new_phone(case["locale"], javascript=True).new_page()
    lang, direction = case["lang"], case["dir"]
    prefix = f"{lang}-needs-tcn"
    start(page, live_server, "needs-tcn", lang, direction, shots=screenshots,
          shot_name=f"{prefix}-00-start")
    token = token_of(page)
    walk = complete(page, lang=lang, direction=direction, javascript=True, shots=screenshots,
                    prefix=prefix)
    assert RECEIPT.match(walk.receipt)
    status, language, _values = stored_response(live_app, "needs-tcn", token)
    assert status is ResponseStatus.COMPLETE and language == lang


@pytest.mark.parametrize(
    "slug", ["needs-tcn", "mentors", "clubs-inclusion", "member-activation", "exit-survey"]
)
def test_every_demo_fits_a_phone_and_completes(live_server, phone, slug):
    """The generic filler gets through every demo; no page scrolls sideways at 390 px."""
    start(phone, live_server, slug, "de", "ltr")
    walk = complete(phone, lang="de", direction="ltr", javascript=True)
    assert RECEIPT.match(walk.receipt)


# --------------------------------------------------------------------------------------------
# Conditions


def test_condition_shows_question_at_once_with_script(live_app, live_server, phone):
    """exit-survey: ``win_back`` shows when ``come_back`` is yes/maybe, ``what_change`` when
    ``recommend`` <= 6, without any request to the server; hidden answers are not stored."""
    start(phone, live_server, "exit-survey", "de", "ltr")
    token = token_of(phone)
    advance_until(phone, lambda p: page_code(p) == "coming_back")
    url = phone.url
    win_back, what_change = phone.locator("#q-win_back"), phone.locator("#q-what_change")
    shown = phone.locator("#page-form input[name='shown']")
    expect(win_back).to_be_hidden()
    expect(what_change).to_be_hidden()

    requests = []
    phone.on("request", lambda r: requests.append(r.url))
    phone.locator("input[name='come_back'][value='yes']").check()
    expect(win_back).to_be_visible()
    assert "win_back" in shown.input_value().split()
    phone.locator("input[name='come_back'][value='no']").check()
    expect(win_back).to_be_hidden()
    assert "win_back" not in shown.input_value().split()
    phone.locator("input[name='come_back'][value='maybe']").check()
    expect(win_back).to_be_visible()

    phone.locator("#f-recommend-6").check()  # "le 6"
    expect(what_change).to_be_visible()
    phone.locator("#f-what_change").fill("Weniger Sitzungen")
    phone.locator("#f-recommend-7").check()
    expect(what_change).to_be_hidden()
    phone.locator("#f-recommend-0").check()
    expect(what_change).to_be_visible()
    phone.locator("#f-recommend-9").check()
    expect(what_change).to_be_hidden()
    assert requests == [], f"showing questions went to the server: {requests}"
    assert phone.url == url

    phone.locator("#f-win_back").fill("Ein offenes Sommerfest")
    assert_fits_phone(phone)
    press(phone, "next")
    assert is_done(phone), phone.url
    status, _language, values = stored_response(live_app, "exit-survey", token)
    assert status is ResponseStatus.COMPLETE
    assert values["come_back"] == ["maybe"]
    assert values["win_back"] == ["Ein offenes Sommerfest"]
    assert values["recommend"] in (["9"], [9])
    assert "what_change" not in values, "an answer to a hidden question was stored"


def test_condition_without_script_shows_question_after_next(
    live_app, live_server, phone_nojs, screenshots
):
    page = phone_nojs
    start(page, live_server, "exit-survey", "de", "ltr")
    token = token_of(page)
    advance_until(page, lambda p: page_code(p) == "coming_back")
    url = page.url
    win_back = page.locator("#q-win_back")
    expect(win_back).to_be_hidden()
    expect(page.locator(".notice[role='status']")).to_have_count(0)
    page.locator("input[name='come_back'][value='yes']").check()
    page.locator("#f-recommend-8").check()
    expect(win_back).to_be_hidden()  # no script: nothing happens before the server answers

    press(page, "next")
    assert page.url == url, "the page with a newly shown question must come back first"
    expect(page.locator(".notice[role='status']")).to_be_visible()
    expect(win_back).to_be_visible()
    expect(page.locator("#q-what_change")).to_be_hidden()
    expect(page.locator("input[name='come_back'][value='yes']")).to_be_checked()
    expect(page.locator("#f-recommend-8")).to_be_checked()
    assert_fits_phone(page)
    screenshot(page, screenshots, "de-exit-survey-nojs-03-coming_back-notice")
    status, _language, values = stored_response(live_app, "exit-survey", token)
    assert status is ResponseStatus.DRAFT, "sent before the new question was seen"

    page.locator("#f-win_back").fill("Mehr Angebote am Abend")
    press(page, "next")
    assert is_done(page), page.url
    status, _language, values = stored_response(live_app, "exit-survey", token)
    assert status is ResponseStatus.COMPLETE
    assert values["win_back"] == ["Mehr Angebote am Abend"]


# --------------------------------------------------------------------------------------------
# Going back, errors, resuming


@pytest.mark.parametrize("javascript", [True, False], ids=_js_id)
def test_back_keeps_answers(live_server, new_phone, javascript):
    page = new_phone("de-DE", javascript=javascript).new_page()
    start(page, live_server, "exit-survey", "de", "ltr")
    first = page_code(page)
    page.locator("input[name='member_duration'][value='3_5']").check()
    page.locator("#f-member_type").select_option("board")
    page.locator("#f-left_on").fill("2020-03-15")
    press(page, "next")
    assert page_code(page) == "reasons"
    page.locator("input[name='main_reason'][value='moved']").check()
    page.locator("input[name='other_reasons'][value='health']").check()

    press(page, "back")
    assert page_code(page) == first
    assert_fits_phone(page)
    expect(page.locator("input[name='member_duration'][value='3_5']")).to_be_checked()
    expect(page.locator("input[name='member_duration']:checked")).to_have_count(1)
    expect(page.locator("#f-member_type")).to_have_value("board")
    expect(page.locator("#f-left_on")).to_have_value("2020-03-15")
    assert progress(page).value == 1

    press(page, "next")  # what was chosen on page 2 before going back is kept too
    assert page_code(page) == "reasons"
    expect(page.locator("input[name='main_reason'][value='moved']")).to_be_checked()
    expect(page.locator("input[name='other_reasons'][value='health']")).to_be_checked()
    expect(page.locator("input[name='other_reasons']:checked")).to_have_count(1)


ERROR_CASES = {
    "exit-survey-de": {
        **GERMAN,
        "prefill": [("select", "#f-member_type", "board"), ("fill", "#f-left_on", "2030-01-01")],
        "errors": ["member_duration", "left_on"],
        "invalid_fields": ["#f-left_on"],
    },
    "needs-tcn-ar": {
        **ARABIC,
        "prefill": [("select", "#f-federal_state", "be"),
                    ("check", "input[name='time_in_germany'][value='3_5']", None)],
        "errors": ["age_group", "languages", "german_level"],
        "invalid_fields": [],
    },
}


@pytest.mark.parametrize("javascript", [True, False], ids=_js_id)
@pytest.mark.parametrize("case_id", list(ERROR_CASES))
def test_errors_are_shown_and_nothing_typed_is_lost(
    live_server, new_phone, screenshots, case_id, javascript
):
    case = ERROR_CASES[case_id]
    page = new_phone(case["locale"], javascript=javascript).new_page()
    start(page, live_server, case["slug"], case["lang"], case["dir"])
    code, url = page_code(page), page.url
    for action, selector, value in case["prefill"]:
        target = page.locator(selector)
        if action == "select":
            target.select_option(value)
        elif action == "fill":
            target.fill(value)
        else:
            target.check()

    press(page, "next")
    assert page.url == url, "a page with errors must stay"
    assert page_code(page) == code
    assert_language(page, case["lang"], case["dir"])
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("role", "alert")
    if javascript:
        expect(summary).to_be_focused()
    links = summary.locator("a")
    assert links.evaluate_all("as => as.map(a => a.getAttribute('href'))") == [
        f"#q-{c}" for c in case["errors"]
    ]
    for question in case["errors"]:
        box = page.locator(f"#q-{question}")
        expect(box).to_have_class(re.compile(r"\bhas-error\b"))
        message = box.locator(f"#e-{question}")
        expect(message).to_be_visible()
        assert message.inner_text().strip()
        described = box.locator(f"[aria-describedby~='e-{question}']")
        expect(described).to_have_count(1)
    for selector in case["invalid_fields"]:
        expect(page.locator(selector)).to_have_attribute("aria-invalid", "true")
    for question in visible_codes(page):
        if question not in case["errors"]:
            expect(page.locator(f"#q-{question}")).not_to_have_class(re.compile("has-error"))
    # Nothing typed or chosen is lost.
    for action, selector, value in case["prefill"]:
        if action == "check":
            expect(page.locator(selector)).to_be_checked()
        else:
            expect(page.locator(selector)).to_have_value(value)
    assert_fits_phone(page)
    if javascript:
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, screenshots, f"{case['lang']}-{case['slug']}-01-{code}-errors")

    for index, question in enumerate(case["errors"]):
        summary.locator("a").nth(index).click()
        expect(page.locator(f"#q-{question}")).to_be_in_viewport()
        assert page.url.endswith(f"#q-{question}")

    # Correcting the answers moves on.
    fill_visible(page)
    press(page, "next")
    assert page_code(page) != code
    expect(page.locator("#error-summary")).to_have_count(0)
    assert progress(page).value == 2


def test_resume_from_cookie_and_from_link(live_server, new_phone, screenshots):
    context = new_phone("de-DE")
    page = context.new_page()
    start(page, live_server, "exit-survey", "de", "ltr")
    token = token_of(page)
    page.locator("input[name='member_duration'][value='6_10']").check()
    press(page, "next")
    assert page_code(page) == "reasons"
    saved_url = page.url

    # Same browser, new tab, plain address: the cookie leads back to the saved page.
    again = context.new_page()
    again.goto(f"{live_server}/s/exit-survey")
    assert again.url == saved_url
    assert_language(again, "de", "ltr")
    again.close()

    # The link under "Continue later".
    link = page.locator("details.resume .resume-link a")
    expect(link).to_be_hidden()
    page.locator("details.resume summary").click()
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert href == saved_url
    assert link.inner_text().strip() == href
    assert token in href
    assert_fits_phone(page)
    screenshot(page, screenshots, "de-exit-survey-02-reasons-continue-later")

    # Another device: no cookie, so the plain address is the start page, but the link works.
    other = new_phone("de-DE").new_page()
    other.goto(f"{live_server}/s/exit-survey")
    expect(other.locator("#consent")).to_be_visible()
    other.goto(href)
    assert other.url == saved_url
    assert_language(other, "de", "ltr")
    assert progress(other).value == 2
    press(other, "back")
    expect(other.locator("input[name='member_duration'][value='6_10']")).to_be_checked()


# --------------------------------------------------------------------------------------------
# Sending once


def _to_last_page_ready_to_send(page, live_server) -> str:
    """exit-survey up to its last page, answered so that nothing new appears: Send sends."""
    start(page, live_server, "exit-survey", "de", "ltr")
    token = token_of(page)
    advance_until(page, lambda p: page_code(p) == "coming_back")
    page.locator("input[name='come_back'][value='no']").check()
    page.locator("#f-recommend-8").check()
    nav_button(page, "next").scroll_into_view_if_needed()
    return token


def _send_twice(page, gesture: str, gap_ms: int = 0) -> None:
    """Press "Send answers" twice: a double click, or two taps ``gap_ms`` apart on its spot."""
    button = nav_button(page, "next")
    if gesture == "double-click":
        button.dblclick()
    else:
        box = button.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.click(x, y)
        page.wait_for_timeout(gap_ms)
        page.mouse.click(x, y)  # raw input: the page may already be on its way out
    # The first navigation may be reported as aborted by the second: keep waiting for the
    # thank-you page.
    deadline = time.monotonic() + 30
    while True:
        try:
            page.wait_for_url(re.compile(r".*/(done|thanks)$"), timeout=30_000)
            break
        except PlaywrightError as error:
            if "ERR_ABORTED" not in str(error) or time.monotonic() > deadline:
                raise
    page.wait_for_load_state()


@pytest.mark.parametrize("gesture", ["double-click", "two-taps"])
@pytest.mark.parametrize("javascript", [True, False], ids=_js_id)
def test_send_pressed_twice_counts_once(
    live_app, live_server, new_phone, network, javascript, gesture
):
    """On a slow connection the second press comes while the first is on its way."""
    page = new_phone("de-DE", javascript=javascript).new_page()
    token = _to_last_page_ready_to_send(page, live_server)
    before = complete_count(live_app, "exit-survey")
    network.posts.clear()
    network.post_delay = 2.0

    _send_twice(page, gesture, gap_ms=600)
    network.post_delay = 0.0
    sends = [p for p in network.posts if p.endswith("/coming_back")]
    if javascript:
        assert len(sends) == 1, f"the page script let {len(sends)} submissions through"
    elif gesture == "two-taps":
        assert len(sends) == 2, "the second tap was expected to reach the server"
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator(".notice.success")).to_be_visible()
    code = page.locator(".receipt-code code")
    receipt = None
    if javascript:
        expect(code).to_be_visible()
        receipt = code.inner_text().strip()
        assert RECEIPT.match(receipt), receipt

    page.reload()
    assert is_done(page)
    if receipt:
        expect(page.locator(".receipt-code code")).to_have_text(receipt)
    page.go_back()
    page.wait_for_load_state()
    assert is_done(page), f"going back after sending showed {page.url}"
    expect(page.locator(".notice.success")).to_be_visible()
    assert_fits_phone(page)

    assert complete_count(live_app, "exit-survey") == before + 1
    status, _language, _values = stored_response(live_app, "exit-survey", token)
    assert status is ResponseStatus.COMPLETE


@pytest.mark.parametrize(
    ("javascript", "delay", "gap_ms"),
    [(False, 2.0, 600), (True, 6.0, 4_500)],
    ids=["nojs-two-taps", "js-slow-network-tap-again-after-4s"],
)
def test_receipt_is_shown_after_a_repeated_send(
    live_server, new_phone, network, javascript, delay, gap_ms
):
    page = new_phone("de-DE", javascript=javascript).new_page()
    _to_last_page_ready_to_send(page, live_server)
    network.posts.clear()
    network.post_delay = delay
    _send_twice(page, "two-taps", gap_ms=gap_ms)
    network.post_delay = 0.0
    assert len([p for p in network.posts if p.endswith("/coming_back")]) == 2
    expect(page.locator(".notice.success")).to_be_visible()
    expect(page.locator(".receipt-code code")).to_be_visible(timeout=1_000)


# --------------------------------------------------------------------------------------------
# Right-to-left geometry


def _box(locator):
    box = locator.bounding_box()
    assert box is not None and box["width"] > 0, f"{locator} is not laid out"
    return box


def _progress_fill_side(page) -> float:
    """Where the filled part of the progress bar lies: 0 = left edge, 1 = right edge."""
    from PIL import Image

    png = page.locator(".progress progress").screenshot()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    brand = (0x0B, 0x53, 0x94)
    filled = [
        x for x in range(width)
        if sum(abs(a - b) for a, b in zip(image.getpixel((x, height // 2)), brand, strict=True))
        < 90
    ]
    assert filled, "no filled part found in the progress bar"
    assert len(filled) < width * 0.9, "the progress bar looks full on a first page"
    return sum(filled) / len(filled) / width


def _assert_forward_side(page, direction: str) -> None:
    forward, back = _box(nav_button(page, "next")), _box(nav_button(page, "back"))
    if direction == "rtl":
        assert forward["x"] + forward["width"] <= back["x"], (
            f"RTL: Next/Send {forward} should be left of Back {back}"
        )
    else:
        assert back["x"] + back["width"] <= forward["x"], (
            f"LTR: Next/Send {forward} should be right of Back {back}"
        )


@pytest.mark.parametrize(
    ("locale", "lang", "direction"), [("ar", "ar", "rtl"), ("de-DE", "de", "ltr")],
    ids=["ar", "de"],
)
def test_layout_follows_reading_direction(live_server, phone, locale, lang, direction):
    """needs-tcn: buttons, rating scale and progress bar run in the reader's direction."""
    start(phone, live_server, "needs-tcn", lang, direction)
    side = _progress_fill_side(phone)
    if direction == "rtl":
        assert side > 0.5, f"RTL progress fills from the left (centre at {side:.2f})"
    else:
        assert side < 0.5, f"LTR progress fills from the right (centre at {side:.2f})"
    expect(nav_button(phone, "back")).to_have_count(0)
    fill_visible(phone)
    press(phone, "next")
    _assert_forward_side(phone, direction)

    advance_until(phone, lambda p: p.locator("#q-mentor_useful:not([hidden])").count() == 1)
    assert_language(phone, lang, direction)
    points = [_box(phone.locator(f"label[for='f-mentor_useful-{n}']")) for n in range(11)]
    xs = [p["x"] for p in points]
    if direction == "rtl":
        assert xs[0] == max(xs), f"RTL: 0 should be the rightmost point: {xs}"
    else:
        assert xs[0] == min(xs), f"LTR: 0 should be the leftmost point: {xs}"
    # The points read in order: row by row, each row in the reading direction.
    rows = sorted({round(p["y"]) for p in points})
    reading = sorted(
        range(11),
        key=lambda n: (rows.index(round(points[n]["y"])),
                       -points[n]["x"] if direction == "rtl" else points[n]["x"]),
    )
    assert reading == list(range(11)), f"the 0-10 points read as {reading}"
    for point in points:  # touch targets
        assert point["width"] >= 44 and point["height"] >= 44, point
    # On a phone the end labels stand one above the other ("0 = ..." first), each starting on
    # the reader's start side, where the 0 point is.
    low, high = (_box(s) for s in phone.locator(".scale-labels span").all())
    assert low["y"] < high["y"], "the '0 =' label should come first"
    zero = points[0]
    if direction == "rtl":
        assert abs((low["x"] + low["width"]) - (zero["x"] + zero["width"])) < 2, \
            "the '0 =' label should start on the right, under 0, in Arabic"
    else:
        assert abs(low["x"] - zero["x"]) < 2, "the '0 =' label should start under 0 in German"
    _assert_forward_side(phone, direction)
    assert nav_button(phone, "next").inner_text().strip() != ""
    assert progress(phone).value == progress(phone).total


@pytest.mark.parametrize("locale", ["ar"])
def test_language_switch_keeps_answers_and_turns_direction(live_server, phone):
    start(phone, live_server, "needs-tcn", "ar", "rtl")
    code = page_code(phone)
    phone.locator("input[name='age_group'][value='26_35']").check()
    phone.locator("#f-federal_state").select_option("hh")
    with phone.expect_navigation():
        phone.locator(".language-switch button[value='de']").click()
    assert page_code(phone) == code
    assert_language(phone, "de", "ltr")
    expect(phone.locator("input[name='age_group'][value='26_35']")).to_be_checked()
    expect(phone.locator("#f-federal_state")).to_have_value("hh")
    expect(phone.locator("#error-summary")).to_have_count(0)
    assert_fits_phone(phone)


def test_language_switch_on_thank_you_page(live_server, phone):
    start(phone, live_server, "exit-survey", "de", "ltr")
    receipt = complete(phone, lang="de", direction="ltr", javascript=True).receipt
    with phone.expect_navigation():
        phone.locator(".language-switch a[hreflang='en']").click()
    assert is_done(phone)
    expect(phone.locator(".receipt-code code")).to_have_text(receipt)
    assert_language(phone, "en", "ltr")


def test_field_with_error_has_an_error_coloured_border(live_server, phone):
    start(phone, live_server, "exit-survey", "de", "ltr")
    phone.locator("input[name='member_duration'][value='1_2']").check()
    phone.locator("#f-left_on").fill("2030-01-01")  # after the allowed 31.12.2026
    press(phone, "next")
    field_ = phone.locator("#f-left_on")
    expect(field_).to_have_attribute("aria-invalid", "true")
    error_colour = phone.locator("#e-left_on").evaluate("e => getComputedStyle(e).color")
    border = field_.evaluate("e => getComputedStyle(e).borderInlineStartColor")
    assert border == error_colour, f"border {border}, error messages in {error_colour}"


def test_withdrawal_with_the_receipt_code_in_arabic(live_app, live_server, new_phone, screenshots):
    """A respondent sends the needs survey in Arabic, then deletes the answers with the code."""
    page = new_phone("ar", javascript=True).new_page()
    start(page, live_server, "needs-tcn", "ar", "rtl")
    token = token_of(page)
    receipt = complete(page, lang="ar", direction="rtl", javascript=True).receipt
    with page.expect_navigation():
        page.locator(".receipt a[href$='/withdraw']").click()
    assert_language(page, "ar", "rtl")
    page.screenshot(path=str(screenshots / "ar-needs-tcn-06-withdraw.png"), full_page=True)
    # Typed the way people do: lower case, spaces instead of dashes.
    page.locator("#code").fill(receipt.lower().replace("-", " "))
    with page.expect_navigation():
        page.locator("form .nav-buttons button.primary").click()
    assert_language(page, "ar", "rtl")
    expect(page.locator("p.notice.success")).to_be_visible()
    page.screenshot(path=str(screenshots / "ar-needs-tcn-07-withdrawn.png"), full_page=True)
    status, _language, values = stored_response(live_app, "needs-tcn", token)
    assert status is ResponseStatus.WITHDRAWN
    assert values == {}
