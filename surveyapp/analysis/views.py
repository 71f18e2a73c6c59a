"""Results pages for evaluators: summaries, filters and cross-tabs of one questionnaire.

Every page reads the same filter from the query string (``filters.parse_filter``), so a
filtered view is a bookmark, and its links (PDF, exports, cross-tab) carry the filter along.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import force_locale, format_date, format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.accounts.services import unit_tree
from surveyapp.analysis import charts
from surveyapp.analysis.catalogue import Catalogue, load_catalogue
from surveyapp.analysis.crosstab import NotCrossTabulable, build_crosstab
from surveyapp.analysis.filters import (
    ANSWER_PREFIX,
    ResultFilter,
    channel_label,
    parse_filter,
    stage_label,
)
from surveyapp.analysis.protection import protected_timeline
from surveyapp.analysis.summaries import Results, build_results, text_answers
from surveyapp.i18n import direction, localized
from surveyapp.programmes.services import stage_choices
from surveyapp.questionnaires.models import Questionnaire
from surveyapp.questionnaires.services import questionnaire_for_staff

bp = Blueprint("analysis", __name__, url_prefix="/staff/results", template_folder="templates")

#: Width of the charts on the page, in inches (the PDF's are wider).
WEB_CHART_WIDTH = 4.2
#: Free-text answers per page of the text list.
TEXTS_PER_PAGE = 50


def _questionnaire(slug: str) -> Questionnaire:
    return questionnaire_for_staff(slug)


def label_language(questionnaire: Questionnaire) -> str:
    """The language of question and answer texts: ``?labels=``, else the interface's if offered."""
    chosen = request.args.get("labels")
    if chosen in questionnaire.languages:
        return chosen
    interface = str(get_locale() or "")
    return interface if interface in questionnaire.languages else questionnaire.base_language


def _context(questionnaire: Questionnaire) -> tuple[Catalogue, ResultFilter, list[str]]:
    lang = label_language(questionnaire)
    if lang in current_app.config["INTERFACE_LANGUAGES"]:
        # Answer labels worded by the interface ("Prefer not to answer") in the same language
        # as the questionnaire's own texts beside them.
        with force_locale(lang):
            catalogue = load_catalogue(questionnaire, lang)
    else:
        catalogue = load_catalogue(questionnaire, lang)
    flt, errors = parse_filter(request.args, catalogue)
    return catalogue, flt, errors


def _url_helpers(slug: str, flt: ResultFilter, labels: str) -> dict:
    """Template functions that build links keeping (or changing) the current filter."""
    base_args = [*flt.to_args(), ("labels", labels)]

    def link(endpoint: str, *extra: tuple[str, str], drop: tuple[str, str] | None = None,
             **values: str) -> str:
        args = [pair for pair in base_args if pair != drop] + list(extra)
        return url_for(endpoint, slug=slug, **values) + ("?" + urlencode(args) if args else "")

    def with_answer(code: str, option: str) -> str:
        return link("analysis.results", (ANSWER_PREFIX + code, option))

    def without(key: str, value: str) -> str:
        return link("analysis.results", drop=(key, value))

    def sibling(path: str, *extra: tuple[str, str]) -> str:
        """A page of another blueprint under the same results URL, with the filter."""
        args = urlencode(base_args + list(extra))
        return f"{url_for('analysis.results', slug=slug)}/{path}" + ("?" + args if args else "")

    def link_text(code: str) -> str:
        args = urlencode(base_args)
        return url_for("analysis.texts", slug=slug, code=code) + ("?" + args if args else "")

    return {"link": link, "with_answer": with_answer, "without": without,
            "link_text": link_text, "sibling": sibling, "filter_args": base_args}


def _formatters() -> dict:
    def pct(value: float | None) -> str:
        return "" if value is None else format_percent(value / 100, "#,##0.0%")

    def num(value: float | None, digits: int = 1) -> str:
        if value is None:
            return ""
        return format_decimal(round(value, digits), format="#,##0." + "#" * digits)

    return {"pct": pct, "num": num, "channel_name": channel_label, "stage_label": stage_label,
            "format_day": lambda day: format_date(day, "medium")}


def _title(questionnaire: Questionnaire, lang: str) -> dict:
    version = questionnaire.published_version or questionnaire.latest_version
    title, title_lang = localized(version.title if version else {}, lang,
                                  questionnaire.base_language)
    return {"title": title or questionnaire.slug, "title_lang": title_lang}


_STYLE = re.compile(r'style="([^"]*)"')


def _inline(svg: str) -> Markup:
    """A chart to put into the page as it is, its inline styles made presentation attributes.

    The page's CSP forbids style attributes; matplotlib only writes properties that SVG also
    takes as attributes (fill, stroke, font-size, ...). Inline, the chart's text uses the
    page's fonts, the Ethiopic web font among them, which an ``<img>`` could not reach.
    """

    def attributes(match: re.Match[str]) -> str:
        pairs = (part.split(":", 1) for part in match.group(1).split(";") if ":" in part)
        return " ".join(f'{name.strip()}="{value.strip()}"' for name, value in pairs)

    # matplotlib placed the texts for left-to-right anchoring; inside an rtl page the SVG
    # would inherit rtl, which flips text-anchor and pushes labels into the bars.
    svg = svg.replace("<svg ", '<svg direction="ltr" ', 1)
    return Markup(_STYLE.sub(attributes, svg))  # matplotlib escapes the texts


