"""Results of a questionnaire: what respondents said, per question, from SQL aggregates.

Counts come from ``GROUP BY`` over the answers table (a handful of queries per questionnaire,
whatever the number of responses); pandas shapes the small aggregated tables. The same
``Results`` object feeds the results page, the PDF report and the cross-tab view, so every
place shows the same numbers, protected the same way (``protection``).
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from surveyapp.accounts.models import Unit
from surveyapp.analysis.catalogue import Catalogue, CatalogueQuestion
from surveyapp.analysis.filters import ResultFilter, channel_label, responses_where, selected_ids
from surveyapp.analysis.protection import is_too_small, protect_counts
from surveyapp.analysis.selection import Selection
from surveyapp.analysis.sql import day_of
from surveyapp.db import db
from surveyapp.i18n import language_name
from surveyapp.questionnaires.question_types import OTHER, PREFER_NOT
from surveyapp.responses.models import Answer, Response, ResponseStatus

#: En dash between the ends of a range ("18 to 24").
RANGE_DASH = "\u2013"
#: Free-text answers a summary carries (the results page pages through all of them).
TEXT_SAMPLE = 50


@dataclass
class Cell:
    """One answer (or group) with its count; ``count`` is ``None`` when suppressed."""

    code: str
    label: str
    label_lang: str
    count: int | None
    #: Percent of the base ``n`` (``None`` when suppressed or there is no base).
    percent: float | None


@dataclass
class MatrixRow:
    """One row of a matrix question: its distribution over the shared scale."""

    code: str
    label: str
    label_lang: str
    n: int
    cells: list[Cell]


@dataclass
class NumberStats:
    """Descriptive statistics of a number question (over the answers given)."""

    n: int
    mean: float
    median: float
    q1: float
    q3: float
    minimum: float
    maximum: float


@dataclass
class Nps:
    """Net Promoter Score of a 0-10 rating: % promoters (9-10) minus % detractors (0-6)."""

    n: int
    score: float
    promoters: float
    passives: float
    detractors: float


@dataclass
class QuestionSummary:
    """What the selected respondents said to one question."""

    question: CatalogueQuestion
    #: Respondents who answered (the base of the percentages), "prefer not to answer" included.
    n: int = 0
    #: Selected responses that did not answer (skipped, or not shown by a condition).
    not_answered: int = 0
    cells: list[Cell] = field(default_factory=list)
    rows: list[MatrixRow] = field(default_factory=list)
    stats: NumberStats | None = None
    #: Histogram of numbers or dates: (label, count or None when suppressed).
    bins: list[tuple[str, int | None]] = field(default_factory=list)
    nps: Nps | None = None
    #: Free texts (typed answers or "Other, please specify"), newest first, at most TEXT_SAMPLE.
    texts: list[str] = field(default_factory=list)
    text_count: int = 0
    #: Everything about this question is hidden: fewer than k respondents answered.
    suppressed: bool = False


@dataclass
class Overview:
    """How many responded, when, where, in which language and by which channel."""

    complete: int
    partial: int
    withdrawn: int
    by_day: list[tuple[date, int, int]]
    by_unit: list[Cell]
    by_language: list[Cell]
    by_channel: list[Cell]
    by_version: list[Cell]
    first_day: date | None
    last_day: date | None


@dataclass
class Results:
    """Everything an evaluator sees about a filtered set of responses."""

    catalogue: Catalogue
    filter: ResultFilter
    threshold: int
    overview: Overview
    questions: list[QuestionSummary]
    #: The filtered set itself is smaller than the threshold: nothing is shown.
    suppressed: bool


def _percent(count: int | None, base: int) -> float | None:
    return None if count is None or base == 0 else 100.0 * count / base


def _cells(labels, counts: dict[str, int], base: int, k: int) -> list[Cell]:
    """Cells in label order (codes only counted, unknown to every version, go last)."""
    order = [(label.code, label.text, label.lang) for label in labels]
    known = {code for code, _text, _lang in order}
    order += [(code, code, "") for code in sorted(counts) if code not in known]
    protected = protect_counts([counts.get(code, 0) for code, _t, _l in order], k)
    return [Cell(code, text, lang, count, _percent(count, base))
            for (code, text, lang), count in zip(order, protected, strict=True)]


def _choice_counts(catalogue: Catalogue, selection: Selection
                   ) -> dict[tuple[str, str | None, str], int]:
    """(question code, row code, option code) -> count, for every coded answer."""
    code_of = catalogue.code_by_question_id
    # Grouped in the order of ix_answers_summary, so the groups stream from the index.
    rows = selection.count((Answer.question_id, Answer.option_code, Answer.row_code),
                           list(code_of), Answer.option_code.is_not(None))
    counts: dict[tuple[str, str | None, str], int] = {}
    for (question_id, option_code, row_code), count in rows.items():
        key = (code_of[question_id], row_code, option_code)
        counts[key] = counts.get(key, 0) + count
    return counts


def _respondent_counts(catalogue: Catalogue, selection: Selection,
                       questions: list[CatalogueQuestion]) -> dict[str, int]:
    """Distinct respondents per question, for the questions with several rows per answer."""
    code_of = catalogue.code_by_question_id
    counts: dict[str, int] = {}
    rows = selection.count((Answer.question_id,), [qid for q in questions for qid in q.ids],
                           distinct_respondents=True)
    for (question_id,), count in rows.items():
        counts[code_of[question_id]] = counts.get(code_of[question_id], 0) + count
    return counts


def _typed_values(catalogue: Catalogue, selection: Selection,
                  questions: list[CatalogueQuestion]) -> pd.DataFrame:
    """Frequency table (code, number, day, count) of numbers, dates and texts given."""
    code_of = catalogue.code_by_question_id
    rows = selection.count((Answer.question_id, Answer.value_number, Answer.value_date),
                           [qid for q in questions for qid in q.ids],
                           Answer.option_code.is_(None), Answer.row_code.is_(None))
    return pd.DataFrame([(code_of[qid], num, day, count)
                         for (qid, num, day), count in rows.items()],
                        columns=["code", "number", "day", "count"])


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile of a frequency table, by the same rule as ``numpy.quantile`` (linear)."""
    order = np.argsort(values)
    values, weights = values[order], weights[order]
    n = weights.sum()
    position = q * (n - 1)  # 0-based position in the sorted, expanded data
    ends = np.cumsum(weights) - 1  # position of the last copy of each value
    low = int(np.floor(position))
    high = min(low + 1, n - 1)
    value_low = values[np.searchsorted(ends, low)]
    value_high = values[np.searchsorted(ends, high)]
    return float(value_low + (value_high - value_low) * (position - low))


