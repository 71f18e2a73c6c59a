"""Sending invitations and reminders through a real (tiny, local) SMTP server."""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from surveyapp.db import db, utcnow
from surveyapp.fieldwork import services
from surveyapp.fieldwork.contacts_csv import ContactRow
from surveyapp.fieldwork.models import (
    Invitation,
    MessageKind,
    MessageStatus,
    SentMessage,
)
from surveyapp.questionnaires.services import get_by_slug
from tests.conftest import count_rows, csrf_token, hidden_values
from tests.respondent import Respondent

SLUG = "needs-tcn"
BASE = f"/staff/questionnaires/{SLUG}/invitations"


class SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greet, accept mail, keep it, refuse one address."""

    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode("ascii"))

    def handle(self) -> None:
        self.reply("220 localhost test SMTP")
        recipients: list[str] = []
        while True:
            line = self.rfile.readline().decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                return
            command = line.split(" ", 1)[0].upper()
            if command in ("EHLO", "HELO"):
                self.reply("250 localhost")
            elif command == "MAIL":
                recipients = []
                self.reply("250 OK")
            elif command == "RCPT":
                address = line.split(":", 1)[1].strip(" <>")
                if address.startswith("refused"):
                    self.reply("550 no such user")
                else:
                    recipients.append(address)
                    self.reply("250 OK")
            elif command == "DATA":
                self.reply("354 go ahead")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                self.server.messages.append((recipients, b"".join(data)))
                self.reply("250 queued")
            elif command == "QUIT":
                self.reply("221 bye")
                return
            else:  # RSET, NOOP
                self.reply("250 OK")


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.messages: list[tuple[list[str], bytes]] = []


@pytest.fixture
def smtp(app) -> Iterator[SmtpServer]:
    """A local SMTP server, and the app configured to use it (restored afterwards)."""
    server = SmtpServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    saved = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS",
                                        "MAIL_DEFAULT_SENDER", "MAIL_PER_HOUR")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.server_address[1],
                      MAIL_USE_TLS=False, MAIL_DEFAULT_SENDER="verein@example.org",
                      MAIL_PER_HOUR=100)
    yield server
    app.config.update(saved)
    server.shutdown()
    server.server_close()


def add_contacts(rows: list[tuple[str, str, str]]) -> None:
    """Contacts (name, e-mail, language) of the questionnaire, each with an invitation."""
    services.import_contacts(get_by_slug(SLUG), [
        ContactRow(line=i + 2, name=name, email=address, phone=None, unit_code="",
                   language=lang) for i, (name, address, lang) in enumerate(rows)])
    db.session.commit()


def press(client, kind: str):
    token = csrf_token(client.get(BASE).get_data(as_text=True))
    return client.post(BASE + "/send", data={"csrf_token": token, "kind": kind})


def parsed(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_invitations_go_out_in_each_contacts_language_and_are_recorded(app, staff_client,
                                                                      smtp):
    add_contacts([("Amira", "amira@example.org", "ar"), ("Jürgen", "juergen@example.org", "de"),
                  ("Refused", "refused@example.org", "en")])
    response = press(staff_client, "invitation")
    assert response.status_code == 302
    notice = staff_client.get(BASE).get_data(as_text=True)
    assert "2 messages sent." in notice and "1 could not be sent." in notice
    by_address = {rcpt[0]: parsed(raw) for rcpt, raw in smtp.messages}
    assert set(by_address) == {"amira@example.org", "juergen@example.org"}
    arabic, german = by_address["amira@example.org"], by_address["juergen@example.org"]
    title = get_by_slug(SLUG).published_version.title

    def subject(message) -> str:  # long headers are folded: compare words
        return " ".join(message["Subject"].split())

    assert " ".join(title["de"].split()) in subject(german)
    assert " ".join(title["ar"].split()) in subject(arabic)
    assert (german["Content-Language"], arabic["Content-Language"]) == ("de", "ar")
    assert "Amira" in arabic.get_content()
    # The link in the mail opens this contact's invitation.
    body = arabic.get_content()
    link = next(word for word in body.split() if "/i/" in word)
    invitation = db.session.scalars(sa.select(Invitation).join(Invitation.contact).where(
        sa.text("contacts.email = 'amira@example.org'"))).one()
    assert services.digest(link.rsplit("/", 1)[1]) == invitation.token_digest
    records = db.session.scalars(sa.select(SentMessage).order_by(SentMessage.id)).all()
    assert sorted(r.status.value for r in records) == ["failed", "sent", "sent"]
    assert all(r.kind is MessageKind.INVITATION for r in records)
    # Pressing again sends nothing new to those already invited (only retries the failure).
    smtp.messages.clear()
    press(staff_client, "invitation")
    assert [rcpt for rcpt, _raw in smtp.messages] == []
    from surveyapp.audit.models import AuditEntry
    assert "invitations.send_invitation" in db.session.scalars(sa.select(AuditEntry.action))


def test_reminders_only_reach_those_who_have_not_answered(app, staff_client, smtp):
    q = get_by_slug(SLUG)
    q.is_anonymous = False
    db.session.commit()
    add_contacts([("Amira", "amira@example.org", "en"), ("Olena", "olena@example.org", "en")])
    press(staff_client, "invitation")
    assert len(smtp.messages) == 2
    # Amira answers through her link.
    amira = db.session.scalars(sa.select(Invitation).join(Invitation.contact).where(
        sa.text("contacts.email = 'amira@example.org'"))).one()
    client = app.test_client()
    token = services.token_for(amira)
    page = client.get(f"/i/{token}")
    started = client.post(f"/i/{token}",
                          data={**hidden_values(page.get_data(as_text=True)), "consent": "y"})
    respondent = Respondent(client, SLUG)
    respondent.url = started.headers["Location"]
    respondent.complete()
    smtp.messages.clear()
    press(staff_client, "reminder")
    assert [rcpt for rcpt, _raw in smtp.messages] == [["olena@example.org"]]
    assert parsed(smtp.messages[0][1])["Subject"].strip().startswith("Reminder")
    # A second press the same day does not remind again.
    smtp.messages.clear()
    press(staff_client, "reminder")
    assert smtp.messages == []


def test_the_hourly_limit_holds_across_requests(app, staff_client, smtp):
    app.config["MAIL_PER_HOUR"] = 3
    add_contacts([(f"P{i}", f"p{i}@example.org", "en") for i in range(5)])
    press(staff_client, "invitation")
    assert len(smtp.messages) == 3
    page = staff_client.get(BASE).get_data(as_text=True)
    assert "2 more will be sent later" in page and "last hour: 3 of 3" in page
    press(staff_client, "invitation")
    assert len(smtp.messages) == 3  # still within the same hour
    # An hour later the rest go out.
    db.session.execute(sa.update(SentMessage).values(sent_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    press(staff_client, "invitation")
    assert len(smtp.messages) == 5
    assert count_rows(SentMessage) == 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SentMessage).where(
        SentMessage.status == MessageStatus.SENT)) == 5


def test_an_unreachable_server_sends_nothing_and_says_so(app, staff_client, smtp):
    app.config["MAIL_PORT"] = 1  # nothing listens there
    add_contacts([("Amira", "amira@example.org", "en")])
    press(staff_client, "invitation")
    assert "could not be reached" in staff_client.get(BASE).get_data(as_text=True)
    assert count_rows(SentMessage) == 0


def test_without_a_mail_server_only_the_export_is_offered(app, staff_client):
    html = staff_client.get(BASE).get_data(as_text=True)
    assert "No mail server is set up" in html and "Send invitations" not in html
    assert press(staff_client, "invitation").status_code == 422


def test_the_command_sends_reminders_from_cron(app, smtp, runner):
    add_contacts([("Amira", "amira@example.org", "en")])
    app.config["SERVER_NAME"] = "umfrage.example.org"
    try:
        with app.app_context():  # a context that knows the server name, as under cron
            first = runner.invoke(args=["invitations", "send", SLUG])
            assert first.exit_code == 0, first.output
            assert "1 sent" in first.output
            reminded = runner.invoke(args=["invitations", "send", SLUG, "--reminders"])
            assert "1 sent" in reminded.output
    finally:
        app.config["SERVER_NAME"] = None
    assert [parsed(raw)["Subject"].split(":")[0].strip() for _r, raw in smtp.messages] == [
        "Invitation", "Reminder"]
    assert "https://umfrage.example.org/i/" in parsed(smtp.messages[0][1]).get_content() or \
        "http://umfrage.example.org/i/" in parsed(smtp.messages[0][1]).get_content()
    assert runner.invoke(args=["invitations", "send", "no-such"]).exit_code != 0


def test_line_breaks_in_names_and_titles_neither_stop_nor_repeat_a_batch(app, staff_client,
                                                                         smtp):
    version = get_by_slug(SLUG).published_version
    version.title = {lang: text + "\nzweite Zeile" for lang, text in version.title.items()}
    add_contacts([("Anna\nSmith", "anna@example.org", "en"),
                  ("Bo\u2028Berg", "bo@example.org", "en"), ("Cem", "cem@example.org", "en")])
    press(staff_client, "invitation")
    assert sorted(rcpt[0] for rcpt, _raw in smtp.messages) == [
        "anna@example.org", "bo@example.org", "cem@example.org"]
    anna = next(parsed(raw) for rcpt, raw in smtp.messages if rcpt == ["anna@example.org"])
    assert "Anna Smith" in anna["To"] and "zweite Zeile" in " ".join(anna["Subject"].split())
    smtp.messages.clear()
    press(staff_client, "invitation")  # every one was recorded as sent: nothing goes twice
    assert smtp.messages == []


def test_a_name_is_imported_as_one_line():
    from surveyapp.fieldwork.contacts_csv import one_line

    assert one_line(" Anna\r\nSmith\u2028 \x07Jr ") == "Anna Smith Jr"
