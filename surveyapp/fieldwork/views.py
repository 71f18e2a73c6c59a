"""Personal invitations: contact lists, anonymous codes, sending, and the respondent's link."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import secrets
import zlib

import click
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import Response as HttpResponse
from flask_babel import gettext as _
from flask_babel import ngettext, refresh
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from surveyapp.accounts.permissions import Permission, permission_required, public
from surveyapp.audit.services import record
from surveyapp.consent.services import current_consent_text
from surveyapp.db import db
from surveyapp.extensions import csrf
from surveyapp.fieldwork import mail, services
from surveyapp.fieldwork import metrics as _metrics  # noqa: F401 (registers its target mark)
from surveyapp.fieldwork.contacts_csv import ContactList, ListUnreadable, read_contacts
from surveyapp.fieldwork.forms import ActionForm, CodesForm, ImportValidForm, UploadForm
from surveyapp.fieldwork.models import Contact, MessageKind
from surveyapp.i18n import pick_language
from surveyapp.privacy.forms import EraseForm, LookupForm
from surveyapp.questionnaires.models import Questionnaire
from surveyapp.questionnaires.services import get_by_slug, questionnaire_for_staff
from surveyapp.responses import retention
from surveyapp.responses import services as response_services
from surveyapp.responses.forms import ConsentForm
from surveyapp.responses.personal_data import access_document

bp = Blueprint("invitations", __name__, template_folder="templates")
bp.cli.help = "Personal invitations: send due invitations and reminders by e-mail."
STAFF = "/staff/questionnaires/<slug>/invitations"
#: Largest contact list the second import step accepts back (the upload itself is smaller).
MAX_CARRIED_BYTES = 2 * 1024 * 1024


@bp.record_once
def _listen_to_submissions(_state) -> None:
    # The link's consent form checks its CSRF token in form.validate(), like the respondent
    # pages, so an expired token re-shows the form with a message instead of an error page.
    csrf.exempt(open_link)
    hooks = response_services.submitted_hooks
    if services.on_responses_submitted not in hooks:
        hooks.append(services.on_responses_submitted)
    if services.purge_contacts not in retention.purge_hooks:
        retention.purge_hooks.append(services.purge_contacts)


def _questionnaire(slug: str) -> Questionnaire:
    return questionnaire_for_staff(slug)


def _read(questionnaire: Questionnaire, data: bytes) -> ContactList:
    emails, phones = services.existing_addresses(questionnaire)
    return read_contacts(data, languages=questionnaire.languages,
                         base_language=questionnaire.base_language,
                         unit_ids=services.unit_codes(), existing_emails=emails,
                         existing_phones=phones)


def _render_index(questionnaire: Questionnaire, *, upload_form=None, codes_form=None,
                  report: ContactList | None = None, carried: str = "", valid_days=None,
                  problem: str | None = None, problem_field: str | None = None,
                  status: int = 200):
    lines = [] if questionnaire.is_anonymous else services.invitation_lines(questionnaire)
    import_form = ImportValidForm(formdata=None, contents=carried,
                                  valid_days=valid_days or services.DEFAULT_VALID_DAYS)
    version = questionnaire.published_version or questionnaire.latest_version
    return render_template(
        "invitations/index.html", questionnaire=questionnaire, version=version,
        counts=services.invitation_counts(questionnaire), lines=lines,
        waiting=[line for line in lines if line.state != "answered"],
        upload_form=upload_form or UploadForm(formdata=None),
        codes_form=codes_form or CodesForm(formdata=None, batch_key=secrets.token_hex(16)),
        import_form=import_form,
        action_form=ActionForm(), report=report, problem=problem, problem_field=problem_field,
        mail_configured=mail.mail_configured(),
        per_hour=current_app.config.get("MAIL_PER_HOUR"),
        last_hour=services.messages_in_last_hour(),
    ), status


@bp.route(STAFF)
@permission_required(Permission.MANAGE_INVITATIONS)
def index(slug: str):
    """Counts, who has not answered yet (not for anonymous questionnaires), and the tools."""
    return _render_index(_questionnaire(slug))


@bp.route(STAFF + "/upload", methods=["POST"])
@permission_required(Permission.MANAGE_INVITATIONS)
def upload(slug: str):
    """Check an uploaded contact list; import it only when every row is fine."""
    questionnaire = _questionnaire(slug)
    form = UploadForm()
    upload_file = request.files.get("file")
    valid = form.validate()
    if not valid or upload_file is None or not upload_file.filename:
        if "csrf_token" in form.errors:
            problem, field = _("You were away for a while. Please choose the file again."), "file"
        elif not valid:
            problem, field = _("Please check the number of days (1 to 730)."), "valid_days"
        else:
            problem, field = _("Please choose a CSV file."), "file"
        return _render_index(questionnaire, upload_form=form, problem=problem,
                             problem_field=field, status=422)
    data = upload_file.read()
    try:
        contacts = _read(questionnaire, data)
    except ListUnreadable as unreadable:
        return _render_index(questionnaire, upload_form=form, problem=unreadable.reason,
                             problem_field="file", status=422)
    if not contacts.rows:
        return _render_index(questionnaire, upload_form=form,
                             problem=_("The file has no rows below the column names."),
                             problem_field="file", status=422)
    if contacts.rejected:
        # Compressed, so that the second step's form stays far below the request size limit.
        carried = base64.b64encode(zlib.compress(data, 9)).decode("ascii")
        return _render_index(questionnaire, upload_form=form, report=contacts, carried=carried,
                             valid_days=form.valid_days.data, status=422)
    return _import(questionnaire, contacts, form.valid_days.data)


@bp.route(STAFF + "/import-valid", methods=["POST"])
@permission_required(Permission.MANAGE_INVITATIONS)
def import_valid(slug: str):
    """Import the rows of the checked file that passed, skipping the rejected ones."""
    questionnaire = _questionnaire(slug)
    form = ImportValidForm()
    try:
        inflate = zlib.decompressobj()
        data = inflate.decompress(base64.b64decode(form.contents.data or "", validate=True),
                                  MAX_CARRIED_BYTES)
        if inflate.unconsumed_tail:
            raise ValueError("contact list too large")
        valid_days = int(form.valid_days.data or services.DEFAULT_VALID_DAYS)
    except (binascii.Error, zlib.error, ValueError):
        data, valid_days = b"", 0
    if not form.validate() or not data or not 1 <= valid_days <= 730:
        return _render_index(questionnaire, problem=_("Please upload the file again."),
                             status=422)
    try:
        contacts = _read(questionnaire, data)
    except ListUnreadable as unreadable:
        return _render_index(questionnaire, problem=unreadable.reason, status=422)
    return _import(questionnaire, contacts, valid_days, skipped=len(contacts.rejected))


def _import(questionnaire: Questionnaire, contacts: ContactList, valid_days: int,
            skipped: int = 0):
    try:
        added = services.import_contacts(questionnaire, contacts.valid, valid_days=valid_days)
        record(current_user.id, "invitations.import",
               f"questionnaire:{questionnaire.id}: {len(added)} contacts, {skipped} skipped")
        db.session.commit()
    except IntegrityError:
        # The same list was imported at the same moment by another request.
        db.session.rollback()
        flash(_("These contacts were just imported by someone else; nothing was doubled."),
              "notice")
        return redirect(url_for(".index", slug=questionnaire.slug))
    message = ngettext("%(num)s contact imported, each with a personal link.",
                       "%(num)s contacts imported, each with a personal link.", len(added))
    if skipped:
        message += " " + ngettext("%(num)s row skipped.", "%(num)s rows skipped.", skipped)
    flash(message, "notice")
    return redirect(url_for(".index", slug=questionnaire.slug))


@bp.route(STAFF + "/codes", methods=["POST"])
@permission_required(Permission.MANAGE_INVITATIONS)
def codes(slug: str):
    """Create N anonymous codes (invitations without a contact)."""
    questionnaire = _questionnaire(slug)
    form = CodesForm()
    if not form.validate():
        return _render_index(questionnaire, codes_form=form, problem=_(
            "Please enter a number of codes from 1 to %(max)s and a validity from 1 to 730 "
            "days.", max=services.MAX_CODES), problem_field="codes-count", status=422)
    try:
        created = services.create_codes(questionnaire, form.count.data,
                                        valid_days=form.valid_days.data,
                                        batch_key=form.batch_key.data or None)
    except (services.BatchAlreadyCreated, IntegrityError):
        db.session.rollback()
        flash(_("These codes were already created (the button was pressed twice)."), "notice")
        return redirect(url_for(".index", slug=questionnaire.slug))
    record(current_user.id, "invitations.create_codes",
           f"questionnaire:{questionnaire.id}: {len(created)}")
    db.session.commit()
    flash(ngettext("%(num)s code created. Download the links to print them.",
                   "%(num)s codes created. Download the links to print them.", len(created)),
          "notice")
    return redirect(url_for(".index", slug=questionnaire.slug))


def _csv_download(rows: list[list[str]], header: list[str], filename: str) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    # A BOM so that spreadsheet programs on Windows read the names' accents and scripts.
    return HttpResponse("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename={filename}",
        "Cache-Control": "no-store"})


@bp.route(STAFF + "/codes.csv", methods=["POST"])
@permission_required(Permission.MANAGE_INVITATIONS)
def codes_csv(slug: str):
    """The unused anonymous codes' links as CSV, for printing."""
    questionnaire = _questionnaire(slug)
    if not ActionForm().validate():
        abort(400)
    rows = services.code_rows(questionnaire)
    record(current_user.id, "invitations.export_codes",
           f"questionnaire:{questionnaire.id}: {len(rows)}")
    db.session.commit()
    return _csv_download(rows, [_("Number"), _("Link"), _("Valid until")],
                         f"{questionnaire.slug}-codes.csv")


