"""Admins exercise a respondent's rights of access and erasure; every act is in the audit log."""

from __future__ import annotations

import json

import click
from flask import Blueprint, abort, render_template, request
from flask import Response as HttpResponse
from flask_babel import gettext as _
from flask_login import current_user

from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.audit.services import record
from surveyapp.db import db
from surveyapp.fieldwork.forms import InvitationLookupForm
from surveyapp.fieldwork.services import find_contacts_by_address, responses_of
from surveyapp.privacy.access_pdf import render_access_pdf
from surveyapp.privacy.forms import EraseForm, LookupForm
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Response
from surveyapp.responses.personal_data import access_document, erase, find_by_receipt
from surveyapp.responses.services import anonymise_responses

bp = Blueprint("privacy", __name__, url_prefix="/staff/privacy", template_folder="templates")


def _response(response_id: int) -> Response:
    response = db.session.get(Response, response_id)
    if response is None:
        abort(404)
    return response


@bp.route("/", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_PERSONAL_DATA)
def lookup():
    """Find a response by the receipt code its respondent reads out or sends."""
    form = LookupForm()
    response = document = None
    message = None
    if form.validate_on_submit():
        response = find_by_receipt(form.code.data or "")
        if response is None:
            message = _("No response has this receipt code.")
        else:
            document = access_document(response)
    return render_template("privacy/lookup.html", form=form, response=response,
                           document=document, message=message, erase_form=EraseForm()), \
        422 if message else 200


@bp.route("/invitation", methods=["POST"])
@permission_required(Permission.MANAGE_PERSONAL_DATA)
def lookup_invitation():
    """Find a contact, and the response it started, by invitation link or e-mail address.

    Only non-anonymous questionnaires: anonymous ones keep no link to look up.
    """
    form = InvitationLookupForm()
    contacts = []
    if form.validate():
        contacts = [(c, responses_of(c)) for c in find_contacts_by_address(form.address.data)]
    record(current_user.id, "privacy.lookup_invitation",
           "contacts:" + (",".join(str(c.id) for c, _r in contacts) or "none"))
    db.session.commit()
    message = None if contacts else _("No contact of a non-anonymous questionnaire has this "
                                      "link or e-mail address.")
    return render_template("privacy/lookup.html", form=LookupForm(), invitation_form=form,
                           contacts=contacts, documents={
                               r.id: access_document(r) for _c, rs in contacts for r in rs},
                           message=message, erase_form=EraseForm()), 422 if message else 200


@bp.route("/<int:response_id>/export", methods=["POST"])
@permission_required(Permission.MANAGE_PERSONAL_DATA)
def export(response_id: int):
    """Everything stored about the response as JSON, to hand to the person (right of access)."""
    response = _response(response_id)
    document = json.dumps(access_document(response), ensure_ascii=False, indent=2)
    return _handed_over(response, "response.access_export", document, "application/json")


@bp.route("/<int:response_id>/export.pdf", methods=["POST"])
@permission_required(Permission.MANAGE_PERSONAL_DATA)
def export_pdf(response_id: int):
    """The same as a PDF in the person's language, to hand over or print (right of access)."""
    response = _response(response_id)
    return _handed_over(response, "response.access_export_pdf", render_access_pdf(response),
                        "application/pdf")


def _handed_over(response: Response, action: str, body: str | bytes, mimetype: str):
    """Log the hand-over, commit, then send the document as a download."""
    record(current_user.id, action, f"response:{response.id}")
    db.session.commit()
    extension = mimetype.rsplit("/", 1)[1]
    return HttpResponse(body, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=response-{response.id}.{extension}"})


@bp.route("/<int:response_id>/erase", methods=["POST"])
@permission_required(Permission.MANAGE_PERSONAL_DATA)
def erase_response(response_id: int):
    """Erase the response completely, after a deliberate confirmation."""
    response = _response(response_id)
    form = EraseForm()
    if not form.validate_on_submit() or request.form.get("confirm") != "y":
        return render_template(
            "privacy/lookup.html", form=LookupForm(), response=response,
            document=access_document(response), erase_form=form,
            message=_("Please tick the box to confirm."),
        ), 422
    erase(response)
    record(current_user.id, "response.erase", f"response:{response_id}")
    db.session.commit()
    return render_template("privacy/erased.html")


@bp.cli.command("anonymise")
@click.argument("slug")
def anonymise_command(slug: str) -> None:
    """Make a questionnaire anonymous and anonymise the responses it already has."""
    questionnaire = get_by_slug(slug)
    if questionnaire is None:
        raise click.UsageError(f"no questionnaire {slug!r}")
    questionnaire.is_anonymous = True
    questionnaire.coarse_timestamps = True
    count = anonymise_responses(questionnaire)
    record(None, "anonymise_responses", f"{slug}: {count} responses")
    db.session.commit()
    click.echo(f"{slug}: anonymous now; {count} complete responses unlinked and coarsened "
               "to the day.")
