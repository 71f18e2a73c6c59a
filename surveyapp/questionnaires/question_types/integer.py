"""Integer: a whole number within optional bounds."""

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.question_types.base import (
    AnswerInvalid,
    AnswerValue,
    BuilderSetting,
    Facts,
    TypedValueType,
    definition_errors_for_settings,
    parse_number,
)


class Integer(TypedValueType):
    """A whole number between ``min`` and ``max`` (both optional)."""

    name = "integer"
    label = _l("Whole number")
    settings_keys = ("min", "max")
    input_kind = "numeric"
    summary_kind = "number"
    condition_ops = frozenset({"answered", "not_answered", "equals", "lt", "le", "gt", "ge"})
    condition_operand = "number"
    whole = True
    builder_settings = (
        BuilderSetting("min", _l("Smallest accepted number"), "integer", not_above="max"),
        BuilderSetting("max", _l("Largest accepted number"), "integer"),
    )

    def definition_errors(self, question: Question) -> list[str]:
        settings = question.settings or {}
        errors = definition_errors_for_settings(settings, self.settings_keys)
        for key in ("min", "max"):
            value = settings.get(key)
            is_number = isinstance(value, int | float) and not isinstance(value, bool)
            if value is not None and not is_number:
                errors.append(f"{key} must be a number")
        low, high = settings.get("min"), settings.get("max")
        if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
            errors.append("min is larger than max")
        if question.options:
            errors.append("takes no options")
        return errors

    def parse_value(self, question: Question, raw: str) -> AnswerValue:
        number = parse_number(raw)
        if number is None or (self.whole and not number.is_integer()):
            raise AnswerInvalid(
                _l("Please enter a whole number, like 12.")
                if self.whole
                else _l("Please enter a number, like 12.5.")
            )
        settings = question.settings or {}
        low, high = settings.get("min"), settings.get("max")
        if (low is not None and number < low) or (high is not None and number > high):
            raise AnswerInvalid(self.bounds_message(low, high))
        return AnswerValue(value_number=number)

    def bounds_message(self, low, high) -> str:
        """Say which range is accepted, with numbers written the reader's way."""
        if low is not None and high is not None:
            return _l(
                "Please enter a number from %(min)s to %(max)s.",
                min=format_decimal(low),
                max=format_decimal(high),
            )
        if low is not None:
            return _l("Please enter a number of at least %(min)s.", min=format_decimal(low))
        return _l("Please enter a number of at most %(max)s.", max=format_decimal(high))

    def bounds_hint(self, question: Question) -> str | None:
        """A hint naming the accepted range, or ``None`` when there is none."""
        settings = question.settings or {}
        low, high = settings.get("min"), settings.get("max")
        if low is None and high is None:
            return None
        return self.bounds_message(low, high)

    def display_value(self, value: AnswerValue) -> str:
        number = value.value_number
        if number is None:
            return ""
        return str(int(number)) if number.is_integer() else str(number)

    def facts(self, values: list[AnswerValue]) -> Facts:
        numbers = [v.value_number for v in values if v.value_number is not None]
        return Facts(answered=bool(values), number=numbers[0] if numbers else None)
