"""Upload form for a translated spreadsheet."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired


class WorkbookUploadForm(FlaskForm):
    """A filled-in translation spreadsheet."""

    workbook = FileField(
        _l("Translated spreadsheet (.xlsx)"),
        validators=[FileRequired(_l("Please choose a file.")),
                    FileAllowed(["xlsx"], _l("Please choose an .xlsx file."))],
    )


class SideBySideForm(FlaskForm):
    """A screen of translations (the texts are read from the request by key)."""
