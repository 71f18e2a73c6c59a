"""The right-of-access document as a PDF the person can read, in the language they answered in.

The same content as the JSON download (``responses.personal_data.access_document``), laid out
by the typst template ``templates/privacy/access.typ``; every word is translated here.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import force_locale, format_date, format_datetime, format_decimal
from flask_babel import gettext as _

from surveyapp.db import db
from surveyapp.i18n import direction, language_name, localized, text_direction
from surveyapp.questionnaires.models import Questionnaire
from surveyapp.responses.models import Response
from surveyapp.responses.personal_data import access_document
from surveyapp.typesetting import compile_pdf

TEMPLATE = Path(__file__).parent / "templates" / "privacy" / "access.typ"
#: En dash: between a matrix question and its row, and for "no date".
DASH = "\u2013"


def _own(text: str | None, doc_dir: str) -> Any:
    """A text as the template takes it: plain, or with its direction if it reads the other way."""
    text = text or ""
    own = text_direction(text)
    return {"text": text, "dir": own} if own and own != doc_dir else text


def _moment(value: str | None, day_only: bool = False) -> str:
    if not value:
        return DASH
    moment = datetime.fromisoformat(value)
    # A coarsened timestamp is midnight UTC: its "time" would only mislead.
    return format_date(moment, "medium") if day_only else format_datetime(moment, "medium")


def _answer_text(answer: dict) -> str:
    if answer["option_text"]:
        value = answer["option_text"]
        if answer["text"]:  # "Other, please specify"
            value += f": {answer['text']}"
        return value
    if answer["number"] is not None:
        return format_decimal(answer["number"])
    return answer["date"] or answer["text"] or answer["option"] or ""


def access_data(document: dict, questionnaire: Questionnaire, lang: str) -> dict[str, Any]:
    """The template's data: every label translated, every value formatted, texts directed."""
    doc_dir = direction(lang)
    day = questionnaire.keeps_day_only
    version = questionnaire.published_version or questionnaire.latest_version
    title, _title_lang = localized(version.title if version else {}, lang,
                                   questionnaire.base_language)
    status = {"complete": _("Sent"), "draft": _("Not finished"),
              "withdrawn": _("Withdrawn")}.get(document["status"], document["status"])
    channel = {"web": _("Online"), "phone": _("By phone")}.get(document["channel"],
                                                                document["channel"])
    facts = [
        [_("Questionnaire"), _own(title or questionnaire.slug, doc_dir)],
        [_("Version"), str(document["questionnaire_version"])],
        [_("Status"), status],
        [_("Language"), language_name(document["language"])],
        [_("Channel"), channel],
        [_("Started"), _moment(document["started_at"], day)],
        [_("Sent"), _moment(document["submitted_at"], day)],
    ]
    if document["withdrawn_at"]:
        facts.append([_("Withdrawn on"), _moment(document["withdrawn_at"], day)])
    consent = document["consent"]
    answers = []
    for answer in document["answers"]:
        question = answer["question_text"] or answer["question"]
        if answer["row_text"]:
            question = f"{question} {DASH} {answer['row_text']}"
        answers.append([_own(question, doc_dir), _own(_answer_text(answer), doc_dir)])
    return {
        "version": 1,
        "lang": lang,
        "dir": doc_dir,
        "title": _("Your data"),
        "title_plain": _("Your data") + f" {DASH} {title or questionnaire.slug}",
        "intro": _("This document lists everything stored about your answers to this "
                   "questionnaire. It was made at your request (right of access)."),
        "facts_heading": _("Your response"),
        "facts": facts,
        "consent_heading": _("Your consent"),
        "consent": None if consent is None else {
            "facts": [
                [_("Version of the consent text"), str(consent["consent_text_version"])],
                [_("Language"), language_name(consent["language"])],
                [_("Consent given on"), _moment(consent["given_at"], day)],
                [_("Purposes agreed to"), ", ".join(
                    _("Use of my answers") if code == "answers" else label
                    for code, label in zip(consent["purposes"], consent["purpose_labels"],
                                           strict=True))],
                # In groups of eight, as fingerprints are compared, and so that lines break.
                [_("Fingerprint of the text (SHA-256)"), " ".join(
                    consent["text_sha256"][i:i + 8] for i in range(0, 64, 8))],
            ],
            "text_heading": _("The text you agreed to"),
            "paragraphs": [_own(p.strip(), doc_dir) for p in
                           consent["text"].replace("\r\n", "\n").split("\n\n") if p.strip()],
        },
        "answers_heading": _("Your answers"),
        "answers_columns": [_("Question"), _("Your answer")],
        "answers": answers,
        "no_answers": _("No answers are stored."),
        "made": _("Made on %(moment)s.", moment=format_datetime(format="medium")),
    }


def render_access_pdf(response: Response) -> bytes:
    """The access document as a PDF in the language the person answered in (if we speak it)."""
    lang = response.language
    if lang not in current_app.config["INTERFACE_LANGUAGES"]:
        lang = current_app.config["BABEL_DEFAULT_LOCALE"]
    questionnaire = db.session.get(Questionnaire, response.questionnaire_id)
    with force_locale(lang):  # the labels worded by the interface ("Yes") too
        data = access_data(access_document(response), questionnaire, lang)
        return compile_pdf(TEMPLATE, lambda _folder: data)