@bp.route(STAFF + "/mail-merge.csv", methods=["POST"])
@permission_required(Permission.MANAGE_INVITATIONS)
def mail_merge(slug: str):
    """Contacts with their personal links as CSV, for a mail merge in another program."""
    questionnaire = _questionnaire(slug)
    if not ActionForm().validate():
        abort(400)
    rows = services.mail_merge_rows(questionnaire)
    record(current_user.id, "invitations.export_mail_merge",
           f"questionnaire:{questionnaire.id}: {len(rows)}")
    db.session.commit()
    # Column names in English: mail-merge fields are technical names, the same in every office.
    return _csv_download(rows, ["name", "email", "phone", "language", "unit", "link"],
                         f"{questionnaire.slug}-invitations.csv")


@bp.route(STAFF + "/send", methods=["POST"])
@permission_required(Permission.MANAGE_INVITATIONS)
def send(slug: str):
    """Send due invitations or reminders by e-mail, within the hourly limit."""
    questionnaire = _questionnaire(slug)
    if not ActionForm().validate():
        abort(400)
    if not mail.mail_configured():
        return _render_index(questionnaire, problem=_("No mail server is set up."), status=422)
    kind = MessageKind.REMINDER if request.form.get("kind") == "reminder" \
        else MessageKind.INVITATION
    report = mail.send_due(questionnaire, kind)
    record(current_user.id, f"invitations.send_{kind.value}",
           f"questionnaire:{questionnaire.id}: {report.sent} sent, {report.failed} failed, "
           f"{report.postponed} postponed")
    db.session.commit()
    flash(_send_message(report), "notice")
    return redirect(url_for(".index", slug=questionnaire.slug))


