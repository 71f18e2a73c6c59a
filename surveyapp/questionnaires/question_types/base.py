"""What every question type provides, and shared building blocks for the types."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from wtforms import Field, RadioField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from surveyapp.i18n import localized
from surveyapp.questionnaires.models import Question

OTHER = "_other"
PREFER_NOT = "_pna"
#: Separator between a question code and the name of one of its auxiliary inputs.
SEP = "__"


@dataclass(frozen=True)
class AnswerValue:
    """One stored value of an answer, before it becomes an ``Answer`` row."""

    option_code: str | None = None
    row_code: str | None = None
    value_text: str | None = None
    value_number: float | None = None
    value_date: date | None = None


@dataclass
class Facts:
    """What conditions may test about an answer."""

    answered: bool = False
    codes: set[str] = field(default_factory=set)
    number: float | None = None


@dataclass(frozen=True)
class Label:
    """An answer code with its label, and the language the label is in (it may fall back)."""

    code: str
    text: str
    lang: str


@dataclass(frozen=True)
class BuilderSetting:
    """One setting a type offers in the questionnaire builder, stored in ``Question.settings``.

    ``kind`` says how it is typed in and stored: ``integer``, ``number``, ``date`` (ISO) or
    ``text`` (a text per language, edited in the base language). ``not_above`` names a setting
    this one may not exceed (a minimum and its maximum).
    """

    key: str
    label: Any
    kind: str
    minimum: float | None = None
    maximum: float | None = None
    not_above: str | None = None


class AnswerInvalid(ValueError):
    """The posted answer cannot be stored; ``message`` is shown next to the question."""

    def __init__(self, message: str):
        # Resolved now, in the respondent's locale, not whenever someone prints it.
        message = str(message)
        super().__init__(message)
        self.message = message


def definition_errors_for_settings(
    settings: Mapping[str, Any], allowed: Iterable[str]
) -> list[str]:
    """Name the settings a type does not know."""
    unknown = sorted(set(settings) - set(allowed))
    return [f"unknown setting(s): {', '.join(unknown)}"] if unknown else []


def text_of(form, name: str) -> str:
    """The stripped text posted for ``name`` (empty when absent)."""
    value = form[name].data if name in form else None
    return (value or "").strip()


#: Longest "Other, please specify" text.
OTHER_MAX_LENGTH = 200


def too_long(limit: int) -> AnswerInvalid:
    """The error for a text longer than ``limit`` characters."""
    return AnswerInvalid(ngettext("Please shorten your answer to %(num)d character.",
                                  "Please shorten your answer to %(num)d characters.", limit))


def other_text(question: Question, form) -> str:
    """The text typed next to "Other", which must be given when "Other" is chosen."""
    other = text_of(form, question.code + SEP + "other")
    if not other:
        raise AnswerInvalid(_l("You chose “Other”: please say what you mean."))
    if len(other) > OTHER_MAX_LENGTH:
        raise too_long(OTHER_MAX_LENGTH)
    return other


def prefer_not_field() -> Field:
    """The 'prefer not to answer' checkbox of a non-choice question."""
    from wtforms import BooleanField

    return BooleanField(false_values=(False, "false", "", "0"))


class QuestionType:
    """Base of the registry: a type owns its inputs, validation, storage and condition facts."""

    name: ClassVar[str]
    label: ClassVar[Any]
    uses_options: ClassVar[bool] = False
    uses_rows: ClassVar[bool] = False
    allows_other: ClassVar[bool] = False
    settings_keys: ClassVar[tuple[str, ...]] = ()
    condition_ops: ClassVar[frozenset[str]] = frozenset({"answered", "not_answered"})
    #: What a condition compares this type's answer with: ``"codes"`` (its options),
    #: ``"number"`` (a typed number) or ``"none"`` (only whether it was answered).
    condition_operand: ClassVar[str] = "none"
    #: How results summarise the answers: choice, multiple, scale, matrix, number, date, text.
    summary_kind: ClassVar[str] = "text"
    #: Answers that name or reach a person (e-mail): counted in results, never listed.
    is_personal: ClassVar[bool] = False
    #: The settings the builder offers for this type (a subset of ``settings_keys``).
    builder_settings: ClassVar[tuple[BuilderSetting, ...]] = ()
    #: A sentence the builder shows under the question form (what the type does by itself).
    builder_hint: ClassVar[Any] = None
    #: Answers name a unit (``unit_code``): saving them attributes the response to that unit
    #: (``responses.services.save_answers``).
    sets_unit: ClassVar[bool] = False

    @property
    def template(self) -> str:
        """The Jinja template that renders this type's inputs."""
        return f"question_types/{self.name}.html"

    def definition_errors(self, question: Question) -> list[str]:
        """Problems with a question's definition (settings, options), for importers and builders."""
        errors = definition_errors_for_settings(question.settings or {}, self.settings_keys)
        if self.uses_options and not question.options:
            errors.append("needs at least one option")
        if self.uses_rows and not question.rows:
            errors.append("needs at least one row")
        if not self.uses_options and question.options:
            errors.append("takes no options")
        if question.has_other and not self.allows_other:
            errors.append("cannot have 'other'")
        return errors

    def form_fields(self, question: Question) -> dict[str, Field]:
        """Unbound WTForms fields by input name; the main one is named by the question code."""
        raise NotImplementedError

    def parse(self, question: Question, form) -> list[AnswerValue]:
        """Turn the posted inputs into values to store; raise ``AnswerInvalid`` with a message."""
        raise NotImplementedError

    def form_data(self, question: Question, values: list[AnswerValue]) -> dict[str, Any]:
        """Stored values back to input data, to fill the form again."""
        raise NotImplementedError

    def facts(self, values: list[AnswerValue]) -> Facts:
        """What a condition can see of this answer."""
        return Facts(answered=bool(values))

    def all_codes(self, question: Question) -> list[str]:
        """Option codes an answer may hold (none for typed values)."""
        return []

    def unit_code(self, values: list[AnswerValue]) -> str | None:
        """The code of the unit an answer names, for types that ``sets_unit``."""
        return None

    def input_names(self, question: Question) -> list[str]:
        """Every form input name this question reads."""
        return list(self.form_fields(question))

    def answer_labels(self, question: Question, lang: str, base: str) -> list[Label]:
        """Every code an answer may hold with its label in ``lang``, in display order.

        Interface-worded labels ("Other", "Yes") follow Flask-Babel's current locale, so a
        report built under ``force_locale(lang)`` reads in one language.
        """
        labels = [Label(o.code, *localized(o.label, lang, base)) for o in question.options]
        if question.has_other and self.allows_other:
            labels.append(Label(OTHER, str(_l("Other")), lang))
        if question.has_prefer_not:
            labels.append(Label(PREFER_NOT, str(_l("Prefer not to answer")), lang))
        return labels


