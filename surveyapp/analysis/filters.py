"""Which responses a result, report or export is about: one filter, read from a URL or the CLI.

The same ``ResultFilter`` drives every view, report and export, and goes back into the URL
(``to_args``), so a filtered view can be bookmarked and its PDF and CSV carry the same filter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from surveyapp.accounts.models import Unit
from surveyapp.accounts.services import unit_with_descendants
from surveyapp.analysis.catalogue import Catalogue
from surveyapp.db import db
from surveyapp.programmes.services import stage_choices, stage_scope
from surveyapp.responses.models import Answer, Channel, Response, ResponseStatus

#: Query-string prefix of an answer filter: ``q.gender=f`` keeps responses that chose ``f``.
ANSWER_PREFIX = "q."


@dataclass(frozen=True)
class ResultFilter:
    """A subset of a questionnaire's responses; an empty filter means all of them."""

    #: Unit code; its sub-units are included.
    unit: str | None = None
    languages: tuple[str, ...] = ()
    channel: str | None = None
    #: First and last day (inclusive, UTC) of submission.
    date_from: date | None = None
    date_to: date | None = None
    #: Questionnaire version number.
    version: int | None = None
    #: Programme stage id: the units taking part in it (with sub-units), within its dates.
    stage: int | None = None
    #: (question code, answer codes): responses that chose any of the codes.
    answers: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether the filter keeps every response."""
        return self == ResultFilter()

    def to_args(self) -> list[tuple[str, str]]:
        """The filter as query-string pairs, for links to the same subset."""
        args: list[tuple[str, str]] = []
        if self.unit:
            args.append(("unit", self.unit))
        args += [("lang", lang) for lang in self.languages]
        if self.channel:
            args.append(("channel", self.channel))
        if self.date_from:
            args.append(("from", self.date_from.isoformat()))
        if self.date_to:
            args.append(("to", self.date_to.isoformat()))
        if self.version is not None:
            args.append(("version", str(self.version)))
        if self.stage is not None:
            args.append(("stage", str(self.stage)))
        for code, values in self.answers:
            args += [(ANSWER_PREFIX + code, value) for value in values]
        return args

    def describe(self, catalogue: Catalogue) -> list[tuple[str, str]]:
        """The filter in words, as (what, value) pairs in the current locale."""
        from surveyapp.i18n import language_name

        parts: list[tuple[str, str]] = []
        if self.unit:
            unit = db.session.scalar(sa.select(Unit).filter_by(code=self.unit))
            parts.append((_("Unit"), _("%(name)s and its sub-units",
                                      name=unit.name if unit else self.unit)))
        if self.languages:
            parts.append((_("Language"), ", ".join(language_name(x) for x in self.languages)))
        if self.channel:
            parts.append((_("Channel"), channel_label(self.channel)))
        if self.date_from or self.date_to:
            parts.append((_("Submitted"), _("%(start)s to %(end)s",
                                          start=self.date_from or "…", end=self.date_to or "…")))
        if self.version is not None:
            parts.append((_("Version"), str(self.version)))
        if self.stage is not None:
            parts.append((_("Programme stage"), stage_label(self.stage)))
        for code, values in self.answers:
            question = catalogue.get(code)
            if question is not None:
                parts.append((question.text, " / ".join(question.label_of(v) for v in values)))
        return parts


def channel_label(channel: str) -> str:
    """A channel's name in the current locale."""
    return {"web": _("Online"), "phone": _("By phone")}.get(channel, channel)


def stage_label(stage_id: int) -> str:
    """A stage's name with its programme and dates, in the current locale."""
    return dict(stage_choices()).get(stage_id, str(stage_id))


def _parse_day(value: str | None) -> date | None:
    if not value:
        return None
    return date.fromisoformat(value)