def _number_summary(summary: QuestionSummary, table: pd.DataFrame, k: int) -> None:
    if table.empty:
        return
    values = table["number"].to_numpy(dtype=float)
    weights = table["count"].to_numpy(dtype=np.int64)
    n = int(weights.sum())
    summary.stats = NumberStats(
        n=n, mean=float(np.average(values, weights=weights)),
        median=_weighted_quantile(values, weights, 0.5),
        q1=_weighted_quantile(values, weights, 0.25),
        q3=_weighted_quantile(values, weights, 0.75),
        minimum=float(values.min()), maximum=float(values.max()))
    edges = np.histogram_bin_edges(values, bins=min(10, len(values)), weights=None,
                                   range=(values.min(), values.max() if values.max() > values.min()
                                          else values.min() + 1))
    counts, _edges = np.histogram(values, bins=edges, weights=weights)
    whole = bool(np.all(np.mod(values, 1) == 0))
    labels = [_bin_label(edges[i], edges[i + 1], whole, last=i == len(counts) - 1)
              for i in range(len(counts))]
    summary.bins = list(zip(labels, protect_counts([int(c) for c in counts], k), strict=True))


def _bin_label(low: float, high: float, whole: bool, last: bool) -> str:
    from flask_babel import format_decimal

    if whole:
        top = np.floor(high) if last else np.ceil(high) - 1
        low_text = format_decimal(int(np.ceil(low)))
        if top <= np.ceil(low):
            return low_text
        return f"{low_text}{RANGE_DASH}{format_decimal(int(top))}"
    return f"{format_decimal(round(low, 2))}{RANGE_DASH}{format_decimal(round(high, 2))}"


