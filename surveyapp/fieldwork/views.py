"""Personal invitations: contact lists, anonymous codes, sending, and the respondent's link."""

from __future__ import annotations

from flask import Blueprint

from surveyapp.fieldwork import models  # noqa: F401  (the tables exist once the app does)

bp = Blueprint("invitations", __name__, template_folder="templates")
