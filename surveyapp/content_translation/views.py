"""Staff pages: how complete each language is, download and upload translators' spreadsheets."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.content_translation.forms import SideBySideForm, WorkbookUploadForm
from surveyapp.content_translation.side_by_side import (
    ROWS_PER_SCREEN,
    SaveProblems,
    save_translations,
)
from surveyapp.content_translation.side_by_side import rows as side_rows
from surveyapp.content_translation.workbook import (
    WorkbookError,
    all_texts,
    export_workbook,
    import_workbook,
    translation_status,
)
from surveyapp.db import db
from surveyapp.questionnaires.services import questionnaire_for_staff
from surveyapp.questionnaires.texts import completeness

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


def _target(questionnaire) -> str | None:
    others = [lang for lang in questionnaire.languages if lang != questionnaire.base_language]
    chosen = request.values.get("lang")
    return chosen if chosen in others else (others[0] if others else None)


@bp.route("/<slug>/translations/side-by-side", methods=["GET", "POST"])
@permission_required(Permission.TRANSLATE)
def side_by_side(slug: str):
    """Every text beside its base-language text, for one target language; saves a screen."""
    questionnaire = _questionnaire(slug)
    target = _target(questionnaire)
    only_missing = request.values.get("missing") == "1"
    try:
        screen = max(1, int(request.values.get("screen") or 1))
    except ValueError:
        screen = 1
    form = SideBySideForm()
    status = 200
    typed: dict[str, str] = {}
    problems: SaveProblems | None = None
    if request.method == "POST" and target is not None:
        posted = {name[2:]: (request.form.get(name, ""), request.form.get("d:" + name[2:], ""))
                  for name in request.form if name.startswith("t:")}
        typed = {key: text for key, (text, _opened) in posted.items()}
        if not form.validate_on_submit():
            status = 422
        else:
            try:
                changed = save_translations(questionnaire, target, posted)
            except SaveProblems as refused:
                db.session.rollback()
                problems, status = refused, (422 if refused.too_long else 409)
            else:
                db.session.commit()
                flash(ngettext("%(num)d translation saved.", "%(num)d translations saved.",
                               len(changed)) if changed else _("Nothing was changed."),
                      "success" if changed else "notice")
                return redirect(url_for("content_translation.side_by_side", slug=slug,
                                        lang=target, missing="1" if only_missing else None,
                                        screen=screen))
    texts = all_texts(questionnaire)
    all_rows = side_rows(questionnaire, target, texts) if target else []
    if only_missing and request.method == "GET":
        shown = [row for row in all_rows if row.is_missing]
    elif only_missing:  # keep the rows just posted on the screen, translated or not
        shown = [row for row in all_rows if row.is_missing or row.key in typed]
    else:
        shown = all_rows
    screens = max(1, -(-len(shown) // ROWS_PER_SCREEN))
    # Where each section (page of the questionnaire) starts, to jump there directly.
    sections: dict[str, int] = {}
    for index, row in enumerate(shown):
        sections.setdefault(row.section, index // ROWS_PER_SCREEN + 1)
    screen = min(screen, screens)
    if request.method == "POST":
        visible = [row for row in shown if row.key in typed] or shown[:ROWS_PER_SCREEN]
    else:
        visible = shown[(screen - 1) * ROWS_PER_SCREEN: screen * ROWS_PER_SCREEN]
    return render_template(
        "content_translation/side_by_side.html", questionnaire=questionnaire, target=target,
        rows=visible, typed=typed, problems=problems, form=form, only_missing=only_missing,
        screen=screen, screens=screens, shown_count=len(shown), sections=sections,
        languages=completeness(texts, questionnaire),
    ), status
