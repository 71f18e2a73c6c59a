"""Staff pages: how complete each language is, download and upload translators' spreadsheets."""

from __future__ import annotations

import io

from flask import Blueprint, abort, render_template, send_file

from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.content_translation.forms import WorkbookUploadForm
from surveyapp.content_translation.workbook import (
    WorkbookError,
    export_workbook,
    import_workbook,
    translation_status,
)
from surveyapp.db import db
from surveyapp.questionnaires.services import questionnaire_for_staff

bp = Blueprint("content_translation", __name__, url_prefix="/staff/questionnaires",
               template_folder="templates")


def _questionnaire(slug: str):
    questionnaire = questionnaire_for_staff(slug)
    if questionnaire.latest_version is None:
        abort(404)
    return questionnaire


@bp.route("/<slug>/translations", methods=["GET", "POST"])
@permission_required(Permission.TRANSLATE)
def overview(slug: str):
    """Completeness per language; upload a translated spreadsheet and see its report."""
    questionnaire = _questionnaire(slug)
    form = WorkbookUploadForm()
    report = error = None
    status = 200
    if form.validate_on_submit():
        try:
            report = import_workbook(questionnaire, form.workbook.data.read())
        except WorkbookError as problem:
            db.session.rollback()
            error, status = str(problem), 422
        else:
            db.session.commit()
    elif form.errors:
        status = 422
    return render_template(
        "content_translation/overview.html", questionnaire=questionnaire, form=form,
        report=report, error=error, languages=translation_status(questionnaire),
    ), status


@bp.route("/<slug>/translations.xlsx")
@permission_required(Permission.TRANSLATE)
def download(slug: str):
    """The spreadsheet for translators."""
    questionnaire = _questionnaire(slug)
    return send_file(
        io.BytesIO(export_workbook(questionnaire)),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{questionnaire.slug}-translations.xlsx",
    )
