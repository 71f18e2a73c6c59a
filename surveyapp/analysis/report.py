"""The PDF summary of a questionnaire's results: ``(questionnaire, filter, language) -> bytes``.

Python decides every word and number (translated with gettext under ``force_locale``,
formatted with Babel for the report's language) and draws the charts; the versioned typst
template ``templates/analysis/report.typ`` only lays them out. The data goes to typst as
JSON strings, never as markup, so nothing a respondent typed can change the document.
Fonts come only from this package and matplotlib (``ignore_system_fonts``), so a report
looks the same on every machine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import (
    force_locale,
    format_date,
    format_decimal,
    format_percent,
    get_locale,
    ngettext,
)
from flask_babel import gettext as _

from surveyapp.analysis import charts
from surveyapp.analysis.catalogue import Catalogue, CatalogueQuestion, load_catalogue
from surveyapp.analysis.crosstab import Crosstab, build_crosstab
from surveyapp.analysis.filters import ResultFilter
from surveyapp.analysis.protection import protected_timeline
from surveyapp.analysis.summaries import (
    RANGE_DASH,
    TEXT_SAMPLE,
    Cell,
    QuestionSummary,
    Results,
    build_results,
)
from surveyapp.fieldwork.services import invitation_counts
from surveyapp.i18n import direction, localized, text_direction
from surveyapp.questionnaires.models import Questionnaire
from surveyapp.typesetting import compile_pdf

TEMPLATE = Path(__file__).parent / "templates" / "analysis" / "report.typ"
#: The data layout the template expects (the template checks it).
DATA_VERSION = 1

#: In a table cell whose value is hidden or undefined (an en dash).
NO_VALUE = "\u2013"
#: Free texts up to this many characters are set three to a line.
SHORT = 28

#: A text cell: a plain string, or a string with its own direction when it differs.
Text = str | dict[str, str]


class Formatter:
    """Numbers, percentages and dates in the report's language (the current Babel locale)."""

    def __init__(self) -> None:
        pattern = get_locale().percent_formats[None].pattern
        # The locale's own pattern ("#,##0 %", "%#,##0") with one decimal, for shares below 1 %.
        self._fine_percent = re.sub(r"0(?=[^0]*$)", "0.0", pattern, count=1)

    def count(self, value: int) -> str:
        """A whole number: 12.345 / 12,345."""
        return format_decimal(value)

    def number(self, value: float) -> str:
        """A measured value with up to two decimals."""
        return format_decimal(round(value, 2), format="#,##0.##")

    def percent(self, value: float) -> str:
        """A share given in percent (0-100), whole, or with one decimal below 1 %."""
        if 0 < value < 1:
            return format_percent(value / 100, self._fine_percent)
        return format_percent(value / 100)

    def day(self, value: date) -> str:
        """A calendar day, medium length (5 Mar 2026)."""
        return format_date(value, "medium")

    def short_day(self, value: date) -> str:
        """A day on a chart axis (5 Mar)."""
        return format_date(value, "d MMM")


def _text(value: str, doc_dir: str) -> Text:
    """A text as a table cell: with its own direction when it reads the other way."""
    own = text_direction(value)
    return {"text": value, "dir": own} if own and own != doc_dir else value


def _hidden(k: int) -> str:
    # i18n: shown instead of a count hidden by small-number protection
    return _("fewer than %(k)s", k=k)


def _cell_rows(cells: Sequence[Cell], fmt: Formatter, doc_dir: str, k: int) -> list[list[Text]]:
    return [[_text(cell.label, doc_dir),
             _hidden(k) if cell.count is None else fmt.count(cell.count),
             NO_VALUE if cell.percent is None else fmt.percent(cell.percent)] for cell in cells]


def _table(columns: list[Text], rows: list[list[Text]], total: list[Text] | None = None,
           wide: bool = False) -> dict[str, Any]:
    return {"columns": columns, "rows": rows, "total": total, "wide": wide}


