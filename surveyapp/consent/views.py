"""Staff edit the consent text and its purposes per language; each change is a new version."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.audit.services import record
from surveyapp.consent.forms import ConsentEditForm
from surveyapp.consent.models import ConsentText
from surveyapp.consent.services import (
    ANSWERS_PURPOSE,
    ConsentStale,
    consent_purposes,
    consent_records_count,
    current_consent_text,
    edit_consent,
    latest_consent_version,
)
from surveyapp.db import db
from surveyapp.questionnaires.definition import OPTION_CODE
from surveyapp.questionnaires.services import questionnaire_for_staff

bp = Blueprint("consent_editor", __name__, url_prefix="/staff/questionnaires",
               template_folder="templates")

MAX_LABEL = 500


def _language(questionnaire) -> str:
    chosen = request.args.get("lang")
    return chosen if chosen in questionnaire.languages else questionnaire.base_language


def _posted_purposes(is_base: bool) -> tuple[list[dict], dict, dict[str, str]]:
    """The purposes of the form, the new one typed (if any) and problems by field id."""
    purposes, problems = [], {}
    for index in range(int(request.form.get("purpose_count") or 0)):
        prefix = f"purpose-{index}"
        code = request.form.get(f"{prefix}-code", "")
        label = (request.form.get(f"{prefix}-label") or "").strip()
        if is_base and request.form.get(f"{prefix}-remove") == "y":
            continue
        if len(label) > MAX_LABEL:
            problems[f"{prefix}-label"] = _("Please shorten this to 500 characters.")
        elif is_base and not label:
            problems[f"{prefix}-label"] = _("Please write the text of this box, or tick "
                                            "“Remove”.")
        purposes.append({"code": code, "label": label,
                         "required": request.form.get(f"{prefix}-required") == "y",
                         "index": index})
    new = {"code": (request.form.get("new-code") or "").strip(),
           "label": (request.form.get("new-label") or "").strip(),
           "required": request.form.get("new-required") == "y"}
    if is_base and (new["code"] or new["label"]):
        if not OPTION_CODE.match(new["code"]) or new["code"] == ANSWERS_PURPOSE or any(
                p["code"] == new["code"] for p in purposes):
            problems["new-code"] = _("Please give a short code of small letters, digits and "
                                     "“_” that no other box of this text has, for example "
                                     "contact_later.")
        if not new["label"] or len(new["label"]) > MAX_LABEL:
            problems["new-label"] = _("Please write the text of the new box (at most 500 "
                                      "characters).")
        purposes.append(new)
    return purposes, new, problems


@bp.route("/<slug>/consent", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_QUESTIONNAIRE)
def edit(slug: str):
    """The consent text and purposes in one language; saving a change makes a new version."""
    questionnaire = questionnaire_for_staff(slug)
    language = _language(questionnaire)
    is_base = language == questionnaire.base_language
    latest = latest_consent_version(questionnaire)
    form = ConsentEditForm()
    status, stale = 200, False
    purposes = [{**p, "label": p["label"].get(language, ""), "index": i}
                for i, p in enumerate(consent_purposes(questionnaire))]
    new_purpose: dict = {}
    problems: dict[str, str] = {}
    if request.method == "POST":
        purposes, new_purpose, problems = _posted_purposes(is_base)
        body = (form.body.data or "").strip()
        valid = form.validate_on_submit()
        if valid and is_base and not body:
            form.body.errors = [_("The consent text is needed in the base language.")]
            valid = False
        if not valid or problems:
            status = 422
        else:
            try:
                based_on = int(form.based_on.data) if form.based_on.data else None
            except ValueError:
                based_on = -1
            try:
                number = edit_consent(questionnaire, language, body, purposes,
                                      based_on=based_on)
            except ConsentStale:
                db.session.rollback()
                status, stale = 409, True
            else:
                if number is None:
                    flash(_("Nothing was changed."), "notice")
                else:
                    record(current_user.id, "consent.new_version",
                           f"{slug}: version {number} ({language})")
                    db.session.commit()
                    flash(_("Saved as consent version %(number)s. Respondents who start from "
                            "now on see it; those who agreed before keep the version they "
                            "agreed to.", number=number), "success")
                return redirect(url_for("consent_editor.edit", slug=slug, lang=language))
    else:
        current = current_consent_text(questionnaire, language)
        form.body.data = current.body if current and current.language == language else ""
    if not stale and request.method == "GET":
        form.based_on.data = latest if latest is not None else ""
    elif stale:
        latest = latest_consent_version(questionnaire)
        form.based_on.data = latest if latest is not None else ""
    texts = {text.language for text in db.session.scalars(
        sa.select(ConsentText).filter_by(questionnaire_id=questionnaire.id, version=latest))}
    return render_template(
        "consent_editor/edit.html", questionnaire=questionnaire, language=language,
        is_base=is_base, form=form, purposes=[p for p in purposes if "index" in p],
        new_purpose=new_purpose, problems=problems, stale=stale, latest=latest,
        records=consent_records_count(questionnaire, latest), translated=texts,
    ), status
