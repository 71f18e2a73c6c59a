"""Results pages for evaluators: summaries, filters and cross-tabs of one questionnaire."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("analysis", __name__, url_prefix="/staff/results", template_folder="templates")
