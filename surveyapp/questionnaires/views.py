"""Staff pages for questionnaires: the list with states and response counts."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from surveyapp.questionnaires.services import list_questionnaires
from surveyapp.responses.services import count_by_status

bp = Blueprint("questionnaires", __name__, url_prefix="/staff/questionnaires",
               template_folder="templates")


@bp.route("/")
@login_required
def index():
    """Every questionnaire with its state, languages and numbers of responses."""
    questionnaires = list_questionnaires()
    counts = count_by_status([q.id for q in questionnaires])
    return render_template("questionnaires/index.html", questionnaires=questionnaires,
                           counts=counts)
