"""After building: a questionnaire's settings, its life cycle and who works on it.

Verbs for the settings page. They flush and write the audit log; the view commits once.
Publishing is the builder's (``builder.publish``); here a questionnaire is closed, reopened
and archived. Whether respondents may answer is ``Questionnaire.closed_reason``, asked
through ``responses.services.accepting_answers``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from surveyapp.accounts.models import Role, User
from surveyapp.accounts.services import find_user
from surveyapp.audit.services import record
from surveyapp.db import db
from surveyapp.questionnaires.models import (
    TRANSITIONS,
    InvalidTransition,
    Questionnaire,
    QuestionnaireState,
)
from surveyapp.questionnaires.services import share, unshare
from surveyapp.responses.models import Response
from surveyapp.responses.services import anonymise_responses, count_by_status

#: The fields of the settings form, in the order the audit log names them.
SETTING_FIELDS = (
    "languages", "base_language", "is_anonymous", "coarse_timestamps", "min_group_size",
    "retention_days", "draft_days", "controller", "privacy_url", "opens_at", "closes_at",
    "max_responses",
)

#: The life-cycle actions of the settings page and the state each leads to.
ACTIONS: dict[str, QuestionnaireState] = {
    "close": QuestionnaireState.CLOSED,
    "reopen": QuestionnaireState.OPEN,
    "archive": QuestionnaireState.ARCHIVED,
}


class StaleSettings(ValueError):
    """Someone saved the settings after this form was opened; nothing was changed."""


class ShareRefused(ValueError):
    """Sharing was refused; ``reason`` is ``no_account``, ``not_builder`` or ``already``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def has_responses(questionnaire: Questionnaire) -> bool:
    """Whether any real (non-preview) response exists, whatever its status."""
    return bool(db.session.scalar(
        sa.select(sa.func.count()).select_from(Response).where(
            Response.questionnaire_id == questionnaire.id, ~Response.is_preview)))


def complete_responses(questionnaire: Questionnaire) -> int:
    """Number of complete real responses."""
    return count_by_status([questionnaire.id]).get((questionnaire.id, "complete"), 0)


def ends_anonymity(questionnaire: Questionnaire, values: dict) -> bool:
    """Whether ``values`` would turn anonymity off although responses were given under it.

    Refused: people answered (or are answering) on the promise of anonymity, and drafts
    begun under it would be sent without their links being cut.
    """
    return (questionnaire.is_anonymous and "is_anonymous" in values
            and not values["is_anonymous"] and has_responses(questionnaire))


def turns_anonymous(questionnaire: Questionnaire, values: dict) -> bool:
    """Whether saving ``values`` makes a questionnaire with complete responses anonymous."""
    return (bool(values.get("is_anonymous")) and not questionnaire.is_anonymous
            and complete_responses(questionnaire) > 0)


def changed_settings(questionnaire: Questionnaire, values: dict) -> list[str]:
    """The names of the settings whose value differs from ``values``."""
    return [name for name in SETTING_FIELDS
            if name in values and getattr(questionnaire, name) != values[name]]


def update_settings(questionnaire: Questionnaire, values: dict, *, revision: int,
                    user_id: int | None) -> tuple[list[str], int | None]:
    """Save the settings form; return the changed fields and how many responses were anonymised.

    Turning anonymity on anonymises the complete responses already collected
    (``anonymise_responses``; ``None`` when it was not turned on). The revision is raised
    by one guarded UPDATE, so of two saves made from the same page only the first passes.

    :raise StaleSettings: the settings were saved by someone else since ``revision``.
    """
    result = db.session.execute(
        sa.update(Questionnaire)
        .where(Questionnaire.id == questionnaire.id,
               Questionnaire.settings_revision == revision)
        .values(settings_revision=revision + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise StaleSettings()
    questionnaire.settings_revision = revision + 1
    changed = changed_settings(questionnaire, values)
    became_anonymous = "is_anonymous" in changed and values["is_anonymous"]
    for name in changed:
        setattr(questionnaire, name, values[name])
    anonymised = None
    if became_anonymous:
        anonymised = anonymise_responses(questionnaire)
        record(user_id, "questionnaire.anonymise",
               f"{questionnaire.slug}: {anonymised} responses")
    if changed:
        record(user_id, "questionnaire.settings",
               f"{questionnaire.slug}: {', '.join(changed)}"[:120])
    db.session.flush()
    return changed, anonymised


def base_language_problem(questionnaire: Questionnaire, base: str, languages: list[str],
                          missing: dict[str, list[str]]) -> str | None:
    """Why ``base`` cannot be the base language (a reason code), or ``None``.

    ``locked``: there are responses, whose texts were read in the old one; ``not_offered``;
    ``incomplete``: texts are missing in it (``missing``: the missing keys per language
    offered so far, from the translation status).
    """
    if base not in languages:
        return "not_offered"
    if base == questionnaire.base_language:
        return None
    if has_responses(questionnaire):
        return "locked"
    if base not in missing or missing[base]:  # a language offered only now has no texts yet
        return "incomplete"
    return None


def change_state(questionnaire: Questionnaire, action: str, user_id: int | None) -> None:
    """Close, reopen or archive, as the life cycle allows; logged.

    Reopening is only for a closed questionnaire (opening a draft is publishing).

    :raise InvalidTransition: the action is unknown or not allowed from the current state.
    """
    target = ACTIONS.get(action)
    if target is None or (action == "reopen" and questionnaire.state
                          is not QuestionnaireState.CLOSED):
        raise InvalidTransition(f"{questionnaire.state} -> {action}")
    questionnaire.move_to(target)
    record(user_id, f"questionnaire.{action}", questionnaire.slug)
    db.session.flush()


def allowed_actions(questionnaire: Questionnaire) -> list[str]:
    """The life-cycle actions the current state allows, in ``ACTIONS`` order."""
    return [action for action, target in ACTIONS.items()
            if target in TRANSITIONS[questionnaire.state]
            and (action != "reopen" or questionnaire.state is QuestionnaireState.CLOSED)]


def may_share(user, questionnaire: Questionnaire) -> bool:
    """Only admins and the owner hand a questionnaire to others."""
    return bool(user and user.is_authenticated and (
        user.role is Role.ADMIN or questionnaire.owner_id == user.id))


def share_with(questionnaire: Questionnaire, email: str, user_id: int | None) -> User:
    """Share with the builder who has this e-mail address; logged.

    :raise ShareRefused: no such account, not a builder, or it may already work on it.
    """
    user = find_user(email)
    if user is None:
        raise ShareRefused("no_account")
    if user.role is not Role.BUILDER:
        raise ShareRefused("not_builder")
    if not share(questionnaire, user):
        raise ShareRefused("already")
    # The account by id: an address would outlive the account in the log.
    record(user_id, "questionnaire.share", f"{questionnaire.slug}: user:{user.id}")
    return user


def stop_sharing(questionnaire: Questionnaire, shared_user_id: int,
                 user_id: int | None) -> User | None:
    """Take the questionnaire away from a builder it was shared with; logged. ``None``: wasn't."""
    user = db.session.get(User, shared_user_id)
    if user is None or not unshare(questionnaire, user):
        return None
    record(user_id, "questionnaire.unshare", f"{questionnaire.slug}: user:{user.id}")
    return user


def in_utc(value: datetime | None) -> datetime | None:
    """A naive date and time typed in UTC as an aware one."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
