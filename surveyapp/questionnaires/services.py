"""Verbs on questionnaires. They flush; the caller commits once."""

from __future__ import annotations

import sqlalchemy as sa

from surveyapp.db import db, utcnow
from surveyapp.questionnaires.definition import DefinitionError, parse_definition
from surveyapp.questionnaires.models import Questionnaire, QuestionnaireState, QuestionnaireVersion


def get_by_slug(slug: str) -> Questionnaire | None:
    """The questionnaire with this slug, if any."""
    return db.session.scalar(sa.select(Questionnaire).filter_by(slug=slug))


def create_from_definition(data: dict) -> tuple[Questionnaire, dict[str, str]]:
    """Add a draft questionnaire from a definition; return it and its consent texts.

    :raise DefinitionError: the definition is invalid or the slug is taken.
    """
    questionnaire, _version, consent_texts = parse_definition(data)
    if get_by_slug(questionnaire.slug) is not None:
        raise DefinitionError([f"slug {questionnaire.slug!r} is already in use"])
    db.session.add(questionnaire)
    db.session.flush()
    return questionnaire, consent_texts


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
