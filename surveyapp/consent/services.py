"""Verbs on consent texts and consent records. They flush; the caller commits once."""

from __future__ import annotations

import sqlalchemy as sa

from surveyapp.consent.models import ConsentRecord, ConsentText, text_digest
from surveyapp.db import db
from surveyapp.questionnaires.models import Questionnaire

#: The purpose every respondent must agree to: that their answers are used.
ANSWERS_PURPOSE = "answers"


def add_consent_version(questionnaire: Questionnaire, texts: dict[str, str]) -> int:
    """Store a new version of the consent text in each given language; return its number."""
    current = db.session.scalar(
        sa.select(sa.func.max(ConsentText.version)).filter_by(questionnaire_id=questionnaire.id)
    )
    number = (current or 0) + 1
    for language, body in texts.items():
        db.session.add(
            ConsentText(
                questionnaire_id=questionnaire.id,
                version=number,
                language=language,
                body=body,
                digest=text_digest(body),
            )
        )
    db.session.flush()
    return number


def current_consent_text(questionnaire: Questionnaire, language: str) -> ConsentText | None:
    """The newest consent text in ``language``, else in the base language."""
    latest = db.session.scalar(
        sa.select(sa.func.max(ConsentText.version)).filter_by(questionnaire_id=questionnaire.id)
    )
    if latest is None:
        return None
    texts = db.session.scalars(
        sa.select(ConsentText).filter_by(questionnaire_id=questionnaire.id, version=latest)
    ).all()
    by_language = {t.language: t for t in texts}
    return by_language.get(language) or by_language.get(questionnaire.base_language)


def consent_texts_by_language(questionnaire: Questionnaire) -> dict[str, str]:
    """The newest consent text in every language, for export."""
    latest = db.session.scalar(
        sa.select(sa.func.max(ConsentText.version)).filter_by(questionnaire_id=questionnaire.id)
    )
    texts = db.session.scalars(
        sa.select(ConsentText).filter_by(questionnaire_id=questionnaire.id, version=latest)
    )
    return {t.language: t.body for t in texts}


def record_consent(
    *, response_id: int, questionnaire: Questionnaire, version_id: int, consent_text: ConsentText,
    channel: str, interviewer_id: int | None = None,
) -> ConsentRecord:
    """Write the proof of consent for a response, in the caller's transaction."""
    record = ConsentRecord(
        response_id=response_id,
        questionnaire_id=questionnaire.id,
        version_id=version_id,
        consent_text_id=consent_text.id,
        language=consent_text.language,
        digest=consent_text.digest,
        purposes=[ANSWERS_PURPOSE],
        channel=channel,
        interviewer_id=interviewer_id,
    )
    db.session.add(record)
    db.session.flush()
    return record
