"""Verbs on questionnaires. They flush; the caller commits once."""

from __future__ import annotations

import threading
from datetime import datetime

import sqlalchemy as sa
from flask import abort
from flask_login import current_user
from sqlalchemy.orm import selectinload

from surveyapp.accounts.models import Role, User
from surveyapp.db import db, utcnow
from surveyapp.questionnaires.definition import DefinitionError, parse_definition
from surveyapp.questionnaires.models import (
    Page,
    Question,
    Questionnaire,
    QuestionnaireShare,
    QuestionnaireState,
    QuestionnaireVersion,
)


def get_by_slug(slug: str) -> Questionnaire | None:
    """The questionnaire with this slug, if any."""
    return db.session.scalar(sa.select(Questionnaire).filter_by(slug=slug))


def load_version(version_id: int) -> QuestionnaireVersion | None:
    """A version with its pages, questions and options loaded in four queries, not one per item."""
    return db.session.scalar(
        sa.select(QuestionnaireVersion)
        .where(QuestionnaireVersion.id == version_id)
        .options(
            selectinload(QuestionnaireVersion.pages)
            .selectinload(Page.questions)
            .selectinload(Question.choices),
            selectinload(QuestionnaireVersion.questions),
        )
    )


#: Published versions never change, so each process keeps their loaded trees (read-only).
_published: dict[tuple[int, datetime, int], QuestionnaireVersion] = {}
_published_lock = threading.Lock()
PUBLISHED_CACHE_SIZE = 256


def published_version_tree(
    version_id: int, published_at: datetime, text_revision: int
) -> QuestionnaireVersion:
    """The whole tree of a published version, detached and shared by every request.

    Keyed by id, publication time and text revision, so a corrected translation or a reused
    id (a rolled-back test, a recreated database) never meets a stale tree. Read it only.
    """
    key = (version_id, published_at, text_revision)
    cached = _published.get(key)
    if cached is not None:
        return cached
    version = load_version(version_id)
    if version is None or (version.published_at, version.text_revision) != key[1:]:
        raise LookupError(f"no published version {version_id} at revision {text_revision}")
    # Cascades to pages, questions and options: the tree leaves this request's session.
    db.session.expunge(version)
    with _published_lock:
        if len(_published) >= PUBLISHED_CACHE_SIZE:
            _published.clear()
        _published[key] = version
    return version


def create_from_definition(data: dict) -> tuple[Questionnaire, dict]:
    """Add a draft questionnaire from a definition; return it and its consent (text, purposes).

    :raise DefinitionError: the definition is invalid or the slug is taken.
    """
    questionnaire, _version, consent = parse_definition(data)
    if get_by_slug(questionnaire.slug) is not None:
        raise DefinitionError([f"slug {questionnaire.slug!r} is already in use"])
    db.session.add(questionnaire)
    db.session.flush()
    return questionnaire, consent


def publish(questionnaire: Questionnaire) -> QuestionnaireVersion:
    """Freeze the latest version and open the questionnaire to respondents."""
    version = questionnaire.latest_version
    if version is None:
        raise ValueError("nothing to publish")
    if version.published_at is None:
        version.published_at = utcnow()
    if questionnaire.state is not QuestionnaireState.OPEN:
        questionnaire.move_to(QuestionnaireState.OPEN)
    db.session.flush()
    return version


def _shared_with(user_id: int) -> sa.Select:
    return sa.select(QuestionnaireShare.questionnaire_id).where(
        QuestionnaireShare.user_id == user_id)


def list_questionnaires(user=None) -> list[Questionnaire]:
    """The questionnaires ``user`` may work on (all without a user), newest first.

    Builders see the ones they own or that are shared with them; admins and evaluators all.
    """
    statement = sa.select(Questionnaire).order_by(Questionnaire.created_at.desc())
    if user is not None and user.role is Role.BUILDER:
        statement = statement.where(sa.or_(Questionnaire.owner_id == user.id,
                                           Questionnaire.id.in_(_shared_with(user.id))))
    return list(db.session.scalars(statement))


def may_work_on(user, questionnaire: Questionnaire) -> bool:
    """Whether ``user`` may open this questionnaire's staff pages (their role decides what).

    Admins and evaluators may open every questionnaire, builders those they own or that are
    shared with them, interviewers none (their calls come with phone campaigns).
    """
    if not user or not user.is_authenticated:
        return False
    if user.role in (Role.ADMIN, Role.EVALUATOR):
        return True
    if user.role is Role.BUILDER:
        return questionnaire.owner_id == user.id or bool(db.session.scalar(
            sa.select(sa.func.count()).select_from(QuestionnaireShare).where(
                QuestionnaireShare.questionnaire_id == questionnaire.id,
                QuestionnaireShare.user_id == user.id)))
    return False


def questionnaire_for_staff(slug: str) -> Questionnaire:
    """The questionnaire for a staff page: 404 if there is none, 403 if not the user's."""
    questionnaire = get_by_slug(slug)
    if questionnaire is None:
        abort(404)
    if not may_work_on(current_user, questionnaire):
        abort(403)
    return questionnaire


def share(questionnaire: Questionnaire, user) -> bool:
    """Let a builder work on ``questionnaire``; ``False`` if they already could."""
    if questionnaire.owner_id == user.id or db.session.get(
            QuestionnaireShare, (questionnaire.id, user.id)):
        return False
    db.session.add(QuestionnaireShare(questionnaire_id=questionnaire.id, user_id=user.id))
    db.session.flush()
    return True


def unshare(questionnaire: Questionnaire, user) -> bool:
    """Stop sharing ``questionnaire`` with a builder; ``False`` if it was not shared with them."""
    existing = db.session.get(QuestionnaireShare, (questionnaire.id, user.id))
    if existing is None:
        return False
    db.session.delete(existing)
    db.session.flush()
    return True


def shared_with(questionnaire: Questionnaire) -> list[User]:
    """The accounts ``questionnaire`` is shared with, by e-mail address."""
    return list(db.session.scalars(
        sa.select(User).join(QuestionnaireShare, QuestionnaireShare.user_id == User.id)
        .where(QuestionnaireShare.questionnaire_id == questionnaire.id).order_by(User.email)))
