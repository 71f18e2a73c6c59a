"""The builder in Chromium: start from the exit-survey template, add a question and give it a
condition in the condition editor, translate what is missing side by side, publish; a
respondent answers on a 390 px phone; a live edit makes version 2 and the earlier answers
still show in the results."""

from __future__ import annotations

import json
import os
import re

import pytest

if not os.environ.get("SURVEYAPP_REQUIRE_BROWSER"):
    pytest.importorskip("playwright", reason="browser tests skipped: Playwright is not installed")

import sqlalchemy as sa
from playwright.sync_api import expect

from surveyapp.accounts.models import Role
from surveyapp.accounts.services import create_user
from surveyapp.db import db
from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Answer, Response, ResponseStatus
from tests.browser.walker import assert_fits_phone, complete, screenshot, start

SLUG = "exit-browser"
EMAIL = "browser-builder@example.org"
PASSWORD = "a long enough password"
#: Asked of people who would come back: pasted in the definition format in German only; its
#: condition is then set in the condition editor, its English text on the translations page.
EVENTS_QUESTION = {
    "code": "which_events", "type": "short_text",
    "text": {"de": "Zu welchen Treffen kämen Sie?"},
}
EVENTS_CONDITION = {"all": [{"question": "come_back", "op": "one_of",
                             "values": ["yes", "maybe"]}]}


@pytest.fixture(scope="module")
def builder_account(live_app):
    with live_app.app_context():
        create_user(EMAIL, Role.BUILDER, PASSWORD)
        db.session.commit()


def log_in(page, base: str) -> None:
    page.goto(f"{base}/staff/login")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()


def open_question(page, code: str):
    """Open a question's editor in place (builder.js) and return its list item."""
    editor = page.locator(".bq.is-open", has=page.locator(".bq-summary .code", has_text=code))
    if not editor.count():
        item = page.locator(".bq", has=page.locator(".bq-summary .code", has_text=code)).first
        item.locator("a.edit-link").click()
    expect(editor.locator("form.question-form")).to_be_visible()
    return editor


def publish(page) -> None:
    with page.expect_navigation():
        page.locator("form.publish-form button").click()
    expect(page.locator(".notice.success").first).to_be_visible()


