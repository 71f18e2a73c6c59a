"""The PDF summary of a questionnaire's results, as a download."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/staff/results")
