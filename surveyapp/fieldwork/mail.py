"""E-mail invitations and reminders in each contact's language, through plain SMTP.

Only the standard library: ``smtplib`` and ``email``. One connection per batch; every
attempt is recorded (``SentMessage``), and the records enforce the hourly limit across
requests, processes and the CLI.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _

from surveyapp.db import db
from surveyapp.fieldwork import services
from surveyapp.fieldwork.contacts_csv import one_line
from surveyapp.fieldwork.models import Contact, Invitation, MessageKind
from surveyapp.i18n import localized
from surveyapp.questionnaires.models import Questionnaire


def mail_configured() -> bool:
    """Whether an SMTP server is set up (else staff export links for a mail merge)."""
    return bool(current_app.config.get("MAIL_SERVER")) and bool(
        current_app.config.get("MAIL_DEFAULT_SENDER"))


def _interface_locale(language: str) -> str:
    offered = current_app.config["INTERFACE_LANGUAGES"]
    return language if language in offered else current_app.config["BABEL_DEFAULT_LOCALE"]


def compose(questionnaire: Questionnaire, invitation: Invitation, contact: Contact,
            kind: MessageKind) -> EmailMessage:
    """The message for one contact, worded in the contact's language."""
    version = questionnaire.published_version or questionnaire.latest_version
    title = one_line(localized(version.title if version else {}, contact.language,
                               questionnaire.base_language)[0] or "")
    link = services.link_for(invitation)
    with force_locale(_interface_locale(contact.language)):
        until = format_date(invitation.expires_at, "long")
        if kind is MessageKind.INVITATION:
            subject = _("Invitation: %(title)s", title=title)
            opening = _("we invite you to take part in the questionnaire “%(title)s”.",
                        title=title)
        else:
            subject = _("Reminder: %(title)s", title=title)
            opening = _("we recently invited you to the questionnaire “%(title)s”. If you "
                        "have not found the time yet, you can still take part.", title=title)
        greeting = (_("Hello %(name)s,", name=contact.name) if contact.name
                    else _("Hello,"))
        body = "\n\n".join([
            greeting,
            opening,
            _("Your personal link (it works once and only for you):"),
            link,
            _("The link is valid until %(date)s. Taking part is voluntary.", date=until),
            _("If you do not want to receive messages about this questionnaire, please reply "
              "to this e-mail and tell us."),
        ])
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = formataddr((one_line(contact.name or ""), contact.email or ""))
    message["Message-ID"] = make_msgid(domain="surveyapp")
    message.set_content(body + "\n")
    # After set_content, which replaces every Content-* header.
    message["Content-Language"] = contact.language
    return message


def _connect() -> smtplib.SMTP:
    config = current_app.config
    host, port = config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25)
    if config.get("MAIL_USE_SSL"):
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=30,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=30)
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
    if config.get("MAIL_USERNAME"):
        smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    return smtp


@dataclass
class SendReport:
    """What one press of "send" did."""

    sent: int = 0
    failed: int = 0
    #: Due, but held back by the hourly limit; sent by a later press (or cron).
    postponed: int = 0
    #: The server could not be reached at all (nothing was sent).
    unreachable: bool = False


def send_due(questionnaire: Questionnaire, kind: MessageKind) -> SendReport:
    """Send the invitations (or reminders) that are due, within the hourly limit.

    Every attempt is flushed as a ``SentMessage`` right after the server's answer; the
    caller commits.
    """
    # Two presses at once (PostgreSQL runs them side by side) queue here, so the second one
    # sees what the first sent; SQLite already queues every writing request.
    db.session.execute(sa.select(Questionnaire.id).where(Questionnaire.id == questionnaire.id)
                       .with_for_update())
    due = services.due_messages(questionnaire, kind)
    limit = int(current_app.config.get("MAIL_PER_HOUR") or 100)
    budget = max(0, limit - services.messages_in_last_hour())
    report = SendReport(postponed=max(0, len(due) - budget))
    due = due[:budget]
    if not due:
        return report
    try:
        smtp = _connect()
    except (OSError, smtplib.SMTPException) as error:
        current_app.logger.warning("mail server unreachable: %s", error)
        report.unreachable = True
        report.postponed += len(due)
        return report
    try:
        for invitation, contact in due:
            error = None
            try:
                smtp.send_message(compose(questionnaire, invitation, contact, kind))
            except smtplib.SMTPRecipientsRefused:
                error = "recipient refused"
            except ValueError as problem:  # a message the library will not write: this one
                error = "message not written: " + str(problem)  # fails, the batch goes on
            except (OSError, smtplib.SMTPException) as problem:
                error = type(problem).__name__ + ": " + str(problem)
            services.record_message(invitation, kind, error)
            if error:
                report.failed += 1
            else:
                report.sent += 1
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.quit()
    return report
