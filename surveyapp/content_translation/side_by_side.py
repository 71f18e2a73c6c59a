"""Translating in the browser: every text of the newest version beside its base-language text.

Saving goes through ``workbook.apply_translations``, the same path as a translator's
spreadsheet. Each field carries a digest of the translation it was opened with, so a text
someone else changed in the meantime is reported, not silently overwritten.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask_babel import gettext as _

from surveyapp.content_translation.workbook import (
    CONSENT_KEY,
    MAX_CELL,
    PURPOSE_KEY,
    all_texts,
    apply_translations,
)
from surveyapp.questionnaires.models import Questionnaire

#: Rows per screen: a questionnaire of 300 questions and thousands of options stays usable.
ROWS_PER_SCREEN = 60


@dataclass
class Row:
    """One text: its key, where it is, the base text and the target language's text."""

    key: str
    section: str
    base: str
    target: str

    @property
    def label(self) -> str:
        """Where the text is, in the reader's language (asked only for the rows shown)."""
        return _label(self.key)

    @property
    def is_missing(self) -> bool:
        """No translation yet."""
        return not self.target.strip()

    @property
    def field_id(self) -> str:
        """An HTML id (keys hold ``:``; codes hold neither ``-`` nor ``:``)."""
        return "t-" + self.key.replace(":", "-")

    @property
    def digest(self) -> str:
        """Digest of the translation as shown, to notice a change made meanwhile."""
        return text_digest(self.target)


def text_digest(text: str) -> str:
    """A short digest of a text (stripped)."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:16]


def _label(key: str) -> str:
    parts = key.split(":")
    if key == "title":
        return _("Title")
    if key == "intro":
        return _("Introduction")
    if key == "thank_you":
        return _("Thank-you text")
    if key == CONSENT_KEY:
        return _("Consent text")
    if key.startswith(PURPOSE_KEY):
        return _("Consent box %(code)s", code=parts[2])
    if parts[0] == "page":
        return _("Page %(code)s: title", code=parts[1])
    if parts[0] == "row":
        return _("Question %(code)s: row %(row)s", code=parts[1], row=parts[2])
    if parts[0] == "option":
        return _("Question %(code)s: option %(option)s", code=parts[1], option=parts[2])
    names = {"text": _("Question %(code)s: text", code=parts[1]),
             "help": _("Question %(code)s: help text", code=parts[1]),
             "min_label": _("Question %(code)s: label of the lowest point", code=parts[1]),
             "max_label": _("Question %(code)s: label of the highest point", code=parts[1])}
    return names.get(parts[-1], key)


def rows(questionnaire: Questionnaire, target: str,
         texts_by_key: dict[str, dict[str, str]] | None = None) -> list[Row]:
    """Every text that exists in the base language, in reading order, with its section.

    ``texts_by_key`` is ``workbook.all_texts`` if the caller has it already.
    """
    base = questionnaire.base_language
    result = []
    section = _("Beginning")
    page_section = _("Page %(code)s", code="%(code)s")  # translated once, filled per page
    if texts_by_key is None:
        texts_by_key = all_texts(questionnaire)
    for key, texts in texts_by_key.items():
        if key.startswith("page:"):
            section = page_section % {"code": key.split(":")[1]}
        elif key == "thank_you":
            section = _("End")
        elif key == CONSENT_KEY or key.startswith(PURPOSE_KEY):
            section = _("Consent")
        if (texts.get(base) or "").strip():
            result.append(Row(key, section, texts[base], texts.get(target, "")))
    return result


class SaveProblems(ValueError):
    """Nothing was saved: ``too_long`` keys, and ``changed`` keys someone else changed since."""

    def __init__(self, too_long: list[str], changed: list[str]):
        super().__init__(", ".join(too_long + changed))
        self.too_long = too_long
        self.changed = changed


def save_translations(questionnaire: Questionnaire, target: str,
                      posted: dict[str, tuple[str, str]]) -> list[str]:
    """Store the posted translations ``{key: (text, digest when opened)}``; return changed keys.

    All or nothing: :raise SaveProblems: a text is too long, or was changed by someone else
    since the page was opened (its digest differs) and this page changes it too.
    """
    if target == questionnaire.base_language:
        raise ValueError("the base language is not translated here")
    current = all_texts(questionnaire)
    updates: dict[str, dict[str, str]] = {}
    too_long, changed_meanwhile = [], []
    for key, (text, opened) in posted.items():
        if key not in current or not (current[key].get(questionnaire.base_language) or "").strip():
            continue
        text = text.strip()
        stored = (current[key].get(target) or "").strip()
        if text == stored:
            continue
        if len(text) > MAX_CELL:
            too_long.append(key)
        elif text_digest(stored) != opened:
            changed_meanwhile.append(key)
        else:
            updates[key] = {**current[key], target: text}
    if too_long or changed_meanwhile:
        raise SaveProblems(too_long, changed_meanwhile)
    apply_translations(questionnaire, updates, current=current)
    return list(updates)