class _Report:
    """Builds the template's data for one report, writing chart files into ``folder``."""

    def __init__(self, results: Results, crosstabs: list[Crosstab], lang: str, free_text: bool,
                 folder: Path) -> None:
        self.results, self.crosstabs, self.lang = results, crosstabs, lang
        self.free_text, self.folder = free_text, folder
        self.dir = direction(lang)
        self.rtl = self.dir == "rtl"
        self.fmt = Formatter()
        self.k = results.threshold
        self.charts = 0

    def chart(self, svg: str) -> str:
        """Write a chart for the template; return its file name."""
        self.charts += 1
        name = f"chart-{self.charts}.svg"
        (self.folder / name).write_text(svg, encoding="utf-8")
        return name

    def data(self) -> dict[str, Any]:
        """Everything the template shows, in reading order."""
        results = self.results
        questionnaire = results.catalogue.questionnaire
        version = questionnaire.published_version or questionnaire.latest_version
        title, _title_lang = localized(version.title if version else {}, self.lang,
                                       questionnaire.base_language)
        questions = [self.question(number, summary)
                     for number, summary in enumerate(results.questions, start=1)]
        crosstabs = [self.crosstab(table) for table in self.crosstabs]
        for section in questions + crosstabs:
            # A message not yet translated reads left to right even in an Arabic report.
            section["notes"] = [_text(note, self.dir) for note in section["notes"]]
        return {
            "version": DATA_VERSION,
            "lang": self.lang,
            "dir": self.dir,
            "title": _text(title or questionnaire.slug, self.dir),
            "title_plain": title or questionnaire.slug,
            "kicker": _("Summary of results"),
            "facts": self.facts(),
            "suppressed": (_("Fewer than %(k)s complete responses match this selection, so no "
                             "results are shown, to protect the respondents.", k=self.k)
                           if results.suppressed else None),
            "overview": None if results.suppressed else self.overview(),
            "contents_heading": _("Contents"),
            "questions_heading": _("Results by question"),
            "questions": questions,
            "crosstabs_heading": _("Cross-tabulations"),
            "crosstabs": crosstabs,
            "methods_heading": _("How to read this report"),
            "methods": [_text(paragraph, self.dir) for paragraph in self.methods()],
            "footer": title or questionnaire.slug,
        }

    def facts(self) -> list[list[Text]]:
        """The title page: what, when, which responses, how many."""
        results, fmt = self.results, self.fmt
        overview = results.overview
        if overview.first_day and overview.last_day:
            period = _("%(start)s to %(end)s", start=fmt.day(overview.first_day),
                       end=fmt.day(overview.last_day))
        else:
            period = _("no responses yet")
        filters = results.filter.describe(results.catalogue)
        facts: list[list[Text]] = [[_("Period"), _text(period, self.dir)]]
        if filters:
            facts += [[_("Selection") if i == 0 else "", _text(f"{what}: {value}", self.dir)]
                      for i, (what, value) in enumerate(filters)]
        else:
            facts.append([_("Selection"), _text(_("all responses"), self.dir)])
        facts += [
            [_("Complete responses"), fmt.count(overview.complete)],
            [_("Unfinished responses"), fmt.count(overview.partial)],
            [_("Withdrawn by respondents"), fmt.count(overview.withdrawn)],
        ]
        invitations = invitation_counts(results.catalogue.questionnaire)
        if invitations["invited"]:
            # Of every personal invitation, whatever the selection: an invitation does not
            # know the answers it led to (in anonymous questionnaires it must not).
            facts.append([_("Response rate of the personal invitations"), _text(_(
                "%(used)s of %(invited)s invitations answered (%(rate)s)",
                used=fmt.count(invitations["used"]), invited=fmt.count(invitations["invited"]),
                rate=fmt.percent(100 * invitations["used"] / invitations["invited"])),
                self.dir)])
        facts += [
            [_("Created"), _("%(day)s (UTC)", day=fmt.day(datetime.now(UTC).date()))],
        ]
        return [[_text(what, self.dir) if what else what, value] for what, value in facts]

    def overview(self) -> dict[str, Any]:
        """Responses over time and by language, channel, unit and version."""
        overview, fmt = self.results.overview, self.fmt
        chart, note = None, None
        timeline = protected_timeline(overview.by_day, self.k)
        if timeline is not None:
            period, rows, with_partial = timeline
            description = _("Responses per day, week or month: complete and unfinished")
            label = self.month if period == "month" else fmt.short_day
            chart = self.chart(charts.timeline_chart(
                rows, description, complete_text=_("complete"),
                partial_text=_("unfinished") if with_partial else None, period=period,
                day_label=label, count=fmt.count))
        elif overview.by_day:
            note = _("Too few responses per month to show them over time.")
        tables = []
        for heading, cells in ((_("Language of the answers"), overview.by_language),
                               (_("Channel"), overview.by_channel),
                               (_("Unit"), overview.by_unit),
                               (_("Questionnaire version"), overview.by_version)):
            if len(cells) > 1:  # one language, channel or unit says nothing a fact doesn't
                tables.append({"heading": heading, "table": _table(
                    [heading, _("Responses"), _("Percent")],
                    _cell_rows(cells, fmt, self.dir, self.k))})
        return {"heading": _("Responses"), "chart": chart, "note": note,
                "alt": _("Responses over time"), "tables": tables}

    def question(self, number: int, summary: QuestionSummary) -> dict[str, Any]:
        """One section: the question, its chart, its table and notes."""
        question, fmt = summary.question, self.fmt
        section: dict[str, Any] = {
            "number": fmt.count(number),
            "title": _text(question.text or question.code, self.dir),
            "title_plain": question.text or question.code,
            "about": _text(self.about(question), self.dir),
            "chart": None, "alt": question.text, "table": None, "stats": None,
            "notes": [], "texts": None,
        }
        notes: list[str] = section["notes"]
        if summary.suppressed:
            notes.append(_("Fewer than %(k)s respondents answered this question, so its "
                           "results are not shown.", k=self.k))
            return section
        if summary.n == 0:
            notes.append(_("Nobody in this selection answered this question."))
            return section
        drawn = charts.chart_for(summary, hidden_text=_hidden(self.k), percent=fmt.percent,
                                 count=fmt.count, rtl=self.rtl)
        section["chart"] = self.chart(drawn) if drawn is not None else None
        if question.kind == "matrix":
            self.matrix(summary, section)
        elif question.is_choice:
            section["table"] = _table(
                [_("Answer"), _("Respondents"), _("Percent")],
                _cell_rows(summary.cells, fmt, self.dir, self.k),
                total=[_("Answered this question"), fmt.count(summary.n), ""])
            if question.kind == "multiple":
                notes.append(_("Several answers were possible, so the percentages can add "
                               "up to more than 100 %."))
            if summary.nps is not None:
                nps = summary.nps
                notes.append(_("Net Promoter Score: %(score)s (promoters %(promoters)s, "
                               "passives %(passives)s, detractors %(detractors)s).",
                               score=fmt.number(nps.score), promoters=fmt.percent(nps.promoters),
                               passives=fmt.percent(nps.passives),
                               detractors=fmt.percent(nps.detractors)))
        elif question.kind in ("number", "date"):
            self.numbers(summary, section)
        notes.append(ngettext(
            "%(count)s respondent answered; %(skipped)s in this selection did not.",
            "%(count)s respondents answered; %(skipped)s in this selection did not.",
            summary.n, count=fmt.count(summary.n), skipped=fmt.count(summary.not_answered))
            if summary.not_answered
            else ngettext("%(count)s respondent answered.", "%(count)s respondents answered.",
                          summary.n, count=fmt.count(summary.n)))
        self.quotes(summary, section)
        return section

    def about(self, question: CatalogueQuestion) -> str:
        """Which versions asked a question, when not all of them did."""
        numbers = sorted(set(self.results.catalogue.version_numbers.values()))
        if question.is_retired or sorted(question.versions) != numbers:
            return ngettext("Asked in version %(numbers)s", "Asked in versions %(numbers)s",
                            len(question.versions),
                            numbers=", ".join(str(n) for n in sorted(question.versions)))
        return ""

    def matrix(self, summary: QuestionSummary, section: dict[str, Any]) -> None:
        fmt = self.fmt
        hidden = _hidden(self.k)
        scale = summary.rows[0].cells if summary.rows else []
        rows = []
        for row in summary.rows:
            rows.append([_text(row.label, self.dir)]
                        + [hidden if cell.count is None else fmt.percent(cell.percent or 0.0)
                           for cell in row.cells]
                        + [fmt.count(row.n)])
        section["table"] = _table(
            [""] + [_text(cell.label, self.dir) for cell in scale] + [_("Answered")], rows,
            wide=True)
        section["notes"].append(_("Percentages of the respondents who answered each row."))

    def numbers(self, summary: QuestionSummary, section: dict[str, Any]) -> None:
        fmt = self.fmt
        if summary.stats is not None:
            stats = summary.stats
            section["stats"] = _table(
                [_("Mean"), _("Median"), _("Quartiles"), _("Lowest"), _("Highest")],
                [[fmt.number(stats.mean), fmt.number(stats.median),
                  f"{fmt.number(stats.q1)}{RANGE_DASH}{fmt.number(stats.q3)}",
                  fmt.number(stats.minimum), fmt.number(stats.maximum)]], wide=True)
        if summary.cells:  # "prefer not to answer" given instead of a number or date
            section["table"] = _table([_("Answer"), _("Respondents"), _("Percent")],
                                      _cell_rows(summary.cells, self.fmt, self.dir, self.k))

    def month(self, month: str | date) -> str:
        """A month ("2026-03", or its first day) in the report's language."""
        if isinstance(month, str):
            try:
                year, number = (int(part) for part in month.split("-"))
            except ValueError:
                return month
            month = date(year, number, 1)
        return format_date(month, "MMM yyyy")

    def quotes(self, summary: QuestionSummary, section: dict[str, Any]) -> None:
        question = summary.question
        if question.is_personal:
            section["notes"].append(_("These answers can identify a person: they are counted, "
                                      "never listed."))
            return
        if not summary.text_count and question.kind != "text":
            return
        if not self.free_text:
            if question.kind == "text":
                section["notes"].append(_("Answers in the respondents' own words are not part "
                                          "of this report."))
            return
        if not summary.texts:
            if summary.text_count:
                section["notes"].append(_("Fewer than %(k)s answers in their own words: not "
                                          "shown.", k=self.k))
            return
        heading = (_("In their own words (the %(shown)s most recent of %(total)s)",
                     shown=self.fmt.count(len(summary.texts)),
                     total=self.fmt.count(summary.text_count))
                   if summary.text_count > len(summary.texts)
                   else _("In their own words"))
        # Each answer keeps its own script and direction, whatever the report's language.
        section["texts"] = {"heading": heading, "items": [
            {"text": text, "dir": text_direction(text) or self.dir, "short": len(text) <= SHORT}
            for text in summary.texts]}

    def crosstab(self, table: Crosstab) -> dict[str, Any]:
        """A cross-tabulation: counts with row percentages, margins, protected cells."""
        fmt, hidden = self.fmt, _hidden(self.k)
        heading = _("%(row)s by %(column)s", row=table.row.text, column=table.column.text)
        if table.suppressed or not table.n:
            return {"heading": heading, "table": None, "notes": [
                _("Fewer than %(k)s respondents answered both questions, so the table is not "
                  "shown.", k=self.k) if table.suppressed
                else _("Nobody in this selection answered both questions.")]}
        rows = []
        for i, label in enumerate(table.row_labels):
            cells: list[Text] = [_text(label.text, self.dir)]
            for j in range(len(table.column_labels)):
                count, share = table.counts[i][j], table.row_percent(i, j)
                cells.append(hidden if count is None else
                             f"{fmt.count(count)} ({fmt.percent(share)})" if share is not None
                             else fmt.count(count))
            cells.append(hidden if table.row_n[i] is None else fmt.count(table.row_n[i]))
            rows.append(cells)
        total: list[Text] = [_("Answered both")] + [
            hidden if n is None else fmt.count(n) for n in table.col_n] + [fmt.count(table.n)]
        return {"heading": heading, "notes": [
            _("Rows: %(row)s. Columns: %(column)s.", row=table.row.text,
              column=table.column.text),
            _("Each cell gives the number of respondents and, in brackets, their share of the "
              "row.")],
            "table": _table([""] + [_text(label.text, self.dir) for label in table.column_labels]
                            + [_("Answered both")], rows, total=total, wide=True)}

    def methods(self) -> list[str]:
        """What the numbers mean, and what was left out to protect the respondents."""
        results, k = self.results, self.k
        hidden_cells = sum(
            sum(1 for cell in s.cells if cell.count is None)
            + sum(1 for row in s.rows for cell in row.cells if cell.count is None)
            + sum(1 for _label, count in s.bins if count is None)
            for s in results.questions)
        hidden_cells += sum(1 for table in self.crosstabs if not table.suppressed
                            for row in table.counts for count in row if count is None)
        hidden_questions = sum(1 for s in results.questions if s.suppressed)
        versions = sorted(set(results.catalogue.version_numbers.values()))
        hidden = [_("Responses over time are added up by week or month wherever days would "
                    "show fewer than %(k)s.", k=k)]
        if hidden_cells:
            hidden.append(ngettext("In this report %(count)s figure was hidden this way.",
                                   "In this report %(count)s figures were hidden this way.",
                                   hidden_cells, count=self.fmt.count(hidden_cells)))
        if hidden_questions:
            hidden.append(ngettext(
                "%(count)s question was left out entirely because fewer than %(k)s "
                "respondents answered it.",
                "%(count)s questions were left out entirely because fewer than %(k)s "
                "respondents answered them.", hidden_questions,
                count=self.fmt.count(hidden_questions), k=k))
        paragraphs = [
            _("Percentages are based on the respondents who answered a question, including "
              "those who chose “prefer not to answer”. Respondents who skipped a question, or "
              "to whom it was not shown, are not counted in its base. Percentages are rounded, "
              "so they may not add up to exactly 100 %. Where several answers were possible, "
              "they can add up to more than 100 %."),
            _("Only complete responses are counted in the results. Unfinished responses appear "
              "only in the number of responses; withdrawn responses have been deleted and are "
              "only counted."),
            " ".join([_("Small-number protection: no figure describes fewer than %(k)s "
                        "respondents. Smaller counts are shown as “fewer than %(k)s”, and where "
                        "a hidden count could be worked out from a total, the next smallest "
                        "count is hidden too.", k=k), *hidden]),
            _("Days are calendar days in UTC; a response counts on the day it was submitted, an "
              "unfinished one on the day it was started."),
            (_("The questionnaire was published in %(count)s versions. Answers count together "
               "across versions wherever a question kept its code; questions that only some "
               "versions asked say so.", count=len(versions)) if len(versions) > 1
             else _("All responses were given to the same version of the questionnaire.")),
        ]
        if self.free_text:
            paragraphs.append(_("Answers in the respondents' own words are quoted as written, "
                                "in their original language and script, without translation; "
                                "at most the %(limit)s most recent are shown per question.",
                                limit=TEXT_SAMPLE))
        return paragraphs


