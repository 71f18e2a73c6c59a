"""Verbs on questionnaires. They flush; the caller commits once."""

from __future__ import annotations

import threading
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from surveyapp.db import db, utcnow
from surveyapp.questionnaires.definition import DefinitionError, parse_definition
from surveyapp.questionnaires.models import (
    Page,
    Question,
    Questionnaire,
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


def list_questionnaires() -> list[Questionnaire]:
    """Every questionnaire, newest first."""
    return list(
        db.session.scalars(sa.select(Questionnaire).order_by(Questionnaire.created_at.desc()))
    )
