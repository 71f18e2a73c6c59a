"""Import and export whole questionnaires (structure and consent) in the definition format."""

from __future__ import annotations

from surveyapp.consent.services import add_consent_version, consent_texts_by_language
from surveyapp.questionnaires.definition import export_definition
from surveyapp.questionnaires.models import Questionnaire
from surveyapp.questionnaires.services import create_from_definition, publish


def import_questionnaire(data: dict, *, open_now: bool = False) -> Questionnaire:
    """Create a questionnaire with its consent text from a definition; optionally publish it.

    :raise DefinitionError: listing every problem of the definition.
    """
    questionnaire, consent_texts = create_from_definition(data)
    add_consent_version(questionnaire, consent_texts)
    if open_now:
        publish(questionnaire)
    return questionnaire


def export_questionnaire(questionnaire: Questionnaire) -> dict:
    """The questionnaire's latest version and current consent text as a definition."""
    return export_definition(questionnaire, consent_texts_by_language(questionnaire))