def report_languages(questionnaire: Questionnaire) -> list[str]:
    """Languages a report can be written in: the questionnaire's and the interface's."""
    return list(dict.fromkeys([*questionnaire.languages,
                               *current_app.config["INTERFACE_LANGUAGES"]]))


#: More tables than this in one report is a mistake, and each costs a join over the answers.
MAX_CROSSTABS = 10


def crosstab_pairs(values: Sequence[str], catalogue: Catalogue
                   ) -> tuple[list[tuple[str, str]], list[str]]:
    """``ROW:COL`` texts as pairs of choice questions, and a message for each other text."""
    pairs, errors = [], []
    for value in values:
        row, _sep, column = value.partition(":")
        questions = (catalogue.get(row), catalogue.get(column))
        if all(q is not None and q.is_choice for q in questions):
            pairs.append((row, column))
        else:
            errors.append(_("“%(pair)s” does not name two questions with answers to choose "
                            "from, so it cannot be cross-tabulated.", pair=value))
    if len(pairs) > MAX_CROSSTABS:
        errors.append(_("At most %(count)s cross-tabulations fit in one report.",
                        count=MAX_CROSSTABS))
    return pairs, errors


def render_report(questionnaire: Questionnaire, flt: ResultFilter, lang: str, *,
                  crosstabs: Sequence[Crosstab | tuple[str, str]] = (), free_text: bool = False,
                  results: Results | None = None) -> bytes:
    """The PDF summary of ``questionnaire``'s filtered responses, written in ``lang``.

    :param crosstabs: tables to add, built already or as (row code, column code) pairs, which
        are built here with the report's labels. :raise NotCrossTabulable: a pair names a
        question that cannot be cross-tabulated.
    :param results: summaries built already (labelled in ``lang``), to save building them.
    """
    with force_locale(lang):
        if results is None:
            catalogue = load_catalogue(questionnaire, lang)
            results = build_results(catalogue, flt, with_texts=free_text)
        tables = [table if isinstance(table, Crosstab)
                  else build_crosstab(results.catalogue, flt, *table, results.threshold)
                  for table in crosstabs]
        shown = [] if results.suppressed else tables
        return compile_pdf(TEMPLATE, lambda folder: _Report(results, shown, lang, free_text,
                                                           folder).data())
