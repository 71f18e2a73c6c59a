"""Raw-data downloads of a questionnaire's responses (CSV, XLSX, SPSS, JSON).

The download takes the results pages' filter from the query string (``filters.parse_filter``),
plus ``labels=1`` (labels instead of codes in the cells), ``free_text=1`` (include free texts
and e-mail addresses) and ``label_lang`` (the language of labels; a results-page link's
``labels=<language>`` is understood too). Every download is written to the audit log, and
committed, before the first byte is sent.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user

from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.analysis.catalogue import Catalogue
from surveyapp.analysis.exports import (
    EXPORT_FORMATS,
    ExportFormat,
    ExportPlan,
    ExportRefused,
    export_catalogue,
    prepare_export,
)
from surveyapp.analysis.filters import ResultFilter, parse_filter
from surveyapp.audit.services import record
from surveyapp.db import db
from surveyapp.i18n import localized
from surveyapp.questionnaires.models import Questionnaire
from surveyapp.questionnaires.services import questionnaire_for_staff

bp = Blueprint("exports", __name__, url_prefix="/staff/results", template_folder="templates")

#: Query arguments of the download that are not part of the filter.
OPTION_ARGS = ("labels", "free_text", "label_lang", "format")
#: Longest audit target the audit log's column holds.
AUDIT_TARGET_LENGTH = 120


def _questionnaire(slug: str) -> Questionnaire:
    return questionnaire_for_staff(slug)


def _is_set(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "on", "y", "yes")


def label_language(questionnaire: Questionnaire) -> str:
    """``?label_lang=``, else ``?labels=`` naming a language, else the interface's, else base."""
    offered = questionnaire.languages
    for chosen in (request.args.get("label_lang"), request.args.get("labels")):
        if chosen in offered:
            return chosen
    interface = str(get_locale() or "")
    return interface if interface in offered else questionnaire.base_language


def describe_filter(flt: ResultFilter, catalogue: Catalogue
                    ) -> list[tuple[str, str | None, str, str | None]]:
    """The filter in words: (what, its language, value, its language), for ``lang`` attributes.

    Question texts and answer labels are in the catalogue's language (or a fallback), the rest
    in the interface's (``None``).
    """
    parts: list[tuple[str, str | None, str, str | None]] = [
        (what, None, value, None)
        for what, value in dataclasses.replace(flt, answers=()).describe(catalogue)]
    for code, values in flt.answers:
        question = catalogue.get(code)
        if question is not None:
            parts.append((question.text, question.text_lang,
                          " / ".join(question.label_of(v) for v in values), catalogue.lang))
    return parts


def _render_page(questionnaire: Questionnaire, catalogue: Catalogue, flt: ResultFilter,
                 errors: list[str], refusal: str | None, count: int | None, status: int = 200):
    # The results pages belong to another blueprint; link back only when it is mounted.
    results_url = (url_for("analysis.results", slug=questionnaire.slug)
                   if "analysis.results" in current_app.view_functions else None)
    version = questionnaire.published_version or questionnaire.latest_version
    title, title_lang = localized(version.title if version else {}, catalogue.lang,
                                  questionnaire.base_language)
    return render_template(
        "analysis/export.html", questionnaire=questionnaire, catalogue=catalogue, flt=flt,
        filter_parts=describe_filter(flt, catalogue), filter_args=flt.to_args(), errors=errors,
        refusal=refusal, count=count, formats=list(EXPORT_FORMATS), label_lang=catalogue.lang,
        as_labels=_is_set("labels"), free_text=_is_set("free_text"), results_url=results_url,
        title=title or questionnaire.slug, title_lang=title_lang,
    ), status


@bp.route("/<slug>/export")
@permission_required(Permission.EXPORT_RESPONSES)
def page(slug: str):
    """Choose format and options for the filtered responses; the form comes back here."""
    questionnaire = _questionnaire(slug)
    fmt = request.args.get("format")
    if fmt in EXPORT_FORMATS:
        # The form cannot pick its action by a radio button without script: send it on.
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "format"]
        return redirect(url_for("exports.download", slug=slug, fmt=fmt)
                        + ("?" + urlencode(args) if args else ""))
    catalogue = export_catalogue(questionnaire, label_language(questionnaire))
    flt, errors = parse_filter(request.args, catalogue)
    refusal, count = None, None
    try:
        count = prepare_export(catalogue, flt).count
    except ExportRefused as refused:
        refusal = refused.message
    return _render_page(questionnaire, catalogue, flt, errors, refusal, count)


def _audit_target(slug: str, fmt: str, flt: ResultFilter, plan: ExportPlan) -> str:
    args = [*flt.to_args(), ("labels", str(int(plan.labels))),
            ("free_text", str(int(plan.free_text)))]
    target = f"{slug} {fmt} {urlencode(args)}"
    # The column is short; the slug, format and options come first so that they survive.
    if len(target) > AUDIT_TARGET_LENGTH:
        target = target[:AUDIT_TARGET_LENGTH - 1] + "…"
    return target


def _filename(questionnaire: Questionnaire, export_format: ExportFormat) -> str:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    return f"{questionnaire.slug}-responses-{day}.{export_format.extension}"


@bp.route("/<slug>/export.<any(csv, xlsx, sav, json):fmt>")
@permission_required(Permission.EXPORT_RESPONSES)
def download(slug: str, fmt: str):
    """The filtered responses as a file; CSV and JSON are streamed as they are read."""
    questionnaire = _questionnaire(slug)
    export_format = EXPORT_FORMATS[fmt]
    catalogue = export_catalogue(questionnaire, label_language(questionnaire))
    flt, errors = parse_filter(request.args, catalogue)
    if errors:  # a mistyped filter must never silently download everything
        return _render_page(questionnaire, catalogue, flt, errors, None, None, status=422)
    try:
        plan = prepare_export(catalogue, flt, labels=_is_set("labels"),
                              free_text=_is_set("free_text"))
    except ExportRefused as refused:
        return _render_page(questionnaire, catalogue, flt, [], refused.message, None,
                            status=422)
    record(current_user.id, "export_responses", _audit_target(slug, fmt, flt, plan))
    db.session.commit()
    filename = _filename(questionnaire, export_format)
    if export_format.chunks is not None:
        response = Response(stream_with_context(export_format.chunks(plan)),
                            mimetype=export_format.mimetype)
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        response = _file_response(export_format, plan, filename)
    # Raw answers: no copy in shared or browser caches.
    response.headers["Cache-Control"] = "no-store"
    return response


def _file_response(export_format: ExportFormat, plan: ExportPlan, filename: str):
    """Write a format that cannot be streamed to a temporary file and send that."""
    assert export_format.to_file is not None
    handle, path = tempfile.mkstemp(suffix="." + export_format.extension)
    os.close(handle)
    try:
        export_format.to_file(plan, path)
        data = open(path, "rb")  # noqa: SIM115 -- send_file closes it after sending
    finally:
        # Unlinked at once: the open handle keeps the bytes until the response is sent.
        os.unlink(path)
    return send_file(data, mimetype=export_format.mimetype, as_attachment=True,
                     download_name=filename)