def test_build_publish_answer_edit_live(live_app, live_server, new_phone, builder_account,
                                        screenshots):
    staff = new_phone("de-DE").new_page()
    log_in(staff, live_server)
    staff.goto(f"{live_server}/staff/questionnaires/")
    staff.locator("main a.button.primary").click()  # "New questionnaire"
    staff.check("input[name='template-template'][value='exit-survey']")
    staff.fill("#template-slug", SLUG)
    with staff.expect_navigation():
        staff.locator("form:has(input[name=how][value=template]) button[type=submit]").click()
    assert staff.url.endswith(f"/staff/build/{SLUG}")
    assert_fits_phone(staff)
    screenshot(staff, screenshots, "builder-edit-de")

    # A question with a condition, pasted in the definition format, on the last page.
    last_page = staff.locator(".bpage").last
    last_page.locator("details summary").last.click()
    last_page.locator("textarea[name=json]").fill(json.dumps(EVENTS_QUESTION))
    with staff.expect_navigation():
        last_page.locator("form.add-question button[type=submit]").click()
    expect(staff.locator(".bq-summary .code", has_text="which_events")).to_have_count(1)

    # Its condition, in the condition editor: "shown when come_back is one of yes, maybe".
    editor = open_question(staff, "which_events")
    with staff.expect_navigation():
        editor.get_by_role("link", name=re.compile("Bedingung|Condition")).click()
    staff.select_option("select[name$='question']", "come_back")
    staff.select_option("select[name$='op']", "one_of")
    staff.check("input[name$='values'][value='yes']")
    staff.check("input[name$='values'][value='maybe']")
    with staff.expect_navigation():
        staff.locator("#condition-form button.primary").click()
    with live_app.app_context():
        draft = get_by_slug(SLUG).latest_version
        assert next(q for q in draft.questions if q.code == "which_events").show_if == \
            EVENTS_CONDITION
    staff.goto(f"{live_server}/staff/build/{SLUG}")

    # Text typed into one question survives saving another (both open, saved in place).
    first = open_question(staff, "member_duration")
    first.locator("textarea[name=help]").fill("Ungefähr reicht.")
    second = open_question(staff, "member_type")
    second.locator("textarea[name=help]").fill("Die letzte Art zählt.")
    second.locator("form.question-form button.primary").click()
    expect(staff.locator(".bq.is-open .live-message .notice")).to_have_count(1)
    first = staff.locator(".bq.is-open", has=staff.locator(".code", has_text="member_duration"))
    expect(first.locator("textarea[name=help]")).to_have_value("Ungefähr reicht.")
    first.locator("form.question-form button.primary").click()
    expect(staff.locator(".bq.is-open .live-message .notice")).to_have_count(2)
    # The English texts still missing (the new question, both help texts), side by side.
    staff.goto(f"{live_server}/staff/questionnaires/{SLUG}/translations/side-by-side"
               "?lang=en&missing=1")
    missing = staff.locator("main form[method=post] textarea")
    assert missing.count() == 3
    for index in range(3):
        missing.nth(index).fill(f"English text {index + 1}")
    with staff.expect_navigation():
        staff.locator("main form[method=post] button.primary").click()
    with live_app.app_context():
        draft = get_by_slug(SLUG).latest_version
        events = next(q for q in draft.questions if q.code == "which_events")
        assert events.text["en"].startswith("English text")
    staff.goto(f"{live_server}/staff/build/{SLUG}")
    publish(staff)

    with live_app.app_context():
        questionnaire = get_by_slug(SLUG)
        assert questionnaire.is_open and questionnaire.published_version.number == 1
        help_texts = {q.code: q.help.get("de") for q in questionnaire.published_version.questions}
        assert help_texts["member_duration"] == "Ungefähr reicht."
        assert help_texts["member_type"] == "Die letzte Art zählt."
        # Results show groups of one here, so that a single answer is visible.
        questionnaire.min_group_size = 1
        db.session.commit()

    # A respondent answers on a phone.
    respondent = new_phone("de-DE").new_page()
    start(respondent, live_server, SLUG, "de", "ltr")
    complete(respondent, lang="de", direction="ltr", javascript=True)
    with live_app.app_context():
        questionnaire = get_by_slug(SLUG)
        sent = db.session.scalars(sa.select(Response).where(
            Response.questionnaire_id == questionnaire.id,
            Response.status == ResponseStatus.COMPLETE)).all()
        assert len(sent) == 1 and sent[0].version_id == questionnaire.published_version.id
        assert "open_events" in set(db.session.scalars(
            sa.select(Question.code).join(Answer, Answer.question_id == Question.id)
            .where(Answer.response_id == sent[0].id)))

    # A live edit: version 2 changes a text and retires the answered yes/no question.
    staff.goto(f"{live_server}/staff/build/{SLUG}")
    with staff.expect_navigation():
        staff.locator("form[action$='/make-changes'] button").click()
    editor = open_question(staff, "open_events")
    expect(editor.locator("select[name=type] option[selected]")).to_have_count(1)
    expect(editor.locator("input[name=code]")).to_have_attribute("readonly", "")
    with staff.expect_navigation():
        editor.locator("form.structure-form button[value=delete]").click()
    expect(staff.locator(".notice.success")).to_contain_text("open_events")
    publish(staff)
    with live_app.app_context():
        assert get_by_slug(SLUG).published_version.number == 2

    staff.goto(f"{live_server}/staff/results/{SLUG}")
    results = staff.locator("main")
    expect(results).to_contain_text("Würden Sie weiterhin offene Veranstaltungen")
    screenshot(staff, screenshots, "builder-results-after-v2")


def test_drag_and_drop_reorders_questions(live_app, live_server, chromium, builder_account):
    context = chromium.new_context(viewport={"width": 1024, "height": 900}, locale="de-DE")
    try:
        page = context.new_page()
        log_in(page, live_server)
        page.goto(f"{live_server}/staff/build/new")
        page.check("input[name='template-template'][value='mentors']")
        page.fill("#template-slug", "drag-test")
        with page.expect_navigation():
            page.locator("form:has(input[name=how][value=template]) button[type=submit]").click()
        first_list = page.locator(".bquestions").first
        items = first_list.locator(":scope > .bq")
        codes_before = items.locator(".bq-summary .code").all_inner_texts()
        assert len(codes_before) >= 2
        handle = items.nth(0).locator(".bq-summary .drag-handle")
        target = items.nth(1)
        box = target.bounding_box()
        with page.expect_navigation():  # the order is saved, then the page reloads
            handle.hover()
            page.mouse.down()
            page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.75, steps=12)
            page.mouse.up()
        with live_app.app_context():
            version = get_by_slug("drag-test").latest_version
            codes_after = [q.code for q in version.pages[0].questions]
        assert codes_after[:2] == [codes_before[1], codes_before[0]]
    finally:
        context.close()
