"""The consent editor's form: the text of one language (purposes are read from the request)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length


class ConsentEditForm(FlaskForm):
    """The consent text of one language, and the version it was opened at."""

    based_on = HiddenField()
    body = TextAreaField(
        _l("Consent text"),
        validators=[Length(max=20_000, message=_l("Please shorten this to 20000 characters."))])
