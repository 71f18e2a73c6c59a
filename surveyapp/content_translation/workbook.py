"""Translators' spreadsheets: every text of a questionnaire as XLSX, and back with a report.

One row per text with its stable key, one column per language. A hidden ``check`` column
holds a digest of the base-language text at export time: a row whose base text has changed
since is reported as stale and not imported, so an old spreadsheet never overwrites a newer
question with a translation of the old one.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException

from surveyapp.consent.services import (
    add_consent_version,
    consent_purposes,
    consent_texts_by_language,
)
from surveyapp.db import db
from surveyapp.questionnaires.models import Questionnaire
from surveyapp.questionnaires.services import load_version
from surveyapp.questionnaires.texts import TextSlot, completeness, text_slots

SHEET = "Translations"
CONSENT_KEY = "consent:text"
PURPOSE_KEY = "consent:purpose:"
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_CELL = 10_000


class WorkbookError(ValueError):
    """The file cannot be read as a translation spreadsheet; nothing was changed."""


@dataclass
class ImportReport:
    """What an import did and did not do, row by row."""

    changed: list[tuple[str, str]] = field(default_factory=list)  # (key, language)
    unchanged: int = 0
    unmatched: list[str] = field(default_factory=list)  # keys that do not exist (any more)
    stale: list[str] = field(default_factory=list)  # base text changed since the export
    base_edits_ignored: list[str] = field(default_factory=list)
    missing: dict[str, list[str]] = field(default_factory=dict)  # language -> keys

    @property
    def has_changes(self) -> bool:
        """Whether anything was written."""
        return bool(self.changed)


def _digest(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:12]


def _slots(questionnaire: Questionnaire) -> dict[str, TextSlot]:
    # Loaded in four queries: walking the version lazily costs one query per question.
    version = load_version(questionnaire.latest_version.id)
    return {slot.key: slot for slot in text_slots(version)}


def all_texts(questionnaire: Questionnaire) -> dict[str, dict[str, str]]:
    """Every text of the latest version and the current consent text, by key."""
    texts = {key: slot.texts() for key, slot in _slots(questionnaire).items()}
    texts[CONSENT_KEY] = consent_texts_by_language(questionnaire)
    for purpose in consent_purposes(questionnaire):
        texts[PURPOSE_KEY + purpose["code"]] = purpose["label"]
    return {key: value for key, value in texts.items() if value}


def translation_status(questionnaire: Questionnaire) -> dict[str, tuple[int, int, list[str]]]:
    """Per offered language: translated, needed, and the keys still missing."""
    return completeness(all_texts(questionnaire), questionnaire)


def untranslated_languages(questionnaire: Questionnaire) -> dict[str, list[str]]:
    """Offered languages that still miss texts, with the keys they miss."""
    return {lang: missing for lang, (_done, _needed, missing)
            in translation_status(questionnaire).items() if missing}


def export_workbook(questionnaire: Questionnaire) -> bytes:
    """The spreadsheet a translator fills in: base language first, then every other language."""
    base = questionnaire.base_language
    languages = [base, *[lang for lang in questionnaire.languages if lang != base]]
    slots = _slots(questionnaire)
    texts = all_texts(questionnaire)
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(["key", "where", "check", *languages])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
    for key, value in texts.items():
        where = slots[key].where if key in slots else key.replace(":", " ").capitalize()
        sheet.append([key, where, _digest(value.get(base, "")),
                      *[value.get(lang, "") for lang in languages]])
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 28
    sheet.column_dimensions["C"].hidden = True
    for index in range(len(languages)):
        sheet.column_dimensions[chr(ord("D") + index)].width = 50
    for row in sheet.iter_rows(min_row=2):
        for cell in row[3:]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "D2"
    notes = book.create_sheet("How to translate")
    for line in (
        f"Questionnaire: {questionnaire.slug}",
        f"Write the translation of the '{base}' column into the column of your language.",
        "Do not change the columns key, where and the base language: rows are matched by key.",
        "Leave a cell empty to keep the text that is there now.",
        "Blank lines inside a cell separate paragraphs.",
    ):
        notes.append([line])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _read(data: bytes, questionnaire: Questionnaire) -> tuple[list[str], list[tuple]]:
    if len(data) > MAX_FILE_BYTES:
        raise WorkbookError(_("The file is larger than 5 MB."))
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
        raise WorkbookError(_("This is not an Excel file (.xlsx).")) from error
    except Exception as error:  # zipfile and XML errors of a damaged file
        raise WorkbookError(_("The file is damaged and cannot be read.")) from error
    if SHEET not in book.sheetnames:
        raise WorkbookError(_("The file has no sheet called “%(sheet)s”.", sheet=SHEET))
    rows = list(book[SHEET].iter_rows(values_only=True))
    book.close()
    if not rows:
        raise WorkbookError(_("The sheet is empty."))
    header = [str(cell).strip() if cell is not None else "" for cell in rows[0]]
    if header[:3] != ["key", "where", "check"]:
        raise WorkbookError(_("The first columns must be key, where and check, as exported."))
    languages = header[3:]
    unknown = [lang for lang in languages if lang and lang not in questionnaire.languages]
    if unknown:
        raise WorkbookError(_("Columns for languages this questionnaire does not offer: "
                              "%(languages)s.", languages=", ".join(unknown)))
    if questionnaire.base_language not in languages:
        raise WorkbookError(_("The base language column “%(language)s” is missing.",
                              language=questionnaire.base_language))
    return languages, rows[1:]


def apply_translations(
    questionnaire: Questionnaire, updates: dict[str, dict[str, str]], *,
    slots: dict[str, TextSlot] | None = None, current: dict[str, dict[str, str]] | None = None,
) -> None:
    """Store texts by key (each the whole language map) in the latest version.

    Also on a published version: wording may be corrected there, and the raised
    ``text_revision`` tells caches so. A change of consent wording (text or purpose box) is
    a new consent version, never an edit of one that consent was given to. Empty texts
    drop that language (the base language text is shown instead).
    """
    if not updates:
        return
    slots = slots if slots is not None else _slots(questionnaire)
    current = current if current is not None else all_texts(questionnaire)
    consent_changed = False
    for key, texts in updates.items():
        if key == CONSENT_KEY or key.startswith(PURPOSE_KEY):
            consent_changed = True
        else:
            slots[key].set_texts(texts)
    if consent_changed:
        purposes = consent_purposes(questionnaire)
        for purpose in purposes:
            purpose["label"] = updates.get(PURPOSE_KEY + purpose["code"], purpose["label"])
        bodies = updates.get(CONSENT_KEY, current[CONSENT_KEY])
        add_consent_version(questionnaire, {lang: text for lang, text in bodies.items()
                                            if text.strip()}, purposes)
    questionnaire.latest_version.text_revision += 1
    db.session.flush()


def import_workbook(questionnaire: Questionnaire, data: bytes) -> ImportReport:
    """Apply a translator's spreadsheet to the latest version; report what happened.

    :raise WorkbookError: the file is not a translation spreadsheet of this questionnaire;
        nothing is changed then.
    """
    languages, rows = _read(data, questionnaire)
    base = questionnaire.base_language
    slots = _slots(questionnaire)
    current = all_texts(questionnaire)
    report = ImportReport()
    updates: dict[str, dict[str, str]] = {}
    for row in rows:
        cells = [("" if cell is None else str(cell)) for cell in row]
        cells += [""] * (3 + len(languages) - len(cells))
        key, _where, check = cells[0].strip(), cells[1], cells[2].strip()
        if not key:
            continue
        if key not in current:
            report.unmatched.append(key)
            continue
        existing = current[key]
        if check != _digest(existing.get(base, "")):
            report.stale.append(key)
            continue
        values = dict(zip(languages, cells[3:], strict=False))
        if values.get(base, "").strip() != existing.get(base, "").strip():
            report.base_edits_ignored.append(key)
        for lang, text in values.items():
            text = text.strip()[:MAX_CELL]
            if lang == base or not lang or not text:
                continue
            if text != (existing.get(lang) or "").strip():
                updates.setdefault(key, dict(existing))[lang] = text
                report.changed.append((key, lang))
            else:
                report.unchanged += 1
    apply_translations(questionnaire, updates, slots=slots, current=current)
    report.missing = {lang: missing for lang, (_d, _n, missing)
                      in translation_status(questionnaire).items() if missing}
    return report
