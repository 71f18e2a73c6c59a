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
    #: The share page: public links, per-unit links, QR codes and flyers.
    SHARE_LINKS = "share_links"
    #: Add, rename, move, import and retire organisational units.
    MANAGE_UNITS = "manage_units"
    #: Create programmes, add units and target marks to stages, confirm the end of a stage.
    MANAGE_PROGRAMMES = "manage_programmes"
    #: See programme boards: each unit's progress against its target marks.
    VIEW_PROGRAMMES = "view_programmes"
    #: Enter counts that staff report by hand (events held, letters sent) on a target mark.
    ENTER_MARKS = "enter_marks"
    #: Edit questionnaires (structure, conditions) the user may work on.
    BUILD = "build"
    #: Upload contacts, create codes, export links, send invitations (builders: own ones).
    MANAGE_INVITATIONS = "manage_invitations"
    #: Create phone campaigns, assign interviewers, follow their progress.
    RUN_CAMPAIGNS = "run_campaigns"
    #: Work through a call list and enter answers on a respondent's behalf.
    CALL = "call"
    #: Settings, life cycle (close, reopen, archive), consent text and sharing of a
    #: questionnaire the user may work on.
    MANAGE_QUESTIONNAIRE = "manage_questionnaire"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.BUILDER: frozenset({Permission.USE_STAFF_PAGES, Permission.LIST_QUESTIONNAIRES,
                             Permission.PREVIEW, Permission.TRANSLATE,
                             Permission.EXPORT_CONSENT, Permission.VIEW_RESULTS,
                             Permission.EXPORT_RESPONSES, Permission.SHARE_LINKS,
                             Permission.VIEW_PROGRAMMES, Permission.ENTER_MARKS,
                             Permission.BUILD, Permission.MANAGE_INVITATIONS,
                             Permission.RUN_CAMPAIGNS, Permission.MANAGE_QUESTIONNAIRE}),
    Role.EVALUATOR: frozenset({Permission.USE_STAFF_PAGES, Permission.LIST_QUESTIONNAIRES,
                               Permission.PREVIEW, Permission.VIEW_RESULTS,
                               Permission.EXPORT_RESPONSES, Permission.VIEW_PROGRAMMES}),
    # Interviewers enter answers on behalf of respondents and see nothing else.
    Role.INTERVIEWER: frozenset({Permission.USE_STAFF_PAGES, Permission.CALL}),
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
