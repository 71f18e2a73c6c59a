"""Rating: a 0-10 scale (also serves NPS), with optional end labels."""

from flask_babel import lazy_gettext as _l

from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.question_types.base import (
    PREFER_NOT,
    AnswerValue,
    BuilderSetting,
    ChoiceType,
    Facts,
    Label,
    definition_errors_for_settings,
)

SCALE = [str(n) for n in range(11)]


class Rating(ChoiceType):
    """A point on a 0-10 scale, stored as a number and as its code."""

    name = "rating"
    label = _l("Rating scale 0-10")
    uses_options = False
    allows_other = False
    settings_keys = ("min_label", "max_label")
    summary_kind = "scale"
    builder_settings = (
        BuilderSetting("min_label", _l("Label at 0"), "text"),
        BuilderSetting("max_label", _l("Label at 10"), "text"),
    )
    condition_ops = frozenset(
        {"answered", "not_answered", "equals", "lt", "le", "gt", "ge"}
    )
    condition_operand = "number"

    def definition_errors(self, question: Question) -> list[str]:
        errors = definition_errors_for_settings(question.settings or {}, self.settings_keys)
        for key in self.settings_keys:
            if key in question.settings and not isinstance(question.settings[key], dict):
                errors.append(f"{key} must be a text object by language")
        if question.options:
            errors.append("takes no options")
        return errors

    def codes(self, question: Question) -> list[str]:
        return list(SCALE)

    def answer_labels(self, question: Question, lang: str, base: str) -> list[Label]:
        numbers = [Label(code, code, lang) for code in SCALE]
        return numbers + super().answer_labels(question, lang, base)

    def parse(self, question: Question, form) -> list[AnswerValue]:
        values = super().parse(question, form)
        return [
            AnswerValue(option_code=v.option_code, value_number=float(v.option_code))
            if v.option_code != PREFER_NOT
            else v
            for v in values
        ]

    def facts(self, values: list[AnswerValue]) -> Facts:
        numbers = [v.value_number for v in values if v.value_number is not None]
        return Facts(answered=bool(values), number=numbers[0] if numbers else None)
