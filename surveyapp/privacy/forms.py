"""Forms of the personal-data pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length


class LookupForm(FlaskForm):
    """The receipt code a person gives to staff (sent by POST, so it never lands in logs)."""

    code = StringField(_l("Receipt code"), validators=[Length(max=40)])


class EraseForm(FlaskForm):
    """Erasure needs a deliberate second step."""

    confirm = BooleanField(
        _l("I have checked who is asking and want to erase these answers for good.")
    )
