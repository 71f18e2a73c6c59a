"""Import and export whole questionnaires (structure and consent) in the definition format."""

from __future__ import annotations

from surveyapp.consent.services import add_consent_version, consent_texts_by_language
from surveyapp.content_translation.workbook import untranslated_languages
from surveyapp.questionnaires.definition import export_definition
from surveyapp.questionnaires.models import Questionnaire, QuestionnaireVersion
from surveyapp.questionnaires.services import create_from_definition, publish


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
    questionnaire, consent_texts = create_from_definition(data)
    add_consent_version(questionnaire, consent_texts)
    if open_now:
        publish_questionnaire(questionnaire)
    return questionnaire


def export_questionnaire(questionnaire: Questionnaire) -> dict:
    """The questionnaire's latest version and current consent text as a definition."""
    return export_definition(questionnaire, consent_texts_by_language(questionnaire))
