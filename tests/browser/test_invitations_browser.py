"""Personal invitations on a phone: a contact list with bad rows, and a used link in Arabic."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from surveyapp.accounts.models import Role
from surveyapp.accounts.services import create_user
from surveyapp.db import db
from surveyapp.fieldwork import services
from surveyapp.fieldwork.models import Contact, Invitation
from surveyapp.questionnaires.services import get_by_slug

SHOTS = Path("/tmp/shots-invitations")
SLUG = "needs-tcn"
CONTACTS = ("Name;E-Mail;Telefon;Einheit;Sprache\n"
            "Amira Haddad;amira@example.org;;koeln;ar\n"
            "Jürgen Weiß;kein-gueltiger-name;;;de\n"
            "Olena;;+49 30 123456;atlantis;uk\n"
            "Said;said@example.org;;leipzig;fa\n").encode("utf-8-sig")


def log_in(page, base: str) -> None:
    page.goto(base + "/staff/login")
    page.fill("#email", "invitations-admin@example.org")
    page.fill("#password", "correct horse battery")
    page.click("button[type=submit]")


def switch_interface(page, lang: str) -> None:
    page.click(f"footer button[value={lang}]")


def test_contact_upload_report_and_used_link_on_a_phone(live_app, live_server, new_phone,
                                                        tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with live_app.app_context():
        create_user("invitations-admin@example.org", Role.ADMIN, "correct horse battery")
        db.session.commit()
    csv_file = tmp_path / "kontakte.csv"
    csv_file.write_bytes(CONTACTS)
    staff = new_phone("de-DE").new_page()
    log_in(staff, live_server)
    for lang in ("de", "ar"):
        staff.goto(f"{live_server}/staff/questionnaires/{SLUG}/invitations")
        switch_interface(staff, lang)
        staff.set_input_files("#file", str(csv_file))
        staff.click("#upload-heading ~ form button[type=submit]")
        report = staff.locator(".invitation-report")
        assert report.is_visible()
        assert report.locator("tbody tr").count() == 2
        assert staff.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar" else "ltr")
        report.screenshot(path=str(SHOTS / f"import-report-{lang}.png"))
        staff.screenshot(path=str(SHOTS / f"invitations-page-{lang}.png"), full_page=True)
    staff.click(".invitation-report button[type=submit]")  # import the 2 valid rows
    assert staff.locator(".notice").count() == 1
    with live_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 2
        amira = db.session.scalars(sa.select(Invitation).join(Contact).where(
            Contact.email == "amira@example.org")).one()
        token = services.token_for(amira)
        amira.used_at = amira.expires_at  # answered already
        said = db.session.scalars(sa.select(Invitation).join(Contact).where(
            Contact.email == "said@example.org")).one()
        said_token = services.token_for(said)
        said.expires_at = said.created_at
        db.session.commit()
        assert get_by_slug(SLUG) is not None

    phone = new_phone("de-DE").new_page()
    used = phone.goto(f"{live_server}/i/{token}")
    assert used.status == 410
    assert phone.evaluate("document.documentElement.lang") == "ar"
    assert phone.evaluate("document.documentElement.dir") == "rtl"
    phone.screenshot(path=str(SHOTS / "used-link-ar.png"), full_page=True)
    expired = phone.goto(f"{live_server}/i/{said_token}")
    assert expired.status == 410
    assert phone.evaluate("document.documentElement.lang") == "fa"
    phone.screenshot(path=str(SHOTS / "expired-link-fa.png"), full_page=True)
    # Chromium logs the 410 status of these pages as a console error: it is the point here.
    new_phone.page_errors[:] = [e for e in new_phone.page_errors if "status of 410" not in e]
