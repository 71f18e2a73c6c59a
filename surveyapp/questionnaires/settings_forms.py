"""The settings form of a questionnaire, and the small forms of its life cycle and sharing."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from surveyapp.i18n import LANGUAGE_NAMES, language_name

#: Content languages staff can offer (those the interface also speaks, in their own names).
CONTENT_LANGUAGES = tuple(LANGUAGE_NAMES)


def language_choices(codes) -> list[SelectChoice]:
    """Languages by their own names, each marked with its language."""
    return [SelectChoice(code, language_name(code), render_kw={"lang": code}) for code in codes]


class _OwnMessage:
    """A field whose conversion error is our translated message, not WTForms' English one."""

    invalid_message = _l("Please check this value.")

    def process_formdata(self, valuelist):
        """Convert like the parent field, with our message on failure."""
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(self.invalid_message)) from error


class WholeNumberField(_OwnMessage, IntegerField):
    """A whole number."""

    invalid_message = _l("Please enter a whole number.")


class UtcDateTimeField(_OwnMessage, DateTimeLocalField):
    """A date and time, typed in UTC."""

    invalid_message = _l("Please enter a date and a time, for example 2026-12-31 18:00.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M",
                                        "%Y-%m-%dT%H:%M:%S"], **kwargs)


def _web_address(form, field) -> None:
    value = (field.data or "").strip()
    if not value:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or "." not in parts.netloc or " " in value:
        raise ValidationError(_l("Please enter a web address starting with https://, "
                                 "for example https://example.org/privacy."))


class SettingsForm(FlaskForm):
    """Languages, privacy, when and how many may answer, and who is responsible."""

    revision = HiddenField()
    languages = SelectMultipleField(
        _l("Languages offered to respondents"),
        choices=language_choices(CONTENT_LANGUAGES),
        validators=[InputRequired(_l("Please choose at least one language."))])
    base_language = SelectField(
        _l("Base language"), choices=language_choices(CONTENT_LANGUAGES),
        validators=[InputRequired(_l("Please choose the base language."))])
    is_anonymous = BooleanField(_l("Anonymous: nothing links the answers to a person or "
                                   "device after sending"))
    coarse_timestamps = BooleanField(_l("Keep only the day of sending, not the time"))
    min_group_size = WholeNumberField(
        _l("Smallest group shown in results"),
        validators=[InputRequired(_l("Please enter a whole number.")),
                    NumberRange(1, 1000, _l("Please enter a number from 1 to 1000."))])
    retention_days = WholeNumberField(
        _l("Keep complete answers for (days)"),
        validators=[InputRequired(_l("Please enter a whole number.")),
                    NumberRange(1, 3650, _l("Please enter a number from 1 to 3650."))])
    draft_days = WholeNumberField(
        _l("Keep unfinished answers for (days)"),
        validators=[InputRequired(_l("Please enter a whole number.")),
                    NumberRange(1, 365, _l("Please enter a number from 1 to 365."))])
    controller = TextAreaField(
        _l("Responsible for the data (name and address)"),
        validators=[Length(max=1000, message=_l("Please shorten this to 1000 characters."))])
    privacy_url = StringField(
        _l("Privacy notice (web address)"),
        validators=[Length(max=500, message=_l("Please shorten this to 500 characters.")),
                    _web_address])
    opens_at = UtcDateTimeField(_l("Opens at (UTC)"), validators=[Optional()])
    closes_at = UtcDateTimeField(_l("Closes at (UTC)"), validators=[Optional()])
    max_responses = WholeNumberField(
        _l("Maximum number of complete responses"),
        validators=[Optional(), NumberRange(1, 10_000_000, _l("Please enter a number from 1 "
                                                              "to 10000000."))])

    def validate_closes_at(self, field) -> None:
        """Closing must come after opening."""
        if field.data and self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("The closing time must be after the opening time."))


class ActionForm(FlaskForm):
    """A life-cycle button (close, reopen, archive); archiving asks to confirm."""

    action = HiddenField()
    confirm = BooleanField(_l("Yes, archive this questionnaire. This cannot be undone."))


class ShareForm(FlaskForm):
    """Share with a builder by e-mail address."""

    email = EmailField(_l("E-mail address of a builder"),
                       validators=[InputRequired(_l("Please enter an e-mail address.")),
                                   Length(max=254)])


class UnshareForm(FlaskForm):
    """Remove a share (the account is in the URL)."""
