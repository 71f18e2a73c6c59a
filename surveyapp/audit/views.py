"""The audit log for admins."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from surveyapp.accounts.models import User
from surveyapp.accounts.permissions import Permission, permission_required
from surveyapp.audit.services import actions, search
from surveyapp.db import db
from surveyapp.questionnaires.services import list_questionnaires

bp = Blueprint("audit", __name__, url_prefix="/staff/audit", template_folder="templates")


@bp.route("/")
@permission_required(Permission.MANAGE_PERSONAL_DATA)
def index():
    """The log, newest first, filtered by questionnaire and action, a page at a time."""
    slugs = [q.slug for q in list_questionnaires()]
    slug = request.args.get("questionnaire") if request.args.get("questionnaire") in slugs \
        else None
    known = actions()
    action = request.args.get("action") if request.args.get("action") in known else None
    try:
        page = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page = 1
    entries, has_more = search(slug=slug, action=action, page=page)
    user_ids = {e.user_id for e in entries if e.user_id is not None}
    emails = dict(db.session.execute(sa.select(User.id, User.email)
                                     .where(User.id.in_(user_ids))).all()) if user_ids else {}
    return render_template("audit/index.html", entries=entries, slugs=slugs, slug=slug,
                           actions=known, action=action, page=page, has_more=has_more,
                           emails=emails)
