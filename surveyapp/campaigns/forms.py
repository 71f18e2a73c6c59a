"""Forms of phone campaigns."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional


class CampaignForm(FlaskForm):
    """A new campaign: questionnaire, name, script, limits, interviewers."""

    questionnaire_id = SelectField(_l("Questionnaire"), coerce=int,
                                   validators=[InputRequired()])
    name = StringField(_l("Name of the campaign"), validators=[InputRequired(), Length(max=200)])
    script = TextAreaField(_l("Script for callers"), validators=[Length(max=20000)],
                           description=_l("What callers say. Only interviewers see it."))
    max_attempts = IntegerField(_l("Calls without an answer before a person is left out"),
                                default=5, validators=[InputRequired(), NumberRange(1, 20)])
    retry_minutes = IntegerField(_l("Minutes before calling again after no answer"),
                                 default=60, validators=[InputRequired(), NumberRange(0, 10080)])
    interviewers = SelectMultipleField(_l("Interviewers"), coerce=int, validate_choice=False)
    #: A random key per form: a second press of the same form leads to the first campaign.
    form_key = HiddenField()


class InterviewersForm(FlaskForm):
    """Who calls for a campaign."""

    interviewers = SelectMultipleField(_l("Interviewers"), coerce=int, validate_choice=False)


class BuildListForm(FlaskForm):
    """Whom to add to the call list."""

    source = RadioField(_l("Whom to call"), default="contacts", validators=[InputRequired()],
                        choices=[SelectChoice("contacts", _l("All contacts of the questionnaire")),
                                 SelectChoice("invitations", _l(
                                     "Contacts who have not answered their invitation yet"))])
    units = SelectMultipleField(_l("Only these units (none ticked: all units)"), coerce=int,
                                validate_choice=False)


class OutcomeForm(FlaskForm):
    """How a call ended; the attempts shown make a second press of the same button harmless."""

    attempts = HiddenField()
    callback_at = DateTimeLocalField(_l("Call back on (date and time)"),
                                     format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                     validators=[Optional()])
    note = TextAreaField(_l("Note (optional)"), validators=[Length(max=2000)])


class InterviewConsentForm(FlaskForm):
    """The interviewer confirms that the person agreed, after reading the text aloud."""

    consent = BooleanField(_l("I have read the text aloud and the person agreed to take part."))
    consent_text_id = HiddenField()
    start_key = HiddenField()


class PlainForm(FlaskForm):
    """A form that carries only its CSRF token (claiming, releasing)."""
