"""Import and export whole questionnaires (structure and consent) in the definition format."""

from __future__ import annotations

import csv
from typing import TextIO

import sqlalchemy as sa

from surveyapp.consent.models import ConsentRecord, ConsentText
from surveyapp.consent.services import (
    add_consent_version,
    consent_purposes,
    consent_texts_by_language,
)
from surveyapp.content_translation.workbook import untranslated_languages
from surveyapp.db import db
from surveyapp.questionnaires.definition import export_definition
from surveyapp.questionnaires.models import Questionnaire, QuestionnaireVersion
from surveyapp.questionnaires.services import create_from_definition, publish
from surveyapp.responses.models import Response


class NotPublishable(ValueError):
    """A questionnaire cannot be published yet; ``missing`` names the texts per language."""

    def __init__(self, missing: dict[str, list[str]]):
        super().__init__("; ".join(f"{lang}: {', '.join(keys)}" for lang, keys in missing.items()))
        self.missing = missing


def publish_questionnaire(questionnaire: Questionnaire) -> QuestionnaireVersion:
    """Publish and open, refusing while any offered language misses a text.

    :raise NotPublishable: with the missing texts by language.
    """
    missing = untranslated_languages(questionnaire)
    if missing:
        raise NotPublishable(missing)
    return publish(questionnaire)


def import_questionnaire(data: dict, *, open_now: bool = False) -> Questionnaire:
    """Create a questionnaire with its consent text from a definition; optionally publish it.

    :raise DefinitionError: listing every problem of the definition.
    :raise NotPublishable: ``open_now`` while a language misses texts.
    """
    questionnaire, consent = create_from_definition(data)
    add_consent_version(questionnaire, consent["text"], consent["purposes"])
    if open_now:
        publish_questionnaire(questionnaire)
    return questionnaire


def export_questionnaire(questionnaire: Questionnaire) -> dict:
    """The questionnaire's latest version and current consent text as a definition."""
    return export_definition(questionnaire, {"text": consent_texts_by_language(questionnaire),
                                             "purposes": consent_purposes(questionnaire)})


CONSENT_COLUMNS = [
    "record_id", "response_id", "questionnaire", "questionnaire_version", "consent_version",
    "language", "text_sha256", "purposes", "channel", "interviewer_id", "given_at_utc",
    "response_status", "withdrawn_at_utc",
]


def write_consent_records_csv(questionnaire: Questionnaire, output: TextIO) -> int:
    """Write who consented to which text when, without any answer; return the row count.

    Every value is an id, a code, a digest or a time written by the app: no respondent's text,
    so nothing a spreadsheet could run as a formula.
    """
    rows = db.session.execute(
        sa.select(ConsentRecord, QuestionnaireVersion.number, ConsentText.version,
                  Response.status, Response.withdrawn_at)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == ConsentRecord.version_id)
        .join(ConsentText, ConsentText.id == ConsentRecord.consent_text_id)
        .join(Response, Response.id == ConsentRecord.response_id)
        .where(ConsentRecord.questionnaire_id == questionnaire.id, ~Response.is_preview)
        .order_by(ConsentRecord.id)
    )
    writer = csv.writer(output)
    writer.writerow(CONSENT_COLUMNS)
    count = 0
    for record, version_number, consent_version, status, withdrawn_at in rows:
        writer.writerow([
            record.id, record.response_id, questionnaire.slug, version_number, consent_version,
            record.language, record.digest, " ".join(record.purposes), record.channel,
            record.interviewer_id or "", record.given_at.isoformat(), status.value,
            withdrawn_at.isoformat() if withdrawn_at else "",
        ])
        count += 1
    return count
