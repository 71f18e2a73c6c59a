"""Date: a calendar date within optional bounds."""

from datetime import date

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.question_types.base import (
    AnswerInvalid,
    AnswerValue,
    BuilderSetting,
    TypedValueType,
    definition_errors_for_settings,
    parse_number,
)


def parse_date(raw: str) -> date | None:
    """Read ``YYYY-MM-DD`` (what date inputs send) or ``DD.MM.YYYY`` / ``DD/MM/YYYY``.

    Day first, as in Germany and most respondents' countries; never month first.
    """
    raw = raw.strip()
    try:
        for separator in "./":
            if separator in raw:
                day, month, year = (int(parse_number(p) or 0) for p in raw.split(separator))
                return date(year, month, day)
        return date.fromisoformat(raw)
    except ValueError:
        return None


class Date(TypedValueType):
    """A date between ``min`` and ``max`` (ISO dates, both optional)."""

    name = "date"
    label = _l("Date")
    settings_keys = ("min", "max")
    input_kind = "date"
    summary_kind = "date"
    builder_settings = (
        BuilderSetting("min", _l("Earliest accepted date"), "date", not_above="max"),
        BuilderSetting("max", _l("Latest accepted date"), "date"),
    )

    def definition_errors(self, question: Question) -> list[str]:
        settings = question.settings or {}
        errors = definition_errors_for_settings(settings, self.settings_keys)
        bounds = {}
        for key in ("min", "max"):
            if key in settings:
                bounds[key] = parse_date(str(settings[key]))
                if bounds[key] is None or "." in str(settings[key]):
                    errors.append(f"{key} must be an ISO date (YYYY-MM-DD)")
        if bounds.get("min") and bounds.get("max") and bounds["min"] > bounds["max"]:
            errors.append("min is later than max")
        if question.options:
            errors.append("takes no options")
        return errors

    def bounds(self, question: Question) -> tuple[date | None, date | None]:
        """The earliest and latest accepted dates."""
        settings = question.settings or {}
        low, high = settings.get("min"), settings.get("max")
        return (parse_date(low) if low else None, parse_date(high) if high else None)

    def parse_value(self, question: Question, raw: str) -> AnswerValue:
        value = parse_date(raw)
        if value is None:
            raise AnswerInvalid(_l("Please enter a date like 31.12.2024."))
        low, high = self.bounds(question)
        if (low and value < low) or (high and value > high):
            raise AnswerInvalid(self.bounds_hint(question) or "")
        return AnswerValue(value_date=value)

    def bounds_hint(self, question: Question) -> str | None:
        """Say which dates are accepted, written the reader's way; ``None`` without bounds."""
        low, high = self.bounds(question)
        if low and high:
            return _l("Please enter a date from %(min)s to %(max)s.",
                      min=format_date(low), max=format_date(high))
        if low:
            return _l("Please enter a date on or after %(min)s.", min=format_date(low))
        if high:
            return _l("Please enter a date on or before %(max)s.", max=format_date(high))
        return None

    def display_value(self, value: AnswerValue) -> str:
        return value.value_date.isoformat() if value.value_date else ""
