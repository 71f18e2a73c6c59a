"""The PDF summary of a questionnaire's results, as a download.

The query string carries the same filter as the results page (``filters.parse_filter``, where
``lang`` selects responses by the language they were given in), plus ``labels`` for the
language the report is written in (as on the results page), ``free_text=1`` and any number
of ``crosstab=ROW:COL``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.analysis.catalogue import load_catalogue
from surveyapp.analysis.filters import parse_filter
from surveyapp.analysis.report import crosstab_pairs, render_report, report_languages
from surveyapp.audit.services import record
from surveyapp.db import db
from surveyapp.questionnaires.models import Questionnaire
from surveyapp.questionnaires.services import questionnaire_for_staff

bp = Blueprint("reports", __name__, url_prefix="/staff/results")


def _report_language(questionnaire: Questionnaire, errors: list[str]) -> str:
    chosen = request.args.get("labels")
    if chosen in report_languages(questionnaire):
        return chosen
    if chosen:
        errors.append(_("A report cannot be written in “%(lang)s”.", lang=chosen))
    interface = str(get_locale() or "")
    return interface if interface in report_languages(questionnaire) \
        else questionnaire.base_language


@bp.route("/<slug>/report.pdf")
@permission_required(Permission.VIEW_RESULTS)
def report(slug: str):
    """The filtered results as a PDF in the chosen language; every download is logged."""
    questionnaire = questionnaire_for_staff(slug)
    errors: list[str] = []
    lang = _report_language(questionnaire, errors)
    catalogue = load_catalogue(questionnaire, lang)
    flt, filter_errors = parse_filter(request.args, catalogue)
    errors += filter_errors
    crosstabs, crosstab_errors = crosstab_pairs(request.args.getlist("crosstab"), catalogue)
    errors += crosstab_errors
    if errors:
        # Never a report of something other than what was asked for.
        return render_template("error.html", title=_("This report cannot be made"),
                               text=" ".join(errors)), 400
    free_text = request.args.get("free_text") == "1"
    pdf = render_report(questionnaire, flt, lang, crosstabs=crosstabs, free_text=free_text)
    query = urlencode([*flt.to_args(), ("labels", lang)]
                      + [("crosstab", f"{r}:{c}") for r, c in crosstabs]
                      + ([("free_text", "1")] if free_text else []))
    record(current_user.id, "download_report", f"{slug} {query}"[:120])
    db.session.commit()
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{slug}-{lang}.pdf"',
        "Cache-Control": "no-store",
    })
