"""What each role may do, and the decorators that say so on every route.

Every view is marked either ``@public`` (respondents, health check, login) or
``@permission_required(...)``; a test walks the URL map and fails on a view with neither.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from surveyapp.accounts.models import Role


class Permission(enum.StrEnum):
    """A thing staff can do."""

    LIST_QUESTIONNAIRES = "list_questionnaires"
    PREVIEW = "preview"
    TRANSLATE = "translate"
    EXPORT_CONSENT = "export_consent"
    USE_STAFF_PAGES = "use_staff_pages"
    #: Results pages, PDF reports and cross-tabs.
    VIEW_RESULTS = "view_results"
    #: Raw data downloads (CSV, XLSX, SPSS, JSON); every one is logged.
    EXPORT_RESPONSES = "export_responses"
    #: Look up, hand out and erase one person's data; read the audit log.
    MANAGE_PERSONAL_DATA = "manage_personal_data"
    #: Settings, life cycle (close, reopen, archive), consent text and sharing of a
    #: questionnaire the user may work on.
    MANAGE_QUESTIONNAIRE = "manage_questionnaire"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.BUILDER: frozenset({Permission.USE_STAFF_PAGES, Permission.LIST_QUESTIONNAIRES,
                             Permission.PREVIEW, Permission.TRANSLATE,
                             Permission.EXPORT_CONSENT, Permission.VIEW_RESULTS,
                             Permission.EXPORT_RESPONSES, Permission.MANAGE_QUESTIONNAIRE}),
    Role.EVALUATOR: frozenset({Permission.USE_STAFF_PAGES, Permission.LIST_QUESTIONNAIRES,
                               Permission.PREVIEW, Permission.VIEW_RESULTS,
                               Permission.EXPORT_RESPONSES}),
    # Interviewers enter answers on behalf of respondents and see nothing else.
    Role.INTERVIEWER: frozenset({Permission.USE_STAFF_PAGES}),
}


def can(user, permission: Permission) -> bool:
    """Whether ``user`` (possibly anonymous) holds ``permission``."""
    return bool(user and user.is_authenticated
                and permission in ROLE_PERMISSIONS.get(user.role, frozenset()))


def public(view: Callable) -> Callable:
    """Mark a view as open to everyone, on purpose."""
    view.access = "public"
    return view


def permission_required(permission: Permission) -> Callable[[Callable], Callable]:
    """Let only logged-in staff holding ``permission`` through; others get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            if not can(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        guarded.access = permission
        return guarded

    return decorator