def _send_message(report: mail.SendReport) -> str:
    if report.unreachable:
        return _("The mail server could not be reached; nothing was sent. Please try again "
                 "later.")
    parts = [ngettext("%(num)s message sent.", "%(num)s messages sent.", report.sent)]
    if report.failed:
        parts.append(ngettext("%(num)s could not be sent.", "%(num)s could not be sent.",
                              report.failed))
    if report.postponed:
        parts.append(ngettext(
            "%(num)s more will be sent later: the limit per hour is reached.",
            "%(num)s more will be sent later: the limit per hour is reached.",
            report.postponed))
    return " ".join(parts)


# --- the respondent's side ---------------------------------------------------------------


def _use_language(questionnaire: Questionnaire | None, lang: str) -> None:
    g.content_language = lang
    if questionnaire is not None:
        g.base_language = questionnaire.base_language
    refresh()
    g.pop("jinja_translations", None)


def _link_problem(state: services.TokenState, questionnaire: Questionnaire | None):
    version = None
    if questionnaire is not None:
        version = questionnaire.published_version or questionnaire.latest_version
    status = 404 if state is services.TokenState.UNKNOWN else 410
    return render_template("invitations/link_problem.html", state=state.value,
                           questionnaire=questionnaire, version=version), status


@bp.route("/i/<token>", methods=["GET", "POST"])
@public
def open_link(token: str):
    """A personal link: consent start in the contact's language, then the usual pages."""
    invitation = services.find_invitation(token)
    if invitation is None:
        interface = current_app.config["INTERFACE_LANGUAGES"]
        _use_language(None, request.accept_languages.best_match(interface)
                      or current_app.config["BABEL_DEFAULT_LOCALE"])
        return _link_problem(services.TokenState.UNKNOWN, None)
    questionnaire = db.session.get(Questionnaire, invitation.questionnaire_id)
    contact = invitation.contact
    chosen = request.args.get("choose")
    preferred = contact.language if contact is not None else None
    lang = pick_language(questionnaire.languages, questionnaire.base_language,
                         explicit=chosen if chosen in questionnaire.languages else preferred)
    _use_language(questionnaire, lang)
    state = services.token_state(invitation)
    draft = services.open_draft(invitation)
    if draft is not None and state is not services.TokenState.USED:
        # The invitee started earlier and comes back: continue their own draft.
        resume = response_services.resume_token_for(draft.start_key)
        return redirect(url_for("responses.page", slug=questionnaire.slug, token=resume,
                                page_code=draft.current_page or "-"))
    if state is not services.TokenState.OPEN:
        return _link_problem(state, questionnaire)
    version = questionnaire.published_version
    if version is None or not questionnaire.is_open:
        return render_template("responses/closed.html", questionnaire=questionnaire,
                               version=version), 410

    consent_text = current_consent_text(questionnaire, lang)
    form = ConsentForm()
    message = None
    status = 200
    if request.method == "POST":
        message = _start(questionnaire, invitation, form, lang)
        if not isinstance(message, str):
            return message
        status = 422
    form.consent_text_id.data = consent_text.id if consent_text else ""
    form.start_key.data = response_services.new_start_key()
    return render_template("responses/start.html", questionnaire=questionnaire,
                           version=version, consent_text=consent_text, form=form,
                           message=message, preview=False), status


