"""Questionnaire structure. Texts are per-language JSON objects ``{"de": ..., "en": ...}``."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import UTCDateTime, db, utcnow

LocalizedText = dict


class QuestionnaireState(enum.StrEnum):
    """Life cycle of a questionnaire; only OPEN accepts responses."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


#: Which state may follow which; every change of state goes through ``Questionnaire.move_to``.
TRANSITIONS: dict[QuestionnaireState, frozenset[QuestionnaireState]] = {
    QuestionnaireState.DRAFT: frozenset({QuestionnaireState.OPEN, QuestionnaireState.ARCHIVED}),
    QuestionnaireState.OPEN: frozenset({QuestionnaireState.CLOSED}),
    QuestionnaireState.CLOSED: frozenset({QuestionnaireState.OPEN, QuestionnaireState.ARCHIVED}),
    QuestionnaireState.ARCHIVED: frozenset(),
}


class InvalidTransition(ValueError):
    """A state change the life cycle does not allow."""


class Questionnaire(db.Model):
    """A questionnaire as staff know it: a slug, a state, languages and privacy settings."""

    __tablename__ = "questionnaires"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public identifier in ``/s/<slug>``.
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    state: Mapped[QuestionnaireState] = mapped_column(
        sa.Enum(QuestionnaireState, native_enum=False, length=20), default=QuestionnaireState.DRAFT
    )
    #: Language every text must exist in; the fallback for missing translations.
    base_language: Mapped[str] = mapped_column(sa.String(10))
    #: Languages offered to respondents, base language first.
    languages: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: Anonymous questionnaires store no IP address, user agent or account link, and cut the
    #: link from the respondent's device (cookie, resume link) to the answers on submission.
    is_anonymous: Mapped[bool] = mapped_column(default=True)
    #: Keep only the day of submission (and of consent), not the time.
    coarse_timestamps: Mapped[bool] = mapped_column(default=True, server_default="1")
    #: Name and address of the data controller, shown on the consent page.
    controller: Mapped[str] = mapped_column(sa.Text, default="")
    privacy_url: Mapped[str] = mapped_column(sa.String(500), default="")
    #: How long complete answers are kept, in days, counted from submission; then purged.
    retention_days: Mapped[int] = mapped_column(default=730, server_default="730")
    #: How long an unfinished draft is kept after its last change, in days.
    draft_days: Mapped[int] = mapped_column(default=30, server_default="30")
    #: Results never show a group of fewer respondents than this (small-number protection).
    min_group_size: Mapped[int] = mapped_column(default=5, server_default="5")
    #: Respondents may start from then on (UTC); ``None``: as soon as it is open.
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Respondents may start and answer until then (UTC); ``None``: until it is closed.
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: No new respondents once this many responses are complete; ``None``: no limit.
    max_responses: Mapped[int | None] = mapped_column()
    #: Raised by every save of the settings page, so that two staff saving at once notice.
    settings_revision: Mapped[int] = mapped_column(default=1, server_default="1")
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[QuestionnaireVersion]] = relationship(
        back_populates="questionnaire", order_by="QuestionnaireVersion.number"
    )

    @property
    def published_version(self) -> QuestionnaireVersion | None:
        """The newest published version: the one respondents answer."""
        published = [v for v in self.versions if v.published_at is not None]
        return published[-1] if published else None

    @property
    def latest_version(self) -> QuestionnaireVersion | None:
        """The newest version, published or not: the one staff edit and preview."""
        return self.versions[-1] if self.versions else None

    @property
    def keeps_day_only(self) -> bool:
        """Whether times are cut to the day: on request, and always when anonymous, where an
        exact time would match a response to the invitation or the call that led to it."""
        return self.coarse_timestamps or self.is_anonymous

    @property
    def is_open(self) -> bool:
        """Whether respondents may answer now."""
        return self.state is QuestionnaireState.OPEN and self.published_version is not None

    def closed_reason(self, now: datetime, *, complete_responses: int = 0,
                      starting: bool = True) -> str | None:
        """Why respondents may not answer at ``now``, or ``None`` if they may.

        ``not_open`` (state, or nothing published), ``not_yet_open`` (before ``opens_at``),
        ``ended`` (from ``closes_at`` on) or ``full`` (``complete_responses`` reached
        ``max_responses``). ``starting=False`` asks for a draft already under way: it was let
        in before the maximum was reached, so it may still be finished then.
        """
        if self.state is not QuestionnaireState.OPEN or (
                starting and self.published_version is None):
            return "not_open"
        if self.opens_at is not None and now < self.opens_at:
            return "not_yet_open"
        if self.closes_at is not None and now >= self.closes_at:
            return "ended"
        if (starting and self.max_responses is not None
                and complete_responses >= self.max_responses):
            return "full"
        return None

    def move_to(self, state: QuestionnaireState) -> None:
        """Change state, refusing transitions the life cycle does not allow."""
        if state not in TRANSITIONS[self.state]:
            raise InvalidTransition(f"{self.state} -> {state}")
        self.state = state

    def __repr__(self) -> str:
        return f"<Questionnaire {self.slug} {self.state}>"


