"""A phone campaign in Chromium on a 390 px phone: an interviewer works the call list (call back,
refusal, an interview with consent read aloud), and the supervisor sees the outcomes."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import pytest

if not os.environ.get("SURVEYAPP_REQUIRE_BROWSER"):
    pytest.importorskip("playwright", reason="browser tests skipped: Playwright is not installed")

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from surveyapp.accounts.models import Role, Unit
from surveyapp.accounts.services import create_user
from surveyapp.campaigns import services
from surveyapp.campaigns.models import CallEntry, EntryStatus
from surveyapp.consent.models import ConsentRecord
from surveyapp.db import db
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Channel, Response, ResponseStatus
from tests.browser.walker import assert_fits_phone, complete

PASSWORD = "a long enough password"
SHOTS = Path(os.environ.get("SURVEYAPP_CAMPAIGN_SHOTS", "/tmp/shots-campaigns"))
_numbers = itertools.count(1)


def _campaign(app, people: list[tuple[str, str]]) -> tuple[int, str, str]:
    """A campaign on clubs-inclusion with a new interviewer and a new admin; their e-mails."""
    n = next(_numbers)
    with app.app_context():
        caller = create_user(f"caller{n}@example.org", Role.INTERVIEWER, PASSWORD)[0]
        boss = create_user(f"boss{n}@example.org", Role.ADMIN, PASSWORD)[0]
        db.session.flush()
        unit = db.session.scalar(sa.select(Unit).order_by(Unit.id))
        campaign = services.create_campaign(
            get_by_slug("clubs-inclusion"), name=f"Neue Mitglieder anrufen {n}",
            script="Guten Tag, hier ist der Verein.\n\nWir rufen alle neuen Mitglieder an. "
                   "Haben Sie fünf Minuten?",
            interviewer_ids=[caller.id])
        services.add_people(campaign, [
            services.Person(name=name, phone=f"+49 170 {n:03d} {i:04d}", language=lang,
                            unit_id=unit.id) for i, (name, lang) in enumerate(people)])
        db.session.commit()
        return campaign.id, caller.email, boss.email


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/staff/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type='submit']").click()


def _click(page: Page, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).click()


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_interviewer_works_the_call_list_and_supervisor_sees_it(live_app, live_server,
                                                                 new_phone):
    campaign_id, caller, boss = _campaign(
        live_app, [("Amal Haddad", "en"), ("Bashir Rahimi", "de"), ("Chiara Rossi", "en")])
    page = new_phone("de-DE").new_page()
    _log_in(page, live_server, caller)
    assert page.url.endswith("/staff/campaigns/mine")
    _click(page, f"a[href$='/staff/campaigns/{campaign_id}/next']")
    _click(page, f"form[action$='/{campaign_id}/next'] button")

    # First person: asks to be called back.
    expect(page.locator(".call-name")).to_have_text("Amal Haddad")
    expect(page.locator("a.call-phone")).to_have_attribute("href", re.compile(r"^tel:\+49170"))
    expect(page.locator(".script")).to_contain_text("Haben Sie fünf Minuten?")
    assert_fits_phone(page)
    page.fill("#callback_at", "2031-05-04T18:30")
    _click(page, "button[value='callback']")

    # Second person: refuses.
    expect(page.locator(".call-name")).to_have_text("Bashir Rahimi")
    _click(page, "button[value='refused']")

    # Third person: reached; the consent text is read aloud and confirmed, then the interview.
    expect(page.locator(".call-name")).to_have_text("Chiara Rossi")
    _click(page, "button[value='reached']")
    assert page.url.endswith("/interview")
    expect(page.locator(".consent-text")).to_contain_text("This survey is run by")
    assert_fits_phone(page)
    page.locator("#consent").check()
    page.locator("#purpose-contact").check()
    _click(page, "form[action$='/interview'] button[type='submit']")
    assert "/s/clubs-inclusion/r/" in page.url
    assert not [c for c in page.context.cookies() if c["name"].startswith("resume_")]
    complete(page, lang="en", direction="ltr", javascript=True)
    _click(page, "a[href$='/staff/campaigns/back']")
    assert page.url.endswith(f"/staff/campaigns/{campaign_id}/next")
    # Nobody is due now (the call back is in 2031): the screen offers to look again.
    expect(page.locator(".call-name")).to_have_count(0)

    with live_app.app_context():
        statuses = dict(db.session.execute(
            sa.select(CallEntry.name, CallEntry.status).where(
                CallEntry.campaign_id == campaign_id)).all())
        assert statuses == {"Amal Haddad": EntryStatus.OPEN,
                            "Bashir Rahimi": EntryStatus.REFUSED,
                            "Chiara Rossi": EntryStatus.COMPLETED}
        user_id = services.User.query.filter_by(email=caller).one().id
        response = db.session.scalar(sa.select(Response).where(
            Response.channel == Channel.PHONE))
        assert response.status is ResponseStatus.COMPLETE
        record = db.session.scalar(sa.select(ConsentRecord).filter_by(response_id=response.id))
        assert record.channel == "phone"
        assert set(record.purposes) == {"answers", "contact"}
        # Anonymous questionnaires keep the interviewer only until the answers are sent.
        kept = None if get_by_slug("clubs-inclusion").is_anonymous else user_id
        assert (response.interviewer_id, record.interviewer_id) == (kept, kept)

    # The supervisor sees one call back, one refusal and one reached for this interviewer.
    boss_page = new_phone("de-DE").new_page()
    _log_in(boss_page, live_server, boss)
    boss_page.goto(f"{live_server}/staff/campaigns/{campaign_id}")
    table = boss_page.locator("table.calls", has=boss_page.locator(f"caption:text-is('{caller}')"))
    # Rows: reached, no answer, call back, wrong number, refused, do not call, all.
    expect(table.locator("td")).to_have_text(["1", "0", "1", "0", "1", "0", "3"])
    expect(boss_page.locator("#callbacks-title + table")).to_contain_text("Amal Haddad")
    assert_fits_phone(boss_page)


@pytest.mark.parametrize("locale, lang", [("de-DE", "de"), ("ar", "ar")])
def test_screens_fit_the_phone_in_german_and_arabic(live_app, live_server, new_phone,
                                                    locale, lang):
    campaign_id, caller, boss = _campaign(
        live_app, [("Dilan Yildiz", "en"), ("Elias Haddad", "de")])
    page = new_phone(locale).new_page()
    _log_in(page, live_server, caller)
    _click(page, f"button[name='lang'][value='{lang}']")
    page.goto(f"{live_server}/staff/campaigns/{campaign_id}/next")
    _click(page, f"form[action$='/{campaign_id}/next'] button")
    # A call back first, so the supervisor's view has something in every part; Enter in the
    # time field means "call back" (never "reached", the first button of the screen).
    page.fill("#callback_at", "2031-05-04T18:30")
    with page.expect_navigation():
        page.press("#callback_at", "Enter")
    expect(page.locator(f"html[lang='{lang}']")).to_have_count(1)
    expect(page.locator(".call-name")).to_have_text("Elias Haddad")
    with live_app.app_context():
        first = db.session.scalar(sa.select(CallEntry).where(
            CallEntry.campaign_id == campaign_id, CallEntry.name == "Dilan Yildiz"))
        assert (first.status, first.is_callback) == (EntryStatus.OPEN, True)
    assert_fits_phone(page)
    _shot(page, f"{lang}-interviewer-screen")
    _click(page, "button[value='reached']")
    assert_fits_phone(page)
    _shot(page, f"{lang}-interviewer-consent")

    boss_page = new_phone(locale).new_page()
    _log_in(boss_page, live_server, boss)
    _click(boss_page, f"button[name='lang'][value='{lang}']")
    boss_page.goto(f"{live_server}/staff/campaigns/{campaign_id}")
    expect(boss_page.locator(f"html[lang='{lang}']")).to_have_count(1)
    assert_fits_phone(boss_page)
    _shot(boss_page, f"{lang}-supervisor-view")
