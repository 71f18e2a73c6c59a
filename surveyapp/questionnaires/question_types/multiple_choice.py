"""Multiple choice: checkboxes, with optional minimum and maximum number of selections."""

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from wtforms import Field, StringField

from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.question_types.base import (
    OTHER,
    PREFER_NOT,
    SEP,
    AnswerInvalid,
    AnswerValue,
    BuilderSetting,
    ChoiceType,
    MultiCheckbox,
    other_text,
)


class MultipleChoice(ChoiceType):
    """Any number of options (within bounds), one answer row per chosen option."""

    name = "multiple_choice"
    label = _l("Multiple choice")
    settings_keys = ("min_selections", "max_selections")
    summary_kind = "multiple"
    builder_settings = (
        BuilderSetting("min_selections", _l("Fewest options to choose"), "integer", 1,
                       not_above="max_selections"),
        BuilderSetting("max_selections", _l("Most options to choose"), "integer", 1),
    )

    def definition_errors(self, question: Question) -> list[str]:
        errors = super().definition_errors(question)
        settings = question.settings or {}
        low, high = settings.get("min_selections"), settings.get("max_selections")
        for key, value in (("min_selections", low), ("max_selections", high)):
            if value is not None and (not isinstance(value, int) or value < 1):
                errors.append(f"{key} must be a whole number of at least 1")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            errors.append("min_selections is larger than max_selections")
        return errors

    def form_fields(self, question: Question) -> dict[str, Field]:
        fields: dict[str, Field] = {question.code: MultiCheckbox(choices=self.all_codes(question))}
        if question.has_other:
            fields[question.code + SEP + "other"] = StringField()
        return fields

    def parse(self, question: Question, form) -> list[AnswerValue]:
        chosen = [c for c in (form[question.code].data or []) if c]
        if not chosen:
            return []
        allowed = self.all_codes(question)
        if any(code not in allowed for code in chosen) or len(set(chosen)) != len(chosen):
            raise AnswerInvalid(_l("Please choose among the options shown."))
        if PREFER_NOT in chosen:
            if len(chosen) > 1:
                raise AnswerInvalid(
                    _l("“Prefer not to answer” cannot be combined with other options.")
                )
            return [AnswerValue(option_code=PREFER_NOT)]
        settings = question.settings or {}
        low, high = settings.get("min_selections"), settings.get("max_selections")
        if low and len(chosen) < low:
            raise AnswerInvalid(
                ngettext(
                    "Please choose at least %(num)d option.",
                    "Please choose at least %(num)d options.",
                    low,
                )
            )
        if high and len(chosen) > high:
            raise AnswerInvalid(
                ngettext(
                    "Please choose at most %(num)d option.",
                    "Please choose at most %(num)d options.",
                    high,
                )
            )
        values = []
        for code in chosen:
            if code == OTHER:
                values.append(AnswerValue(option_code=OTHER,
                                          value_text=other_text(question, form)))
            else:
                values.append(AnswerValue(option_code=code))
        return values

    def form_data(self, question: Question, values: list[AnswerValue]) -> dict[str, Any]:
        data: dict[str, Any] = {question.code: [v.option_code for v in values]}
        for value in values:
            if value.option_code == OTHER:
                data[question.code + SEP + "other"] = value.value_text
        return data