def _start(questionnaire: Questionnaire, invitation, form: ConsentForm, lang: str):
    """Start the draft through the normal consent start; a redirect, or a message to show."""
    if not form.validate():
        return _("You were away for a while, so nothing was saved yet. "
                 "Please tick the box and press “Start” again.")
    contact = invitation.contact
    try:
        response, resume = response_services.start_response(
            questionnaire, language=lang,
            consent_given=request.form.getlist("consent") == ["y"],
            consent_text_id=form.consent_text_id.data, start_key=form.start_key.data or "",
            purposes=request.form.getlist("purpose"),
            unit_id=contact.unit_id if contact is not None else None)
    except response_services.StartRefused as refused:
        return {
            "closed": _("This questionnaire is not open for answers."),
            "no_consent": _("Please tick the box to agree before you start."),
            "purpose_required": _("Please tick every box marked as needed to take part."),
            "consent_changed": _("The information text has changed. Please read it again "
                                 "and tick the box if you agree."),
        }[refused.reason]
    if not services.attach_draft(invitation, response):
        # Someone started with the same link a moment earlier: theirs is the one that counts.
        db.session.rollback()
        return redirect(request.path)
    db.session.commit()
    target = redirect(url_for("responses.page", slug=questionnaire.slug, token=resume,
                              page_code=response.current_page or "-"))
    target.set_cookie(f"resume_{questionnaire.id}", resume,
                      max_age=current_app.config["RESUME_COOKIE_DAYS"] * 86400,
                      path=f"/s/{questionnaire.slug}", httponly=True, samesite="Lax",
                      secure=request.is_secure)
    return target


# --- personal-data requests (erasure of a contact) ---------------------------------------


@bp.route("/staff/privacy/contacts/<int:contact_id>/erase", methods=["POST"])
@permission_required(Permission.MANAGE_PERSONAL_DATA)
def erase_contact(contact_id: int):
    """Erase a contact with its invitations and sent-message records."""
    contact = db.session.get(Contact, contact_id)
    if contact is None:
        abort(404)
    form = ActionForm()
    if not form.validate() or request.form.get("confirm") != "y":
        responses = services.responses_of(contact)
        return render_template(
            "privacy/lookup.html", form=LookupForm(), contacts=[(contact, responses)],
            documents={r.id: access_document(r) for r in responses}, erase_form=EraseForm(),
            message=_("Please tick the box to confirm.")), 422
    services.erase_contact(contact)
    record(current_user.id, "contact.erase", f"contact:{contact_id}")
    db.session.commit()
    return render_template("privacy/erased.html")


@bp.cli.command("send")
@click.argument("slug")
@click.option("--reminders", is_flag=True, help="Send reminders instead of invitations.")
def send_command(slug: str, reminders: bool) -> None:
    """Send due invitations (or reminders) of a questionnaire by e-mail, e.g. from cron."""
    if not current_app.config.get("SERVER_NAME"):
        raise click.UsageError("SERVER_NAME must be set: the links in the messages need it.")
    if not mail.mail_configured():
        raise click.UsageError("MAIL_SERVER and MAIL_DEFAULT_SENDER must be set.")
    questionnaire = get_by_slug(slug)
    if questionnaire is None:
        raise click.UsageError(f"no questionnaire {slug!r}")
    kind = MessageKind.REMINDER if reminders else MessageKind.INVITATION
    report = mail.send_due(questionnaire, kind)
    record(None, f"invitations.send_{kind.value}",
           f"questionnaire:{questionnaire.id}: {report.sent} sent, {report.failed} failed, "
           f"{report.postponed} postponed")
    db.session.commit()
    click.echo(f"{slug}: {report.sent} sent, {report.failed} failed, "
               f"{report.postponed} left for later"
               + (" (mail server unreachable)" if report.unreachable else ""))
    if report.unreachable:
        raise SystemExit(1)
