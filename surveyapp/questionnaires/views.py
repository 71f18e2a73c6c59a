"""Staff pages for questionnaires: the list with states and response counts."""

from __future__ import annotations

import io

from flask import Blueprint, render_template
from flask import Response as HttpResponse
from flask_login import current_user

from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.questionnaires.services import list_questionnaires, questionnaire_for_staff
from surveyapp.responses.services import count_by_status
from surveyapp.transfer import write_consent_records_csv

bp = Blueprint("questionnaires", __name__, url_prefix="/staff/questionnaires",
               template_folder="templates")


@bp.route("/")
@permission_required(Permission.LIST_QUESTIONNAIRES)
def index():
    """Every questionnaire with its state, languages and numbers of responses."""
    questionnaires = list_questionnaires(current_user)
    counts = count_by_status([q.id for q in questionnaires])
    return render_template("questionnaires/index.html", questionnaires=questionnaires,
                           counts=counts)


@bp.route("/<slug>/consent-records.csv")
@permission_required(Permission.EXPORT_CONSENT)
def consent_records(slug: str):
    """The consent records of a questionnaire as CSV, for the controller's files."""
    questionnaire = questionnaire_for_staff(slug)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so that Excel reads UTF-8
    write_consent_records_csv(questionnaire, buffer)
    return HttpResponse(buffer.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename={slug}-consent-records.csv"})