#: Most columns a chart of dates has (narrower ones could not be labelled): months, else years.
MAX_DATE_BINS = 12


def _date_summary(summary: QuestionSummary, table: pd.DataFrame, k: int) -> None:
    """Counts by month, or by 1, 2, 5, 10... years when months would be too many.

    Months are named in the reader's language ("März 2026"), the same on the page and in the
    PDF.

    Grouped before protecting, so that a span's count is exact rather than a sum of hidden
    months.
    """
    if table.empty:
        return
    days = pd.to_datetime(table["day"])
    months = table.assign(month=days.dt.strftime("%Y-%m")).groupby("month")["count"].sum()
    groups: dict[str, int] = {label: int(count) for label, count in months.items()}
    if len(groups) > MAX_DATE_BINS:
        years = sorted({int(label[:4]) for label in groups})
        step = next((s for s in (1, 2, 5, 10, 20, 50)
                     if (years[-1] // s - years[0] // s) < MAX_DATE_BINS), 100)
        spans: dict[int, int] = {}
        for label, count in groups.items():
            start = int(label[:4]) // step * step
            spans[start] = spans.get(start, 0) + count
        groups = {(str(start) if step == 1 else f"{start}{RANGE_DASH}{start + step - 1}"): count
                  for start, count in sorted(spans.items())}
    else:  # months named in the reader's language ("März 2026"), on the page and in the PDF
        groups = {format_date(date(int(label[:4]), int(label[5:7]), 1), "MMM yyyy"): count
                  for label, count in groups.items()}
    summary.bins = list(zip(groups, protect_counts(list(groups.values()), k), strict=True))
    summary.stats = None


def _nps(cells: list[Cell], counts: dict[str, int]) -> Nps | None:
    scored = {int(code): count for code, count in counts.items() if code.isdigit()}
    n = sum(scored.values())
    if not n:
        return None
    promoters = 100.0 * sum(c for s, c in scored.items() if s >= 9) / n
    detractors = 100.0 * sum(c for s, c in scored.items() if s <= 6) / n
    return Nps(n=n, score=promoters - detractors, promoters=promoters,
               passives=100.0 - promoters - detractors, detractors=detractors)


def text_answers(catalogue: Catalogue, flt: ResultFilter, code: str, search: str = "",
                 limit: int = TEXT_SAMPLE, offset: int = 0) -> tuple[list[str], int]:
    """Free texts given to ``code`` (typed answers and "Other" texts), newest first, and total."""
    question = catalogue.get(code)
    if question is None or question.is_personal:
        return [], 0
    conditions = [Answer.response_id.in_(selected_ids(catalogue, flt)),
                  Answer.question_id.in_(question.ids), Answer.value_text.is_not(None)]
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(Answer.value_text.ilike(f"%{escaped}%", escape="\\"))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Answer).where(*conditions))
    texts = list(db.session.scalars(sa.select(Answer.value_text).where(*conditions)
                                    .order_by(Answer.id.desc()).limit(limit).offset(offset)))
    return texts, int(total or 0)


def summarise_questions(catalogue: Catalogue, flt: ResultFilter, k: int,
                        with_texts: bool = True, selected: int | None = None
                        ) -> list[QuestionSummary]:
    """One summary per question code, in questionnaire order (``selected``: known count)."""
    selection = Selection.of(catalogue, flt, selected)
    counts = _choice_counts(catalogue, selection)
    multiple = [q for q in catalogue.questions if q.kind == "multiple"]
    respondents = _respondent_counts(catalogue, selection, multiple)
    typed = [q for q in catalogue.questions if q.kind in ("number", "date", "text")]
    values = _typed_values(catalogue, selection, typed)
    summaries = []
    for question in catalogue.questions:
        summary = QuestionSummary(question=question)
        own = {(row, option): count for (code, row, option), count in counts.items()
               if code == question.code}
        table = values[values["code"] == question.code]
        if question.kind == "matrix":
            answered = {}
            for (row, _option), count in own.items():
                answered[row] = answered.get(row, 0) + count
            summary.n = max(answered.values(), default=0)
            for row in question.rows:
                row_counts = {option: c for (r, option), c in own.items() if r == row.code}
                row_n = answered.get(row.code, 0)
                summary.rows.append(MatrixRow(row.code, row.text, row.lang, row_n,
                                              _cells(question.labels, row_counts, row_n, k)))
        elif question.is_choice:
            option_counts = {option: c for (_row, option), c in own.items()}
            summary.n = (respondents.get(question.code, 0) if question.kind == "multiple"
                         else sum(option_counts.values()))
            summary.cells = _cells(question.labels, option_counts, summary.n, k)
            if question.kind == "scale":
                summary.nps = _nps(summary.cells, option_counts)
        else:
            prefer_not = own.get((None, PREFER_NOT), 0)
            summary.n = int(table["count"].sum()) + prefer_not
            if prefer_not:
                summary.cells = _cells(question.labels, {PREFER_NOT: prefer_not}, summary.n, k)
            if question.kind == "number":
                _number_summary(summary, table, k)
            elif question.kind == "date":
                _date_summary(summary, table, k)
        summary.suppressed = is_too_small(summary.n, k)
        if summary.suppressed:
            summary.cells, summary.rows, summary.bins = [], [], []
            summary.stats = summary.nps = None
        else:
            # Typed texts, or the texts next to "Other": counted from the aggregates above.
            summary.text_count = (int(table["count"].sum()) if question.kind == "text"
                                  else own.get((None, OTHER), 0))
            if (with_texts and not question.is_personal and summary.text_count
                    and not is_too_small(summary.text_count, k)):
                summary.texts = selection.newest_texts(question.ids, TEXT_SAMPLE)
        summaries.append(summary)
    return summaries


def overview(catalogue: Catalogue, flt: ResultFilter, k: int) -> Overview:
    """Numbers of responses by status, day, unit, language, channel and version."""
    statuses = (ResponseStatus.COMPLETE, ResponseStatus.DRAFT)
    where = responses_where(catalogue, flt, statuses)
    by_status = dict(db.session.execute(
        sa.select(Response.status, sa.func.count()).where(*where).group_by(Response.status)
    ).all())
    complete = by_status.get(ResponseStatus.COMPLETE, 0)
    withdrawn = db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
        Response.questionnaire_id == catalogue.questionnaire.id,
        Response.status == ResponseStatus.WITHDRAWN, Response.is_preview.is_(False))) or 0
    day = day_of(sa.func.coalesce(Response.submitted_at, Response.started_at))
    days: dict[date, list[int]] = {}
    for when, status, count in db.session.execute(
            sa.select(day, Response.status, sa.func.count()).where(*where)
            .group_by(day, Response.status)):
        when = when if isinstance(when, date) else date.fromisoformat(str(when)[:10])
        days.setdefault(when, [0, 0])[0 if status == ResponseStatus.COMPLETE else 1] += count
    # One scan of the complete responses for all four breakdowns: the combinations of unit,
    # language, channel and version are few, and each breakdown is a sum over them.
    units: Counter = Counter()
    lang_counts: Counter = Counter()
    channel_counts: Counter = Counter()
    version_counts: Counter = Counter()
    breakdown = (Response.unit_id, Response.language, Response.channel, Response.version_id)
    for unit_id, language, channel, version_id, count in db.session.execute(
            sa.select(*breakdown, sa.func.count())
            .where(*responses_where(catalogue, flt)).group_by(*breakdown)):
        units[unit_id] += count
        lang_counts[language] += count
        channel_counts[channel] += count
        version_counts[version_id] += count
    names = dict(db.session.execute(sa.select(Unit.id, Unit.name).where(
        Unit.id.in_([u for u in units if u is not None]))).all())
    unit_labels = sorted(((str(uid), names[uid]) for uid in units if uid is not None),
                         key=lambda pair: pair[1])
    if None in units:
        unit_labels.append(("", _("No unit")))

    def cells(pairs: list[tuple[str, str]], counts: dict[str, int],
              own_language: bool = False) -> list[Cell]:
        protected = protect_counts([counts.get(code, 0) for code, _label in pairs], k)
        # A language's name is given in that language (its endonym), and marked so.
        return [Cell(code, label, code if own_language else "", count, _percent(count, complete))
                for (code, label), count in zip(pairs, protected, strict=True)]

    ordered_days = sorted(days)
    return Overview(
        complete=complete, partial=by_status.get(ResponseStatus.DRAFT, 0), withdrawn=withdrawn,
        by_day=[(d, *days[d]) for d in ordered_days],
        by_unit=cells(unit_labels, {("" if u is None else str(u)): c for u, c in units.items()}),
        by_language=cells([(lang, language_name(lang)) for lang in sorted(lang_counts)],
                          lang_counts, own_language=True),
        by_channel=cells([(str(c), channel_label(str(c))) for c in sorted(channel_counts)],
                         {str(c): n for c, n in channel_counts.items()}),
        by_version=cells([(str(catalogue.version_numbers.get(v, "?")),
                           _("Version %(number)s", number=catalogue.version_numbers.get(v, "?")))
                          for v in sorted(version_counts)],
                         {str(catalogue.version_numbers.get(v, "?")): c
                          for v, c in version_counts.items()}),
        first_day=ordered_days[0] if ordered_days else None,
        last_day=ordered_days[-1] if ordered_days else None)


