"""Forms of the builder: starting a questionnaire, texts, pages, and the question editor."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import MultiDict
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from surveyapp.builder.services import QuestionChange
from surveyapp.i18n import LANGUAGE_NAMES
from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.question_types import REGISTRY, BuilderSetting
from surveyapp.questionnaires.question_types.base import parse_number

SLUG_HINT = _l("Lower-case letters, digits and hyphens, for example “exit-2025”. Leave "
               "empty to make one from the title.")
SLUG_VALIDATORS = [Optional(), Length(min=2, max=64),
                   Regexp(r"^[a-z0-9][a-z0-9-]+$", message=_l(
                       "Use lower-case letters, digits and hyphens only."))]


class CheckboxList(SelectMultipleField):
    """Checkboxes in a list."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def language_choices() -> list[tuple[str, str]]:
    """The languages a questionnaire can be offered in, by their own names."""
    return list(LANGUAGE_NAMES.items())


class StartForm(FlaskForm):
    """What every way of starting shares: a random key that makes a second press harmless."""

    start_key = HiddenField()


class BlankForm(StartForm):
    """A new, empty questionnaire."""

    title = StringField(_l("Title"), validators=[DataRequired(_l("Please give a title.")),
                                                 Length(max=200)])
    slug = StringField(_l("Web address"), validators=SLUG_VALIDATORS, description=SLUG_HINT)
    base_language = SelectField(_l("Language you write it in"), choices=language_choices,
                                default="de")
    languages = CheckboxList(_l("Further languages for respondents"), choices=language_choices)


class TemplateForm(StartForm):
    """A new questionnaire from one of the demo questionnaires."""

    template = RadioField(_l("Template"), validators=[DataRequired(_l("Please choose a "
                                                                      "template."))])
    slug = StringField(_l("Web address"), validators=SLUG_VALIDATORS, description=SLUG_HINT)


class CopyForm(StartForm):
    """A new questionnaire as a copy of one the person may work on."""

    source = SelectField(_l("Questionnaire to copy"),
                         validators=[DataRequired(_l("Please choose a questionnaire."))])
    slug = StringField(_l("Web address"), validators=SLUG_VALIDATORS, description=SLUG_HINT)


class UploadForm(StartForm):
    """A new questionnaire from a JSON definition file."""

    file = FileField(_l("Definition file (.json)"),
                     validators=[FileRequired(_l("Please choose a file."))])
    slug = StringField(_l("Web address"), validators=SLUG_VALIDATORS,
                       description=_l("Leave empty to use the one in the file."))


class TextsForm(FlaskForm):
    """Title, introduction and thank-you text in the base language."""

    token = HiddenField()
    title = StringField(_l("Title"), validators=[DataRequired(_l("Please give a title.")),
                                                 Length(max=200)])
    intro = TextAreaField(_l("Introduction"), validators=[Length(max=5000)],
                          description=_l("A blank line starts a new paragraph."))
    thank_you = TextAreaField(_l("Thank-you text"), validators=[Length(max=5000)])


def read_setting(setting: BuilderSetting, raw: str) -> tuple[object, str | None]:
    """A setting's typed-in value converted for storage, or an error message."""
    raw = (raw or "").strip()
    if not raw:
        return None, None
    if setting.kind == "text":
        return raw[:500], None
    if setting.kind == "date":
        try:
            return date.fromisoformat(raw).isoformat(), None
        except ValueError:
            return None, _("Please enter a date like 2025-12-31.")
    number = parse_number(raw)
    if number is None or (setting.kind == "integer" and not number.is_integer()):
        return None, (_("Please enter a whole number.") if setting.kind == "integer"
                      else _("Please enter a number."))
    value: int | float = int(number) if setting.kind == "integer" else number
    if setting.minimum is not None and value < setting.minimum:
        return None, _("Please enter at least %(min)s.", min=setting.minimum)
    if setting.maximum is not None and value > setting.maximum:
        return None, _("Please enter at most %(max)s.", max=setting.maximum)
    return value, None


ACTION = re.compile(r"^(delete|up|down|duplicate):(\d+)$")


