"""The audit log for admins."""

from __future__ import annotations

from flask import Blueprint, render_template

from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.audit.services import recent

bp = Blueprint("audit", __name__, url_prefix="/staff/audit", template_folder="templates")


@bp.route("/")
@permission_required(Permission.MANAGE_PERSONAL_DATA)
def index():
    """The newest entries of the audit log."""
    return render_template("audit/index.html", entries=recent())
