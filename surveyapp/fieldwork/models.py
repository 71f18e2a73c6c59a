"""Contacts and their personal invitations, with a record of every message sent."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import UTCDateTime, db, utcnow


class Contact(db.Model):
    """A person staff may invite to one questionnaire.

    Contacts belong to a questionnaire, not to the whole project: a list uploaded for one
    survey is consented to and erased with that survey, and never leaks into another.
    """

    __tablename__ = "contacts"
    # An e-mail address or phone number appears once per questionnaire (NULLs never clash),
    # so uploading the same file twice cannot double anyone.
    __table_args__ = (
        sa.UniqueConstraint("questionnaire_id", "email"),
        sa.UniqueConstraint("questionnaire_id", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaires.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Lower-cased e-mail address, or ``None``.
    email: Mapped[str | None] = mapped_column(sa.String(254))
    #: Phone number as digits with an optional leading ``+``, or ``None``.
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    #: Content language the person is written to and answers in (one of the questionnaire's).
    language: Mapped[str] = mapped_column(sa.String(10))
    #: The person asked not to be contacted again: no invitation, reminder or call.
    do_not_contact: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invitations: Mapped[list[Invitation]] = relationship(back_populates="contact")

    def __repr__(self) -> str:
        return f"<Contact {self.id}>"


class Invitation(db.Model):
    """A single-use link to one questionnaire, for a contact or as an anonymous code.

    The token in the link is an HMAC of ``id`` and ``nonce`` under the app's secret key, so
    the link can be shown again (mail-merge export, printed codes) without being stored;
    only its SHA-256 is kept, to find the invitation from a link.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaires.id"), index=True)
    #: ``None`` for an anonymous code handed out on paper.
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"), index=True)
    #: Random, so a reused row id (after deletions) never yields an old link again.
    nonce: Mapped[str] = mapped_column(sa.String(32))
    #: SHA-256 of the token in the link.
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the answers were sent (only the day for questionnaires with coarse timestamps).
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The draft started with this link, to resume it. In anonymous questionnaires it is cut in
    #: the transaction that submits the response, so no sent response leads to an invitation.
    response_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("responses.id", ondelete="SET NULL"), unique=True)

    contact: Mapped[Contact | None] = relationship(back_populates="invitations")
    messages: Mapped[list[SentMessage]] = relationship(
        back_populates="invitation", cascade="all, delete-orphan", passive_deletes=True,
        order_by="SentMessage.id")


class MessageKind(enum.StrEnum):
    """Why a message was sent."""

    INVITATION = "invitation"
    REMINDER = "reminder"


class MessageStatus(enum.StrEnum):
    """What the mail server said."""

    SENT = "sent"
    FAILED = "failed"


class SentMessage(db.Model):
    """One attempt to e-mail an invitation or a reminder; also what the hourly limit counts."""

    __tablename__ = "sent_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invitations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[MessageKind] = mapped_column(sa.Enum(MessageKind, native_enum=False, length=20))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    status: Mapped[MessageStatus] = mapped_column(
        sa.Enum(MessageStatus, native_enum=False, length=20))
    #: The server's complaint when sending failed (no message content is kept).
    error: Mapped[str] = mapped_column(sa.String(300), default="")

    invitation: Mapped[Invitation] = relationship(back_populates="messages")