#: Drawn charts by what they show: drawing is most of a results page's time, and the same
#: figures come back on every visit until new responses arrive.
_CHART_CACHE: OrderedDict[str, Markup] = OrderedDict()
CHART_CACHE_SIZE = 2048
_CHART_LOCK = threading.Lock()


def _cached_chart(draw, *data, **options) -> Markup | None:
    """``draw(*data, **options)`` inlined, from the cache when the same was drawn before.

    The key holds the data with its texts and the locale (number formats); the formatting
    functions among the options follow from the locale. ``None`` means nothing to draw.
    """
    shown = [options.get(name) for name in sorted(options) if not callable(options[name])]
    key = repr((draw.__name__, data, shown, str(get_locale())))
    with _CHART_LOCK:  # threaded servers share the cache
        if key in _CHART_CACHE:
            _CHART_CACHE.move_to_end(key)
            return _CHART_CACHE[key]
    svg = draw(*data, **options)
    chart = None if svg is None else _inline(svg)
    with _CHART_LOCK:
        _CHART_CACHE[key] = chart
        if len(_CHART_CACHE) > CHART_CACHE_SIZE:
            _CHART_CACHE.popitem(last=False)
    return chart


def _charts(summary: Results, lang: str) -> tuple[dict[str, Markup], Markup | None]:
    """A chart per question that has something to draw, and the responses over time."""
    formats = _formatters()
    hidden = f"<{summary.threshold}"
    # Narrower than the PDF's charts: on a phone the text stays about as large as the page's.
    width = WEB_CHART_WIDTH
    rtl = direction(lang) == "rtl"
    drawn: dict[str, Markup] = {}
    for item in summary.questions:
        chart = _cached_chart(charts.chart_for, item, hidden_text=hidden,
                              percent=formats["pct"], count=lambda n: formats["num"](n, 0),
                              rtl=rtl, width=width)
        if chart is not None:
            drawn[item.question.code] = chart
    timeline = None
    shown = protected_timeline(summary.overview.by_day, summary.threshold)
    if shown is not None and not summary.suppressed:
        period, rows, with_partial = shown
        description = _("Responses per day, week or month: complete and unfinished")
        timeline = _cached_chart(
            charts.timeline_chart, rows, description, complete_text=_("Complete"),
            partial_text=_("Unfinished") if with_partial else None,
            count=lambda n: formats["num"](n, 0), period=period,
            day_label=lambda day: format_date(day, "MMM y" if period == "month" else "short"),
            width=width)
    return drawn, timeline


@bp.route("/<slug>")
@permission_required(Permission.VIEW_RESULTS)
def results(slug: str):
    """Every question's summary for the filtered responses, with the filter form."""
    questionnaire = _questionnaire(slug)
    catalogue, flt, errors = _context(questionnaire)
    summary = build_results(catalogue, flt)
    drawn, timeline = _charts(summary, catalogue.lang)
    return render_template(
        "analysis/results.html", questionnaire=questionnaire, catalogue=catalogue, flt=flt,
        errors=errors, results=summary, units=unit_tree(), labels_lang=catalogue.lang,
        stages=stage_choices(), charts=drawn, timeline_chart=timeline,
        **_title(questionnaire, catalogue.lang),
        **_url_helpers(slug, flt, catalogue.lang), **_formatters())


@bp.route("/<slug>/texts/<code>")
@permission_required(Permission.VIEW_RESULTS)
def texts(slug: str, code: str):
    """All free-text answers to one question, searchable and paged."""
    questionnaire = _questionnaire(slug)
    catalogue, flt, errors = _context(questionnaire)
    question = catalogue.get(code)
    if question is None or question.is_personal:
        abort(404)
    search = (request.args.get("search") or "").strip()[:200]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    summary = build_results(catalogue, flt, with_texts=False)
    answers, total = ([], 0) if summary.suppressed else text_answers(
        catalogue, flt, code, search, limit=TEXTS_PER_PAGE, offset=(page - 1) * TEXTS_PER_PAGE)
    withheld = 0 < total < questionnaire.min_group_size
    return render_template(
        "analysis/texts.html", questionnaire=questionnaire, question=question, flt=flt,
        errors=errors, answers=[] if withheld else answers, total=total, withheld=withheld,
        search=search, page=page, pages=max(1, -(-total // TEXTS_PER_PAGE)),
        results=summary, catalogue=catalogue, **_title(questionnaire, catalogue.lang),
        **_url_helpers(slug, flt, catalogue.lang), **_formatters())


@bp.route("/<slug>/crosstab")
@permission_required(Permission.VIEW_RESULTS)
def crosstab(slug: str):
    """Two choice questions against each other, with row or column percentages."""
    questionnaire = _questionnaire(slug)
    catalogue, flt, errors = _context(questionnaire)
    choices = [q for q in catalogue.questions if q.is_choice]
    row, column = request.args.get("row"), request.args.get("col")
    percent = request.args.get("percent", "row")
    table = None
    if row and column:
        try:
            table = build_crosstab(catalogue, flt, row, column)
        except NotCrossTabulable:
            abort(404)
    return render_template(
        "analysis/crosstab.html", questionnaire=questionnaire, catalogue=catalogue, flt=flt,
        errors=errors, choices=choices, table=table, row=row, column=column,
        percent=percent if percent in ("row", "column", "none") else "row",
        units=unit_tree(), labels_lang=catalogue.lang, **_title(questionnaire, catalogue.lang),
        **_url_helpers(slug, flt, catalogue.lang), **_formatters())
