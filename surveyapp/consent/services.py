"""Verbs on consent texts and consent records. They flush; the caller commits once."""

from __future__ import annotations

import sqlalchemy as sa

from surveyapp.consent.models import ConsentRecord, ConsentText, text_digest
from surveyapp.db import db, start_of_day
from surveyapp.questionnaires.models import Questionnaire

#: The purpose every respondent must agree to: that their answers are used.
ANSWERS_PURPOSE = "answers"


def add_consent_version(
    questionnaire: Questionnaire, texts: dict[str, str], purposes: list[dict] | None = None
) -> int:
    """Store a new version of the consent text in each given language; return its number.

    ``purposes`` are the further boxes beside "use my answers":
    ``[{"code": ..., "required": bool, "label": {language: text}}]``.
    """
    current = db.session.scalar(
        sa.select(sa.func.max(ConsentText.version)).filter_by(questionnaire_id=questionnaire.id)
    )
    number = (current or 0) + 1
    base = questionnaire.base_language
    for language, body in texts.items():
        shown = [
            {"code": p["code"], "required": bool(p.get("required")),
             "label": p["label"].get(language) or p["label"].get(base, "")}
            for p in purposes or []
        ]
        db.session.add(
            ConsentText(
                questionnaire_id=questionnaire.id,
                version=number,
                language=language,
                body=body,
                purposes=shown,
                digest=text_digest(body, shown),
            )
        )
    db.session.flush()
    return number


def consent_purposes(questionnaire: Questionnaire) -> list[dict]:
    """The further purposes of the newest consent version, labels by language."""
    latest = db.session.scalar(
        sa.select(sa.func.max(ConsentText.version)).filter_by(questionnaire_id=questionnaire.id)
    )
    purposes: dict[str, dict] = {}
    for text in db.session.scalars(
        sa.select(ConsentText).filter_by(questionnaire_id=questionnaire.id, version=latest)
    ):
        for purpose in text.purposes or []:
            entry = purposes.setdefault(
                purpose["code"],
                {"code": purpose["code"], "required": purpose["required"], "label": {}},
            )
            entry["label"][text.language] = purpose["label"]
    return list(purposes.values())


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


class PurposeMissing(ValueError):
    """A purpose marked as required was not agreed to."""


def agreed_purposes(consent_text: ConsentText, ticked: list[str]) -> list[str]:
    """The purposes to record: "answers" and each shown box that was ticked.

    Codes that were not shown are ignored. :raise PurposeMissing: a required box is unticked.
    """
    shown = {p["code"]: p for p in consent_text.purposes or []}
    if any(p["required"] and code not in ticked for code, p in shown.items()):
        raise PurposeMissing()
    return [ANSWERS_PURPOSE, *[code for code in shown if code in ticked]]


def record_consent(
    *, response_id: int, questionnaire: Questionnaire, version_id: int, consent_text: ConsentText,
    channel: str, purposes: list[str], interviewer_id: int | None = None,
) -> ConsentRecord:
    """Write the proof of consent for a response, in the caller's transaction."""
    record = ConsentRecord(
        response_id=response_id,
        questionnaire_id=questionnaire.id,
        version_id=version_id,
        consent_text_id=consent_text.id,
        language=consent_text.language,
        digest=consent_text.digest,
        purposes=purposes,
        channel=channel,
        interviewer_id=interviewer_id,
    )
    db.session.add(record)
    db.session.flush()
    return record


def forget_consent_interviewer(response_ids: list[int]) -> None:
    """Drop the interviewer from these responses' consent records (anonymous questionnaires).

    The record keeps that consent was read aloud (channel ``phone``); which account read it
    would name the person the call list says that interviewer reached.
    """
    if response_ids:
        db.session.execute(sa.update(ConsentRecord)
                           .where(ConsentRecord.response_id.in_(response_ids))
                           .values(interviewer_id=None))


def coarsen_consent_times(response_ids: list[int]) -> None:
    """Keep only the UTC day of the consent of these responses (anonymous questionnaires)."""
    if not response_ids:
        return
    records = db.session.execute(sa.select(ConsentRecord.id, ConsentRecord.given_at)
                                 .where(ConsentRecord.response_id.in_(response_ids))).all()
    if records:
        db.session.execute(sa.update(ConsentRecord), [
            {"id": record_id, "given_at": start_of_day(given_at)}
            for record_id, given_at in records])


class ConsentStale(ValueError):
    """A newer consent version was saved after the editing form was opened."""


def latest_consent_version(questionnaire: Questionnaire) -> int | None:
    """The number of the newest consent version, ``None`` before the first."""
    return db.session.scalar(
        sa.select(sa.func.max(ConsentText.version)).filter_by(questionnaire_id=questionnaire.id)
    )


def consent_records_count(questionnaire: Questionnaire, version: int | None) -> int:
    """How many consent records were given to this consent version (all languages)."""
    if version is None:
        return 0
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(ConsentRecord)
        .join(ConsentText, ConsentText.id == ConsentRecord.consent_text_id)
        .where(ConsentText.questionnaire_id == questionnaire.id,
               ConsentText.version == version))


def edit_consent(
    questionnaire: Questionnaire, language: str, body: str, purposes: list[dict], *,
    based_on: int | None,
) -> int | None:
    """Save one language's consent text and purposes as a new version; ``None``: unchanged.

    A stored version is never edited (consent records point at it): the other languages are
    carried over into the new version. ``purposes`` are ``{"code", "required", "label"}``
    with the label in ``language``; in the base language they decide which purposes exist
    and which are needed to take part, in other languages only their labels count. An empty
    ``body`` outside the base language drops that translation (the base text is shown).

    :raise ConsentStale: ``based_on`` is not the newest version any more.
    """
    new_texts, new_purposes, changed = _edited(questionnaire, language, body, purposes)
    if latest_consent_version(questionnaire) != based_on:
        if not changed:  # the same change saved twice (a double click): nothing to lose
            return None
        raise ConsentStale()
    if not changed:
        return None
    return add_consent_version(questionnaire, new_texts, new_purposes)


def _edited(questionnaire: Questionnaire, language: str, body: str,
            purposes: list[dict]) -> tuple[dict[str, str], list[dict], bool]:
    """The texts and purposes after the edit, and whether they differ from the newest."""
    base = questionnaire.base_language
    texts = consent_texts_by_language(questionnaire)
    new_texts = dict(texts)
    if body.strip():
        new_texts[language] = body.strip()
    else:
        new_texts.pop(language, None)
    existing = consent_purposes(questionnaire)
    posted = {p["code"]: p for p in purposes}
    if language == base:
        old = {p["code"]: p for p in existing}
        new_purposes = [
            {"code": code, "required": bool(p.get("required")),
             "label": {**old.get(code, {}).get("label", {}), language: p["label"].strip()}}
            for code, p in posted.items()
        ]
    else:
        new_purposes = []
        for purpose in existing:
            labels = dict(purpose["label"])
            label = (posted.get(purpose["code"], {}).get("label") or "").strip()
            if label:
                labels[language] = label
            else:
                labels.pop(language, None)
            new_purposes.append({**purpose, "label": labels})
    changed = new_texts != texts or _shown(new_purposes, new_texts, base) != _shown(
        existing, texts, base)
    return new_texts, new_purposes, changed


def _shown(purposes: list[dict], texts: dict[str, str], base: str) -> list:
    """The purposes as each language shows them (missing labels fall back to the base)."""
    return [(p["code"], bool(p["required"]),
             {lang: p["label"].get(lang) or p["label"].get(base, "") for lang in texts})
            for p in purposes]
