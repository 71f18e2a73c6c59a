"""Raw-data downloads of a questionnaire's responses (CSV, XLSX, SPSS, JSON)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/staff/results")