#: Results by what they were computed from (see ``_data_state``); evaluators open the same
#: results again and again, while responses arrive far more slowly.
_RESULTS_CACHE: OrderedDict[tuple, Results] = OrderedDict()
RESULTS_CACHE_SIZE = 64
_RESULTS_LOCK = threading.Lock()


def _data_state(questionnaire_id: int) -> tuple:
    """What changes whenever any result could: responses per status and the newest response.

    A submission or withdrawal moves a response between statuses, an erasure or a purge
    lowers a count, a new draft raises the newest id. Answers of sent responses never change.
    """
    counts = db.session.execute(
        # max(start_key): random per response, so a restored or rebuilt database with the
        # same counts and ids still gets a state of its own.
        sa.select(Response.status, sa.func.count(), sa.func.max(Response.id),
                  sa.func.max(Response.start_key))
        .where(Response.questionnaire_id == questionnaire_id)
        .group_by(Response.status)).all()
    return tuple(sorted((str(status), *rest) for status, *rest in counts))


def clear_results_cache() -> None:
    """Forget every cached result (tests; after changing responses behind the app's back)."""
    with _RESULTS_LOCK:
        _RESULTS_CACHE.clear()


def build_results(catalogue: Catalogue, flt: ResultFilter, with_texts: bool = True,
                  threshold: int | None = None) -> Results:
    """Every summary of the filtered responses, with small groups hidden.

    Computed once per state of the data: until a response is sent, withdrawn or erased, the
    same request is answered from a per-process cache.
    """
    k = catalogue.questionnaire.min_group_size if threshold is None else threshold
    key = (catalogue.questionnaire.id, catalogue.lang, catalogue.revision, flt, with_texts, k,
           str(get_locale()), _data_state(catalogue.questionnaire.id))
    with _RESULTS_LOCK:
        if key in _RESULTS_CACHE:
            _RESULTS_CACHE.move_to_end(key)
            return replace(_RESULTS_CACHE[key], catalogue=catalogue)
    results = _compute_results(catalogue, flt, with_texts, k)
    with _RESULTS_LOCK:
        _RESULTS_CACHE[key] = results
        if len(_RESULTS_CACHE) > RESULTS_CACHE_SIZE:
            _RESULTS_CACHE.popitem(last=False)
    return results


def _compute_results(catalogue: Catalogue, flt: ResultFilter, with_texts: bool,
                     k: int) -> Results:
    summary = overview(catalogue, flt, k)
    suppressed = is_too_small(summary.complete, k)
    questions = [] if suppressed else summarise_questions(catalogue, flt, k, with_texts,
                                                          selected=summary.complete)
    for question in questions:
        question.not_answered = max(0, summary.complete - question.n)
    if suppressed:
        summary.by_unit = summary.by_language = summary.by_channel = summary.by_version = []
        summary.by_day = []
    return Results(catalogue=catalogue, filter=flt, threshold=k, overview=summary,
                   questions=questions, suppressed=suppressed)