def _choices(form: MultiDict, prefix: str) -> list[tuple[int, str, str]]:
    """``[(id, code, label)]`` posted for existing options or rows, in the posted order."""
    ids = [int(x) for x in (form.get(f"{prefix}_order") or "").split() if x.isdigit()]
    return [(option_id, (form.get(f"{prefix}-{option_id}-code") or "").strip(),
             (form.get(f"{prefix}-{option_id}-label") or "").strip()) for option_id in ids]


def read_question_form(form: MultiDict) -> tuple[QuestionChange, dict[str, str]]:
    """Read the question editor's post; errors by field name, translated.

    Written by hand rather than as a WTForms class: the form's fields depend on the type and
    on the number of options, and a page shows hundreds of them (see benchmarks/builder.py).
    """
    errors: dict[str, str] = {}
    type_name = form.get("type") or ""
    question_type = REGISTRY.get(type_name)
    if question_type is None:
        errors["type"] = _("Please choose a type of question.")
    text = (form.get("text") or "").strip()
    if not text:
        errors["text"] = _("Please write the question.")
    elif len(text) > 2000:
        errors["text"] = _("Please shorten the text to 2000 characters.")
    help_text = (form.get("help") or "").strip()
    if len(help_text) > 2000:
        errors["help"] = _("Please shorten the text to 2000 characters.")
    settings: dict[str, object] = {}
    for setting in question_type.builder_settings if question_type else ():
        value, error = read_setting(setting, form.get(f"setting-{setting.key}", ""))
        if error:
            errors[f"setting-{setting.key}"] = error
        settings[setting.key] = value
    for setting in question_type.builder_settings if question_type else ():
        other = setting.not_above
        if other and settings.get(setting.key) is not None and settings.get(other) is not None \
                and settings[setting.key] > settings[other]:
            errors[f"setting-{setting.key}"] = _("This may not be larger than the value below.")
    options = _choices(form, "option")
    rows = _choices(form, "row")
    for prefix, items in (("option", options), ("row", rows)):
        for option_id, _code, label in items:
            if not label:
                errors[f"{prefix}-{option_id}-label"] = _("Please write a label, or remove "
                                                          "the option.")
    action = ACTION.match(form.get("action") or "")
    change = QuestionChange(
        code=(form.get("code") or "").strip(), type_name=type_name,
        is_required=form.get("required") == "y", text=text, help=help_text,
        has_other=form.get("other") == "y", has_prefer_not=form.get("prefer_not") == "y",
        settings=settings, options=options, rows=rows,
        new_options=_lines(form.get("new_options")), new_rows=_lines(form.get("new_rows")),
        action=(action.group(1), int(action.group(2))) if action else None,
        raw_settings={s.key: form.get(f"setting-{s.key}", "")
                      for s in (question_type.builder_settings if question_type else ())})
    return change, errors


def _lines(value: str | None) -> list[str]:
    return [line.strip()[:500] for line in (value or "").splitlines() if line.strip()]


def typed_values(question: Question, change: QuestionChange | None, base: str) -> dict:
    """What the question editor shows: what was typed (after a refused save) or what is stored."""
    if change is not None:
        return {
            "code": change.code, "type": change.type_name, "required": change.is_required,
            "text": change.text, "help": change.help, "other": change.has_other,
            "prefer_not": change.has_prefer_not,
            "settings": change.raw_settings,
            "options": change.options, "rows": change.rows,
            "new_options": "\n".join(change.new_options), "new_rows": "\n".join(change.new_rows),
        }
    settings = {}
    for setting in REGISTRY[question.type].builder_settings:
        value = (question.settings or {}).get(setting.key)
        if setting.kind == "text":
            value = (value or {}).get(base, "")
        settings[setting.key] = "" if value is None else value
    return {
        "code": question.code, "type": question.type, "required": question.is_required,
        "text": question.text.get(base, ""), "help": (question.help or {}).get(base, ""),
        "other": question.has_other, "prefer_not": question.has_prefer_not,
        "settings": settings,
        "options": [(o.id, o.code, o.label.get(base, "")) for o in question.options],
        "rows": [(r.id, r.code, r.label.get(base, "")) for r in question.rows],
        "new_options": "", "new_rows": "",
    }
