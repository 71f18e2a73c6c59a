"""Forms of the invitation pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from surveyapp.fieldwork.services import DEFAULT_VALID_DAYS, MAX_CODES


class UploadForm(FlaskForm):
    """A CSV file of contacts."""

    file = FileField(_l("Contact list (CSV file)"))
    valid_days = IntegerField(_l("Links are valid for (days)"), default=DEFAULT_VALID_DAYS,
                              validators=[InputRequired(), NumberRange(min=1, max=730)])


class ImportValidForm(FlaskForm):
    """The second, deliberate step: import the rows that passed and skip the others."""

    contents = HiddenField(validators=[InputRequired()])
    valid_days = HiddenField(validators=[Optional()])


class CodesForm(FlaskForm):
    """How many anonymous codes to create."""

    count = IntegerField(_l("Number of codes"), default=50,
                         validators=[InputRequired(), NumberRange(min=1, max=MAX_CODES)])
    valid_days = IntegerField(_l("Codes are valid for (days)"), default=DEFAULT_VALID_DAYS,
                              validators=[InputRequired(), NumberRange(min=1, max=730)])
    #: Random per rendered form: a double click creates the codes once.
    batch_key = HiddenField(validators=[Optional(), Length(max=64)])


class ActionForm(FlaskForm):
    """A button that changes something or hands data out: only a CSRF token."""


class InvitationLookupForm(FlaskForm):
    """An invitation link, token or e-mail address a person gives to staff."""

    address = StringField(_l("Invitation link or e-mail address"),
                          validators=[Length(max=300)])
