"""Short text: one line of free text."""

from flask_babel import lazy_gettext as _l

from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.question_types.base import (
    AnswerValue,
    BuilderSetting,
    TypedValueType,
    definition_errors_for_settings,
    too_long,
)


class ShortText(TypedValueType):
    """A line of text up to ``max_length`` characters."""

    name = "short_text"
    label = _l("Short text")
    settings_keys = ("max_length",)
    default_length = 200
    longest = 500
    builder_settings = (
        BuilderSetting("max_length", _l("Longest answer (characters)"), "integer", 1, longest),
    )

    def max_length(self, question: Question) -> int:
        """The longest accepted answer."""
        return int((question.settings or {}).get("max_length") or self.default_length)

    def definition_errors(self, question: Question) -> list[str]:
        errors = definition_errors_for_settings(question.settings or {}, self.settings_keys)
        value = (question.settings or {}).get("max_length")
        if value is not None and (not isinstance(value, int) or not 1 <= value <= self.longest):
            errors.append(f"max_length must be a whole number from 1 to {self.longest}")
        if question.options:
            errors.append("takes no options")
        return errors

    def parse_value(self, question: Question, raw: str) -> AnswerValue:
        limit = self.max_length(question)
        if len(raw) > limit:
            raise too_long(limit)
        return AnswerValue(value_text=raw)