class QuestionnaireShare(db.Model):
    """A builder who may work on a questionnaire they do not own."""

    __tablename__ = "questionnaire_shares"

    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaires.id"),
                                                  primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuestionnaireVersion(db.Model):
    """One version of a questionnaire's content; frozen once published."""

    __tablename__ = "questionnaire_versions"
    __table_args__ = (sa.UniqueConstraint("questionnaire_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaires.id"), index=True)
    #: 1, 2, 3 ... per questionnaire.
    number: Mapped[int]
    title: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    intro: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    thank_you: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when the version is published; from then on its structure never changes.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Raised by every change of wording (translations may be corrected after publishing),
    #: so that caches of the version know they are stale.
    text_revision: Mapped[int] = mapped_column(default=1, server_default="1")

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="versions")
    pages: Mapped[list[Page]] = relationship(
        back_populates="version", order_by="Page.position", cascade="all, delete-orphan"
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="version",
        order_by="(Question.page_id, Question.position)",
        viewonly=True,
    )


class Page(db.Model):
    """A page of questions shown together."""

    __tablename__ = "pages"
    __table_args__ = (sa.UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire_versions.id"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: Condition in the format of questionnaires.conditions; ``None`` = always shown.
    show_if: Mapped[dict | None] = mapped_column(sa.JSON)

    version: Mapped[QuestionnaireVersion] = relationship(back_populates="pages")
    questions: Mapped[list[Question]] = relationship(
        back_populates="page", order_by="Question.position", cascade="all, delete-orphan"
    )


class Question(db.Model):
    """A question; ``type`` names a module of the question-type registry."""

    __tablename__ = "questions"
    __table_args__ = (sa.UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire_versions.id"), index=True)
    page_id: Mapped[int] = mapped_column(sa.ForeignKey("pages.id"), index=True)
    position: Mapped[int]
    #: Stable code: the form field name, the export column, the key of conditions.
    code: Mapped[str] = mapped_column(sa.String(32))
    type: Mapped[str] = mapped_column(sa.String(30))
    is_required: Mapped[bool] = mapped_column(default=False)
    text: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    help: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: Type-specific settings (bounds, min/max selections, labels); validated by the type.
    settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    has_other: Mapped[bool] = mapped_column(default=False)
    has_prefer_not: Mapped[bool] = mapped_column(default=False)
    show_if: Mapped[dict | None] = mapped_column(sa.JSON)

    version: Mapped[QuestionnaireVersion] = relationship(back_populates="questions")
    page: Mapped[Page] = relationship(back_populates="questions")
    choices: Mapped[list[Option]] = relationship(
        back_populates="question", order_by="Option.position", cascade="all, delete-orphan"
    )

    @property
    def options(self) -> list[Option]:
        """The answer options (for a matrix: its shared scale)."""
        return [c for c in self.choices if not c.is_row]

    @property
    def rows(self) -> list[Option]:
        """The rows of a matrix question."""
        return [c for c in self.choices if c.is_row]


class Option(db.Model):
    """An answer option or a matrix row, with a stable code."""

    __tablename__ = "options"
    __table_args__ = (sa.UniqueConstraint("question_id", "is_row", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questions.id"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(sa.String(32))
    label: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: True for a matrix row, False for an answer option.
    is_row: Mapped[bool] = mapped_column(default=False)

    question: Mapped[Question] = relationship(back_populates="choices")
