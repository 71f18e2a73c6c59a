"""Every text of a questionnaire version under a stable key, for translation and completeness."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from surveyapp.questionnaires.models import Questionnaire, QuestionnaireVersion


@dataclass(frozen=True)
class TextSlot:
    """One translatable text: its key, where it lives, and the object holding its languages."""

    key: str
    #: Shown to translators next to the key ("Question 'age' - text").
    where: str
    owner: object
    attribute: str
    #: For rating labels, which live inside the question's settings.
    setting: str | None = None

    def texts(self) -> dict[str, str]:
        """The text in every language (a copy)."""
        if self.setting:
            return dict(getattr(self.owner, self.attribute).get(self.setting) or {})
        return dict(getattr(self.owner, self.attribute) or {})

    def set_texts(self, texts: dict[str, str]) -> None:
        """Replace the texts (JSON columns need a new object to register the change)."""
        clean = {lang: text for lang, text in texts.items() if text.strip()}
        if self.setting:
            settings = dict(getattr(self.owner, self.attribute) or {})
            settings[self.setting] = clean
            setattr(self.owner, self.attribute, settings)
        else:
            setattr(self.owner, self.attribute, clean)


def text_slots(version: QuestionnaireVersion) -> Iterator[TextSlot]:
    """Every text of a version in reading order."""
    yield TextSlot("title", "Title", version, "title")
    yield TextSlot("intro", "Introduction", version, "intro")
    for page in version.pages:
        yield TextSlot(f"page:{page.code}:title", f"Page {page.code} - title", page, "title")
        for question in page.questions:
            where = f"Question {question.code}"
            yield TextSlot(f"question:{question.code}:text", f"{where} - text", question, "text")
            yield TextSlot(f"question:{question.code}:help", f"{where} - help", question, "help")
            for label in ("min_label", "max_label"):
                if label in (question.settings or {}):
                    yield TextSlot(f"question:{question.code}:{label}", f"{where} - {label}",
                                   question, "settings", setting=label)
            for row in question.rows:
                yield TextSlot(f"row:{question.code}:{row.code}", f"{where} - row {row.code}",
                               row, "label")
            for option in question.options:
                yield TextSlot(f"option:{question.code}:{option.code}",
                               f"{where} - option {option.code}", option, "label")
    yield TextSlot("thank_you", "Thank-you text", version, "thank_you")


def completeness(
    texts_by_key: dict[str, dict[str, str]], questionnaire: Questionnaire
) -> dict[str, tuple[int, int, list[str]]]:
    """Per offered language: ``(translated, needed, missing keys)``.

    A text is needed in every language when it exists in the base language.
    """
    base = questionnaire.base_language
    needed = [key for key, texts in texts_by_key.items() if (texts.get(base) or "").strip()]
    result = {}
    for lang in questionnaire.languages:
        missing = [key for key in needed if not (texts_by_key[key].get(lang) or "").strip()]
        result[lang] = (len(needed) - len(missing), len(needed), missing)
    return result
