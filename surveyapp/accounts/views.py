"""Staff login and logout."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from surveyapp.accounts.forms import LoginForm
from surveyapp.accounts.models import User
from surveyapp.accounts.permissions import Permission, can, permission_required, public
from surveyapp.accounts.services import authenticate
from surveyapp.db import db
from surveyapp.extensions import login_manager

bp = Blueprint("accounts", __name__, url_prefix="/staff", template_folder="templates")

login_manager.login_view = "accounts.login"
login_manager.login_message = None


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login's way back from the session to the account."""
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Log a staff member in; the same message for a wrong address and a wrong password."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            target = request.args.get("next") or ""
            if not target.startswith("/") or target.startswith("//"):
                target = _landing_page(user)
            return redirect(target)
        error = _("E-mail address or password is wrong.")
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form, error=error), status


def _landing_page(user) -> str:
    """Where a staff member starts: the questionnaires, or for interviewers their call lists."""
    return url_for("questionnaires.index" if can(user, Permission.LIST_QUESTIONNAIRES)
                   else "campaigns.mine")


@bp.route("/")
@permission_required(Permission.USE_STAFF_PAGES)
def home():
    """``/staff/``: the staff member's start page."""
    return redirect(_landing_page(current_user))


@bp.route("/logout", methods=["POST"])
@permission_required(Permission.USE_STAFF_PAGES)
def logout():
    """End the staff session."""
    logout_user()
    return redirect(url_for("accounts.login"))
