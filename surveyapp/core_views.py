"""Application-wide pages: the home page and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user

from surveyapp.accounts.permissions import public
from surveyapp.db import db

bp = Blueprint("core", __name__)


@bp.route("/")
@public
def index():
    """Staff go to their questionnaires; everyone else sees a short welcome."""
    if current_user.is_authenticated:
        return redirect(url_for("questionnaires.index"))
    return render_template("core/index.html")


@bp.route("/healthz")
@public
def healthz():
    """200 when the database answers, 503 when it does not (for load balancers and monitors)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": False}, 503
    return {"status": "ok", "database": True}


@bp.route("/language", methods=["POST"])
@public
def set_interface_language():
    """Remember the staff interface language chosen in the footer."""
    from flask import current_app

    lang = request.form.get("lang")
    if lang in current_app.config["INTERFACE_LANGUAGES"]:
        session["ui_lang"] = lang
    target = request.form.get("next") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    return redirect(target)
