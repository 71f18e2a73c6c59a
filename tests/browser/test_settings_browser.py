"""Staff settings, consent editor and side-by-side translation in Chromium on a 390 px phone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

if not os.environ.get("SURVEYAPP_REQUIRE_BROWSER"):
    pytest.importorskip("playwright", reason="browser tests skipped: Playwright is not installed")

from playwright.sync_api import expect

from surveyapp.accounts.models import Role
from surveyapp.accounts.services import create_user
from surveyapp.db import db
from surveyapp.questionnaires.services import get_by_slug
from tests.browser.walker import assert_fits_phone

#: Screenshots to look at (German and Arabic interface), outside the repository.
SHOTS = Path(os.environ.get("SURVEYAPP_SHOTS") or "/tmp/shots-settings")
EMAIL, PASSWORD = "settings-admin@example.org", "a long enough password"


@pytest.fixture(scope="module")
def admin_account(live_app):
    with live_app.app_context():
        create_user(EMAIL, Role.ADMIN, PASSWORD)
        questionnaire = get_by_slug("mentors")
        questionnaire.languages = [*questionnaire.languages, "ar"]
        db.session.commit()


def log_in(page, base: str) -> None:
    page.goto(f"{base}/staff/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(f"{base}/staff/questionnaires/")


def interface(page, lang: str) -> None:
    page.locator(f"footer button[value={lang}]").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("lang", ["de", "ar"])
def test_settings_consent_and_translation_pages_on_a_phone(live_server, admin_account, phone,
                                                           lang):
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_in(phone, live_server)
    interface(phone, lang)
    base = f"{live_server}/staff/questionnaires/mentors"
    pages = {"settings": f"{base}/settings", "consent": f"{base}/consent",
             "consent-ar": f"{base}/consent?lang=ar",
             "consent-purposes": f"{live_server}/staff/questionnaires/clubs-inclusion/consent",
             "translate": f"{base}/translations/side-by-side?lang=ar"}
    for name, url in pages.items():
        phone.goto(url)
        expect(phone.locator("html")).to_have_attribute("lang", lang)
        expect(phone.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
        assert_fits_phone(phone)
        phone.screenshot(path=str(SHOTS / f"{name}-{lang}.png"), full_page=True)
    # The target fields are Arabic, right to left, whatever the interface language.
    phone.goto(pages["translate"])
    field = phone.locator("textarea#t-title")
    expect(field).to_have_attribute("dir", "rtl")
    expect(field).to_have_attribute("lang", "ar")


def test_a_bad_entry_is_shown_and_focused_without_losing_input(live_server, admin_account,
                                                               phone):
    log_in(phone, live_server)
    interface(phone, "de")
    phone.goto(f"{live_server}/staff/questionnaires/mentors/settings")
    phone.fill("#privacy_url", "example.org/datenschutz")
    phone.fill("#min_group_size", "7")
    phone.locator("form.settings-form button[type=submit]").click()
    summary = phone.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(phone.locator("#privacy_url")).to_have_value("example.org/datenschutz")
    expect(phone.locator("#min_group_size")).to_have_value("7")
    summary.locator("a").first.click()
    expect(phone.locator("#privacy_url")).to_be_focused()
    assert_fits_phone(phone)
    phone.screenshot(path=str(SHOTS / "settings-error-de.png"), full_page=True)