def parse_filter(args, catalogue: Catalogue) -> tuple[ResultFilter, list[str]]:
    """Read a filter from query arguments (anything with ``get`` and ``getlist``).

    Returns the filter with every understood part, and a translated message for each part
    that was not understood (and left out), so a mistyped URL never silently means "all".
    """
    errors: list[str] = []
    questionnaire = catalogue.questionnaire
    unit = (args.get("unit") or "").strip() or None
    if unit and not unit_with_descendants(unit):
        errors.append(_("There is no unit with the code “%(code)s”.", code=unit))
        unit = None
    languages = tuple(x for x in args.getlist("lang") if x)
    unknown = [x for x in languages if x not in questionnaire.languages]
    if unknown:
        errors.append(_("This questionnaire is not offered in “%(lang)s”.", lang=unknown[0]))
        languages = tuple(x for x in languages if x in questionnaire.languages)
    channel = args.get("channel") or None
    if channel and channel not in {c.value for c in Channel}:
        errors.append(_("Unknown channel “%(channel)s”.", channel=channel))
        channel = None
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        try:
            days[name] = _parse_day(args.get(name))
        except ValueError:
            errors.append(_("Please give dates as YYYY-MM-DD, for example 2026-03-31."))
            days[name] = None
    if days["from"] and days["to"] and days["from"] > days["to"]:
        errors.append(_("The first day is after the last day."))
        days = {"from": None, "to": None}
    version: int | None = None
    if args.get("version"):
        try:
            version = int(args["version"])
        except ValueError:
            version = -1
        if version not in catalogue.version_numbers.values():
            errors.append(_("There is no published version %(number)s.",
                            number=args["version"]))
            version = None
    stage: int | None = None
    if args.get("stage"):
        try:
            stage = int(args["stage"])
            stage_scope(stage)
        except (ValueError, LookupError):
            errors.append(_("There is no programme stage “%(stage)s”.", stage=args["stage"]))
            stage = None
    answers: list[tuple[str, tuple[str, ...]]] = []
    for key in sorted({k for k in args if k.startswith(ANSWER_PREFIX)}):
        code = key[len(ANSWER_PREFIX):]
        question = catalogue.get(code)
        values = tuple(v for v in args.getlist(key) if v)
        if not values:
            continue
        if question is None or not question.is_choice:
            errors.append(_("Answers to “%(code)s” cannot be used as a filter.", code=code))
            continue
        known = {label.code for label in question.labels}
        if not set(values) <= known:
            errors.append(_("“%(question)s” has no answer with the code “%(code)s”.",
                            question=question.text,
                            code=next(v for v in values if v not in known)))
            continue
        answers.append((code, values))
    return ResultFilter(unit=unit, languages=languages, channel=channel,
                        date_from=days["from"], date_to=days["to"], version=version,
                        stage=stage, answers=tuple(answers)), errors


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def responses_where(catalogue: Catalogue, flt: ResultFilter,
                    statuses: Iterable[ResponseStatus] = (ResponseStatus.COMPLETE,)
                    ) -> list[sa.ColumnElement[bool]]:
    """SQL conditions on ``Response`` for the filtered responses with one of ``statuses``.

    Preview answers never count; withdrawn responses are excluded by their status.
    """
    statuses = list(statuses)
    conditions: list[sa.ColumnElement[bool]] = [
        Response.questionnaire_id == catalogue.questionnaire.id,
        Response.status.in_(statuses) if len(statuses) > 1 else Response.status == statuses[0],
        Response.is_preview.is_(False),
    ]
    if flt.unit:
        conditions.append(Response.unit_id.in_(unit_with_descendants(flt.unit)))
    if flt.languages:
        conditions.append(Response.language.in_(flt.languages))
    if flt.channel:
        conditions.append(Response.channel == Channel(flt.channel))
    moment = (Response.submitted_at if statuses == [ResponseStatus.COMPLETE]
              else sa.func.coalesce(Response.submitted_at, Response.started_at))
    if flt.date_from:
        conditions.append(moment >= _utc_midnight(flt.date_from))
    if flt.date_to:
        conditions.append(moment < _utc_midnight(flt.date_to + timedelta(days=1)))
    if flt.stage is not None:
        # The stage's units, and its days counted in whole (UTC), like the date filter.
        unit_ids, first_day, last_day = stage_scope(flt.stage)
        conditions += [Response.unit_id.in_(unit_ids),
                       moment >= _utc_midnight(first_day),
                       moment < _utc_midnight(last_day + timedelta(days=1))]
    if flt.version is not None:
        ids = [vid for vid, number in catalogue.version_numbers.items()
               if number == flt.version]
        conditions.append(Response.version_id.in_(ids))
    for code, values in flt.answers:
        question = catalogue.get(code)
        assert question is not None  # parse_filter checked it
        conditions.append(Response.id.in_(
            sa.select(Answer.response_id).where(Answer.question_id.in_(question.ids),
                                                Answer.option_code.in_(values))))
    return conditions


def selected_ids(catalogue: Catalogue, flt: ResultFilter,
                 statuses: Iterable[ResponseStatus] = (ResponseStatus.COMPLETE,)) -> sa.Select:
    """``SELECT responses.id`` of the filtered responses, to use as a subquery."""
    return sa.select(Response.id).where(*responses_where(catalogue, flt, statuses))
