"""Consent texts and consent records."""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import UTCDateTime, db, utcnow


def text_digest(text: str, purposes: list | None = None) -> str:
    """SHA-256 of a consent text as shown (with its purpose boxes), proving the words agreed to."""
    shown = text + "".join(f"\n\n[{p['code']}] {p['label']}" for p in purposes or [])
    return hashlib.sha256(shown.encode("utf-8")).hexdigest()


class ConsentText(db.Model):
    """The consent text of a questionnaire in one language, at one version."""

    __tablename__ = "consent_texts"
    __table_args__ = (sa.UniqueConstraint("questionnaire_id", "version", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaires.id"), index=True)
    #: Increases with every published change; records keep pointing at the version they saw.
    version: Mapped[int]
    language: Mapped[str] = mapped_column(sa.String(10))
    body: Mapped[str] = mapped_column(sa.Text)
    #: Further purposes, each its own box in this language:
    #: ``[{"code": "contact", "required": false, "label": "Contact me again ..."}]``.
    purposes: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    #: SHA-256 of ``body`` and the purpose labels, exactly as shown.
    digest: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsentRecord(db.Model):
    """Proof of consent, written in the same transaction as the response it belongs to."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(sa.ForeignKey("responses.id"), unique=True)
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaires.id"), index=True)
    #: The questionnaire version the respondent started.
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire_versions.id"))
    consent_text_id: Mapped[int] = mapped_column(sa.ForeignKey("consent_texts.id"))
    #: Language of the text shown (may differ from the response's if it fell back).
    language: Mapped[str] = mapped_column(sa.String(10))
    #: Digest of the exact text shown.
    digest: Mapped[str] = mapped_column(sa.String(64))
    #: Purposes agreed to, as codes (``answers`` is always among them).
    purposes: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: ``web`` or ``phone`` (read aloud by an interviewer).
    channel: Mapped[str] = mapped_column(sa.String(20))
    interviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    consent_text: Mapped[ConsentText] = relationship()
