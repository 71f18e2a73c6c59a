"""The condition editor in Chromium on a 390 px phone: choices follow the chosen question
without a round trip, two rules are saved, and the page reads well in German and Arabic."""

from __future__ import annotations

import copy
import os
from pathlib import Path

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
from surveyapp.transfer import import_questionnaire
from tests.browser.walker import assert_fits_phone, screenshot
from tests.condition_editor.conftest import DRAFT

SLUG = "cond-browser"
#: Extra copies for a person looking at the pages (the lead's review); optional.
LOOK = os.environ.get("SURVEYAPP_SHOTS")


@pytest.fixture(scope="module")
def editor_url(live_app):
    """The condition editor of the draft's question "why", for a logged-in admin."""
    with live_app.app_context():
        if get_by_slug(SLUG) is None:
            import_questionnaire({**copy.deepcopy(DRAFT), "slug": SLUG})
            create_user("conditions-browser@example.org", Role.ADMIN, "a long enough password")
            db.session.commit()
        version = get_by_slug(SLUG).latest_version
        why = db.session.scalars(sa.select(Question).filter_by(version_id=version.id,
                                                               code="why")).one()
        return f"/staff/build/{SLUG}/questions/{why.id}/condition"


def stored_condition(app):
    with app.app_context():
        version = get_by_slug(SLUG).latest_version
        return db.session.scalars(sa.select(Question.show_if).filter_by(
            version_id=version.id, code="why")).one()


def log_in(page, base: str) -> None:
    page.goto(f"{base}/staff/login")
    page.locator("input[name=email]").fill("conditions-browser@example.org")
    page.locator("input[name=password]").fill("a long enough password")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/staff/login" not in url)


@pytest.mark.parametrize("locale,lang,direction", [("de-DE", "de", "ltr"), ("ar", "ar", "rtl")])
def test_two_rules_are_built_without_round_trips_for_the_choices(
        live_app, live_server, new_phone, network, screenshots, editor_url, locale, lang,
        direction):
    page = new_phone(locale).new_page()
    log_in(page, live_server)
    page.goto(live_server + editor_url)
    expect(page.locator("html")).to_have_attribute("dir", direction)
    # With the script the "Update choices" round trip is not needed, and not shown.
    expect(page.locator("button[value=update]")).to_be_hidden()

    network.posts.clear()
    page.select_option("#rule-0-question", "member")
    expect(page.locator("#rule-0-op")).to_have_value("one_of")
    page.check("#rule-0-values-0")
    page.check("#rule-0-values-1")
    page.select_option("#rule-0-op", "not")  # one answer only: radio buttons
    expect(page.locator("#rule-0-values-0")).to_have_attribute("type", "radio")
    expect(page.locator("#rule-0-values-0")).to_be_checked()
    page.select_option("#rule-0-op", "one_of")
    page.check("#rule-0-values-1")
    assert network.posts == []  # every change so far happened in the page

    page.click("button[value=add]")
    page.select_option("#rule-1-question", "age")
    expect(page.locator("#rule-1-op option")).to_have_count(7)
    page.select_option("#rule-1-op", "ge")
    page.fill("#rule-1-value", "18")
    page.check("#combine-any")
    page.locator(".nav-buttons button[value=save]").click()
    expect(page.locator(".notice.success")).to_be_visible()
    assert stored_condition(live_app) == {"any": [
        {"question": "member", "op": "one_of", "values": ["short", "mid"]},
        {"question": "age", "op": "ge", "value": 18}]}

    expect(page.locator("#rule-1-value")).to_have_value("18")
    assert_fits_phone(page)
    screenshot(page, screenshots, f"condition-editor-{lang}")
    if LOOK:
        Path(LOOK).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(LOOK) / f"condition-editor-{lang}.png"), full_page=True)

    # Leave the question without a condition for the next language's run.
    page.locator("button[value=clear]").click()
    expect(page.locator(".notice.success")).to_be_visible()
    assert stored_condition(live_app) is None


def test_without_script_the_editor_works_in_steps(live_app, live_server, new_phone, editor_url):
    page = new_phone("de-DE", javascript=False).new_page()
    log_in(page, live_server)
    page.goto(live_server + editor_url)
    expect(page.locator("#rule-0-op")).to_have_count(0)
    page.select_option("#rule-0-question", "note")
    page.click("button[value=update]")
    page.select_option("#rule-0-op", "not_answered")
    page.locator(".nav-buttons button[value=save]").click()
    expect(page.locator(".notice.success")).to_be_visible()
    assert stored_condition(live_app) == {"all": [{"question": "note", "op": "not_answered"}]}
    page.locator("button[value=clear]").click()
    expect(page.locator(".notice.success")).to_be_visible()