class ChoiceType(QuestionType):
    """Shared logic of single choice, dropdown, yes/no and rating: one code out of a list."""

    allows_other = True
    uses_options = True
    condition_ops = frozenset({"answered", "not_answered", "equals", "one_of", "not"})
    condition_operand = "codes"
    summary_kind = "choice"

    def codes(self, question: Question) -> list[str]:
        """The answer codes a respondent may choose (without _other and _pna)."""
        return [o.code for o in question.options]

    def all_codes(self, question: Question) -> list[str]:
        """Every accepted code, including the reserved ones this question enables."""
        codes = self.codes(question)
        if question.has_other:
            codes.append(OTHER)
        if question.has_prefer_not:
            codes.append(PREFER_NOT)
        return codes

    def form_fields(self, question: Question) -> dict[str, Field]:
        fields: dict[str, Field] = {
            question.code: RadioField(choices=self.all_codes(question), validate_choice=False)
        }
        if question.has_other:
            fields[question.code + SEP + "other"] = StringField()
        return fields

    def parse(self, question: Question, form) -> list[AnswerValue]:
        code = text_of(form, question.code)
        if not code:
            return []
        if code not in self.all_codes(question):
            raise AnswerInvalid(_l("Please choose one of the options shown."))
        if code == OTHER:
            return [AnswerValue(option_code=OTHER, value_text=other_text(question, form))]
        return [AnswerValue(option_code=code)]

    def form_data(self, question: Question, values: list[AnswerValue]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for value in values:
            data[question.code] = value.option_code
            if value.option_code == OTHER:
                data[question.code + SEP + "other"] = value.value_text
        return data

    def facts(self, values: list[AnswerValue]) -> Facts:
        codes = {v.option_code for v in values if v.option_code and v.option_code != PREFER_NOT}
        return Facts(answered=bool(values), codes=codes)


class MultiCheckbox(SelectMultipleField):
    """Checkboxes that accept any posted code; the type validates the codes itself."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        pass


class TypedValueType(QuestionType):
    """Shared logic of the types that store one typed value (text, number, date, e-mail)."""

    input_kind = "text"

    def form_fields(self, question: Question) -> dict[str, Field]:
        fields: dict[str, Field] = {question.code: StringField()}
        if question.has_prefer_not:
            fields[question.code + SEP + "pna"] = prefer_not_field()
        return fields

    def parse(self, question: Question, form) -> list[AnswerValue]:
        raw = text_of(form, question.code)
        pna_name = question.code + SEP + "pna"
        if question.has_prefer_not and pna_name in form and form[pna_name].data:
            if raw:
                raise AnswerInvalid(
                    _l("Please either answer or choose “Prefer not to answer”, not both.")
                )
            return [AnswerValue(option_code=PREFER_NOT)]
        if not raw:
            return []
        return [self.parse_value(question, raw)]

    def parse_value(self, question: Question, raw: str) -> AnswerValue:
        """Validate and convert one non-empty posted value."""
        raise NotImplementedError

    def display_value(self, value: AnswerValue) -> str:
        """The stored value as the input shows it."""
        return value.value_text or ""

    def form_data(self, question: Question, values: list[AnswerValue]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for value in values:
            if value.option_code == PREFER_NOT:
                data[question.code + SEP + "pna"] = True
            else:
                data[question.code] = self.display_value(value)
        return data


NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")


def parse_number(raw: str) -> float | None:
    """Read a number typed as ``12``, ``12.5`` or ``12,5`` (German decimal comma)."""
    # Western digits only after normalising Arabic-Indic and Persian digits, which phones type.
    digits = raw.translate(ARABIC_DIGITS).replace("\u066b", ".").replace(" ", "")
    if not NUMBER.match(digits):
        return None
    return float(digits.replace(",", "."))


ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
