"""Verbs of the questionnaire builder. They flush; the view commits once.

Staff only ever change an unpublished draft version. Every change carries the revision token
of what the person started from (a digest of the item as it was shown); a token that no longer
matches means someone else changed it meanwhile, and the change is refused (``StaleEdit``)
instead of silently overwriting theirs.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from surveyapp.accounts.models import User
from surveyapp.audit.models import AuditEntry
from surveyapp.audit.services import record
from surveyapp.campaigns.models import Campaign
from surveyapp.consent.models import ConsentRecord, ConsentText
from surveyapp.consent.services import add_consent_version
from surveyapp.content_translation.workbook import untranslated_languages
from surveyapp.db import db, utcnow
from surveyapp.fieldwork.models import Contact, Invitation
from surveyapp.questionnaires.conditions import condition_errors, rules_of
from surveyapp.questionnaires.definition import (
    ITEM_CODE,
    OPTION_CODE,
    SLUG,
    DefinitionError,
    parse_definition,
)
from surveyapp.questionnaires.models import (
    Option,
    Page,
    Question,
    Questionnaire,
    QuestionnaireShare,
    QuestionnaireState,
    QuestionnaireVersion,
)
from surveyapp.questionnaires.question_types import REGISTRY
from surveyapp.questionnaires.services import get_by_slug, load_version
from surveyapp.responses.models import Answer, Response
from surveyapp.transfer import export_questionnaire, import_questionnaire

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "demo"


class BuilderError(ValueError):
    """A change the builder refuses; ``message`` is translated and shown to the person."""

    def __init__(self, message: str):
        message = str(message)
        super().__init__(message)
        self.message = message


class StaleEdit(BuilderError):
    """Someone else changed the item since the person opened it."""


# --------------------------------------------------------------------------------------------
# Revision tokens


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False,
                                     default=str).encode()).hexdigest()[:16]


def question_token(question: Question) -> str:
    """What a question (with its options and rows) looks like now, as a short digest.

    The condition is left out: it has its own page, and its edits must not make this stale.
    """
    return _digest([question.code, question.type, question.is_required, question.text,
                    question.help, question.settings, question.has_other,
                    question.has_prefer_not,
                    [(c.id, c.code, c.label, c.is_row) for c in question.choices]])


def page_token(page: Page) -> str:
    """The page's title as a digest."""
    return _digest([page.code, page.title])


def texts_token(version: QuestionnaireVersion) -> str:
    """The version's title, introduction and thank-you text as a digest."""
    return _digest([version.title, version.intro, version.thank_you])


def structure_token(version: QuestionnaireVersion) -> str:
    """Which pages and questions there are, in which order, as a digest."""
    return _digest([(page.id, [q.id for q in page.questions]) for page in version.pages])


def _check(expected: str | None, current: str) -> None:
    if expected != current:
        raise StaleEdit(_("Someone else changed this while you were editing it. Your text "
                          "is kept below; the current state is shown. Check it and save "
                          "again."))


# --------------------------------------------------------------------------------------------
# Finding what to edit


def draft_version(questionnaire: Questionnaire) -> QuestionnaireVersion | None:
    """The unpublished version staff edit, if there is one."""
    latest = questionnaire.latest_version
    return latest if latest is not None and latest.published_at is None else None


def editable_tree(questionnaire: Questionnaire, *, lock: bool = False) -> QuestionnaireVersion:
    """The draft with its pages, questions and options, fresh from the database.

    ``lock`` takes the draft's row lock first (PostgreSQL; SQLite writers queue anyway), so
    that two saves of the same draft are checked one after the other.

    :raise BuilderError: there is no draft (the newest version is published).
    """
    draft = draft_version(questionnaire)
    if draft is None:
        raise BuilderError(_("This version is published and cannot change. Press “Make "
                             "changes” to start a new version."))
    if lock:
        db.session.execute(sa.select(QuestionnaireVersion.id)
                           .where(QuestionnaireVersion.id == draft.id).with_for_update())
    version = db.session.scalar(
        sa.select(QuestionnaireVersion)
        .where(QuestionnaireVersion.id == draft.id)
        .options(selectinload(QuestionnaireVersion.pages).selectinload(Page.questions)
                 .selectinload(Question.choices))
        .execution_options(populate_existing=True))
    assert version is not None
    return version


def outline(questionnaire: Questionnaire) -> tuple[QuestionnaireVersion, dict[int, int]]:
    """The newest version's pages and questions without their options, and option counts.

    The editor shows every question but opens one at a time: loading thousands of options
    only to count them was most of its time (benchmarks/builder.py).
    """
    latest = questionnaire.latest_version
    if latest is None:
        raise LookupError("no version")
    version = db.session.scalar(
        sa.select(QuestionnaireVersion)
        .where(QuestionnaireVersion.id == latest.id)
        .options(selectinload(QuestionnaireVersion.pages).selectinload(Page.questions))
        .execution_options(populate_existing=True))
    counts = dict(db.session.execute(
        sa.select(Option.question_id, sa.func.count())
        .join(Question, Question.id == Option.question_id)
        .where(Question.version_id == version.id)
        .group_by(Option.question_id)).all())
    return version, counts


def find_question(version: QuestionnaireVersion, question_id: int) -> Question | None:
    """The draft's question with this id."""
    return next((q for p in version.pages for q in p.questions if q.id == question_id), None)


def find_page(version: QuestionnaireVersion, page_id: int) -> Page | None:
    """The draft's page with this id."""
    return next((p for p in version.pages if p.id == page_id), None)


# --------------------------------------------------------------------------------------------
# What has been answered (live questionnaires)


def _real_answers():
    return (sa.select(Answer.id).join(Response, Response.id == Answer.response_id)
            .where(~Response.is_preview))


def answered_codes(questionnaire: Questionnaire) -> set[str]:
    """Question codes that have real (not preview) answers in any version."""
    answered = sa.exists(_real_answers().where(Answer.question_id == Question.id))
    return set(db.session.scalars(
        sa.select(Question.code).distinct()
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Question.version_id)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire.id,
               QuestionnaireVersion.published_at.is_not(None), answered)))


def _question_ids(questionnaire: Questionnaire, code: str) -> sa.Select:
    return (sa.select(Question.id)
            .join(QuestionnaireVersion, QuestionnaireVersion.id == Question.version_id)
            .where(QuestionnaireVersion.questionnaire_id == questionnaire.id,
                   QuestionnaireVersion.published_at.is_not(None), Question.code == code))


def answered_choice_codes(questionnaire: Questionnaire, code: str) -> tuple[set, set]:
    """Option codes and matrix row codes that real answers to question ``code`` hold."""
    rows = db.session.execute(
        sa.select(Answer.option_code, Answer.row_code).distinct()
        .join(Response, Response.id == Answer.response_id)
        .where(~Response.is_preview, Answer.question_id.in_(_question_ids(questionnaire, code))))
    options, matrix_rows = set(), set()
    for option_code, row_code in rows:
        if option_code:
            options.add(option_code)
        if row_code:
            matrix_rows.add(row_code)
    return options, matrix_rows


def _earlier_types(questionnaire: Questionnaire) -> dict[str, str]:
    """Type of every question code in published versions (the newest wins)."""
    rows = db.session.execute(
        sa.select(Question.code, Question.type)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Question.version_id)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire.id,
               QuestionnaireVersion.published_at.is_not(None))
        .order_by(QuestionnaireVersion.number))
    return dict(rows.all())


def _used_codes(questionnaire: Questionnaire) -> set[str]:
    """Every question code any version ever had (never handed out again automatically)."""
    return set(db.session.scalars(
        sa.select(Question.code)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Question.version_id)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire.id)))


def _drop_preview_answers(question_ids: list[int]) -> None:
    """Staff previews answered a draft question that changes shape or goes: drop those answers."""
    if not question_ids:
        return
    previews = sa.select(Response.id).where(Response.is_preview)
    db.session.execute(sa.delete(Answer).where(Answer.question_id.in_(question_ids),
                                               Answer.response_id.in_(previews)))


# --------------------------------------------------------------------------------------------
# Starting a questionnaire


def template_definitions() -> list[dict]:
    """The demo questionnaires that serve as templates, by file name order."""
    return [json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(TEMPLATE_DIR.glob("*.json"))]


def _check_slug(slug: str) -> None:
    if not SLUG.match(slug or ""):
        raise BuilderError(_("The web address may contain lower-case letters, digits and "
                             "hyphens (2 to 64 characters)."))
    if get_by_slug(slug) is not None:
        raise BuilderError(_("The web address “%(slug)s” is already taken. Please choose "
                             "another.", slug=slug))


def derive_slug(title: str) -> str:
    """A free web address made from a title (``Umfrage 2025`` -> ``umfrage-2025``)."""
    plain = title.lower().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}))
    base = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:56] or "questionnaire"
    if len(base) < 2:
        base = f"q-{base}"
    slug, number = base, 1
    while get_by_slug(slug) is not None:
        number += 1
        slug = f"{base}-{number}"
    return slug


#: What the start forms send (``secrets.token_urlsafe(24)``); short enough for the log.
START_KEY = re.compile(r"^[A-Za-z0-9_-]{16,32}$")


def already_started(owner_id: int, start_key: str | None) -> Questionnaire | None:
    """The questionnaire this person already created with this start form, if any.

    Each start form carries a random key, written with the creation to the audit log; a
    second press of the same form (a double click, a slow network) finds the first
    questionnaire instead of making a second. The person's row is locked first (PostgreSQL;
    SQLite's writers queue anyway), so that two presses are checked one after the other.
    """
    if not start_key or not START_KEY.match(start_key):
        return None
    db.session.execute(sa.select(User.id).where(User.id == owner_id).with_for_update())
    target = db.session.scalar(
        sa.select(AuditEntry.target).where(
            AuditEntry.user_id == owner_id, AuditEntry.action == "questionnaire.create",
            AuditEntry.target.like(f"% start:{start_key}")))
    if target is None:
        return None
    return get_by_slug(target.split(":", 1)[1].split(" ", 1)[0])


def _created(questionnaire: Questionnaire, owner_id: int, start_key: str | None) -> None:
    key = f" start:{start_key}" if start_key and START_KEY.match(start_key) else ""
    record(owner_id, "questionnaire.create", f"questionnaire:{questionnaire.slug}{key}")


def start_from_definition(data: Any, owner_id: int, slug: str | None = None,
                          start_key: str | None = None) -> Questionnaire:
    """Create a draft questionnaire from a definition (a template, a copy or an upload).

    :raise DefinitionError: listing every problem of the definition.
    :raise BuilderError: the chosen web address is malformed or taken.
    """
    if isinstance(data, dict) and slug:
        data = {**data, "slug": slug}
    if isinstance(data, dict) and isinstance(data.get("slug"), str):
        _check_slug(data["slug"])
    questionnaire = import_questionnaire(data)
    questionnaire.owner_id = owner_id
    _created(questionnaire, owner_id, start_key)
    db.session.flush()
    return questionnaire


def copy_questionnaire(source: Questionnaire, owner_id: int, slug: str,
                       start_key: str | None = None) -> Questionnaire:
    """A new draft questionnaire with the newest version and consent text of ``source``."""
    return start_from_definition(export_questionnaire(source), owner_id, slug, start_key)


def start_blank(*, slug: str, title: str, base_language: str, languages: list[str],
                owner_id: int, start_key: str | None = None) -> Questionnaire:
    """An empty draft questionnaire with one empty page and a plain consent text."""
    _check_slug(slug)
    languages = [base_language, *[x for x in languages if x != base_language]]
    questionnaire = Questionnaire(slug=slug, base_language=base_language, languages=languages,
                                  owner_id=owner_id)
    version = QuestionnaireVersion(questionnaire=questionnaire, number=1,
                                   title={base_language: title.strip()})
    Page(version=version, position=1, code="page_1", title={})
    db.session.add(questionnaire)
    db.session.flush()
    texts = {}
    for lang in languages:
        with force_locale(lang):
            texts[lang] = _("Taking part is voluntary. You may skip questions that are not "
                            "required and stop at any time. Your answers are used only for "
                            "this survey.")
    add_consent_version(questionnaire, texts)
    _created(questionnaire, owner_id, start_key)
    return questionnaire


# --------------------------------------------------------------------------------------------
# Versions


def copy_question(question: Question, *, page: Page, position: int, code: str) -> Question:
    """A copy of ``question`` with its options and rows, on ``page`` (in ``page.version``);
    texts and settings are copied, never shared, so editing one leaves the other alone."""
    copied = Question(version=page.version, page=page, position=position, code=code,
                      type=question.type, is_required=question.is_required,
                      text=dict(question.text), help=dict(question.help),
                      settings=copy.deepcopy(question.settings), has_other=question.has_other,
                      has_prefer_not=question.has_prefer_not,
                      show_if=copy.deepcopy(question.show_if))
    for choice in question.choices:
        Option(question=copied, position=choice.position, code=choice.code,
               label=dict(choice.label), is_row=choice.is_row)
    return copied


def make_changes(questionnaire: Questionnaire, user_id: int | None) -> QuestionnaireVersion:
    """The draft to edit: the existing one, or a copy of the published version (number + 1).

    Codes stay the same, so answers to either version count together in the results.
    """
    db.session.execute(sa.select(Questionnaire.id).where(Questionnaire.id == questionnaire.id)
                       .with_for_update())
    db.session.refresh(questionnaire, ["versions"])
    if questionnaire.state is QuestionnaireState.ARCHIVED:
        raise BuilderError(_("This questionnaire is archived and cannot change."))
    draft = draft_version(questionnaire)
    if draft is not None:
        return draft
    source = load_version(questionnaire.latest_version.id)
    version = QuestionnaireVersion(
        questionnaire=questionnaire, number=source.number + 1, title=dict(source.title),
        intro=dict(source.intro), thank_you=dict(source.thank_you))
    for page in source.pages:
        new_page = Page(version=version, position=page.position, code=page.code,
                        title=dict(page.title), show_if=copy.deepcopy(page.show_if))
        for question in page.questions:
            copy_question(question, page=new_page, position=question.position,
                          code=question.code)
    # Added once built: pages, questions and options follow from the version by cascade.
    db.session.add(version)
    db.session.flush()
    record(user_id, "questionnaire.new_version", f"questionnaire:{questionnaire.slug} "
           f"v{version.number}")
    return version


def definition_of(version: QuestionnaireVersion, questionnaire: Questionnaire) -> dict:
    """A version in the definition format, to check it with the importer's validation."""
    return {
        "format": "surveyapp/1", "slug": questionnaire.slug,
        "base_language": questionnaire.base_language, "languages": questionnaire.languages,
        "title": version.title, "intro": version.intro, "thank_you": version.thank_you,
        "consent": {"text": {questionnaire.base_language: "-"}},
        "pages": [{
            "code": page.code, "title": page.title, "show_if": page.show_if,
            "questions": [{
                "code": q.code, "type": q.type, "required": q.is_required, "text": q.text,
                "help": q.help, "other": q.has_other, "prefer_not": q.has_prefer_not,
                "settings": copy.deepcopy(q.settings),
                "options": [{"code": o.code, "label": o.label} for o in q.options],
                "rows": [{"code": r.code, "label": r.label} for r in q.rows],
                "show_if": q.show_if,
            } for q in page.questions],
        } for page in version.pages],
    }


def draft_problems(questionnaire: Questionnaire, version: QuestionnaireVersion) -> list[str]:
    """Everything that keeps the draft from being published (the importer's checks)."""
    return draft_problems_of(definition_of(version, questionnaire))


@dataclass
class PublishRefused(BuilderError):
    """The draft is not ready: its problems, or texts missing per language."""

    message: str
    problems: list[str] = field(default_factory=list)
    missing: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self):
        ValueError.__init__(self, self.message)


def publish_draft(questionnaire: Questionnaire, user_id: int | None) -> QuestionnaireVersion:
    """Check and publish the draft; open a questionnaire that was never open; log it.

    :raise PublishRefused: with the draft's problems or the missing translations.
    """
    version = editable_tree(questionnaire, lock=True)
    problems = draft_problems(questionnaire, version)
    problems.extend(_live_problems(questionnaire, version))
    if problems:
        raise PublishRefused(_("The draft has problems; nothing was published."),
                             problems=problems)
    missing = untranslated_languages(questionnaire)
    if missing:
        raise PublishRefused(_("Some languages miss texts; nothing was published."),
                             missing=missing)
    version.published_at = utcnow()
    if questionnaire.state is QuestionnaireState.DRAFT:
        questionnaire.move_to(QuestionnaireState.OPEN)
    db.session.flush()
    record(user_id, "questionnaire.publish", f"questionnaire:{questionnaire.slug} "
           f"v{version.number}")
    return version


def _live_problems(questionnaire: Questionnaire, version: QuestionnaireVersion) -> list[str]:
    """Changes in the draft that would change the meaning of stored answers."""
    earlier = _earlier_types(questionnaire)
    answered = answered_codes(questionnaire)
    return [_("Question %(code)s has answers as another type of question.", code=q.code)
            for page in version.pages for q in page.questions
            if q.code in answered and earlier.get(q.code, q.type) != q.type]


def _delete_previews(condition) -> None:
    """Delete staff preview responses matching ``condition`` with their answers and consent."""
    ids = sa.select(Response.id).where(Response.is_preview, condition)
    db.session.execute(sa.delete(Answer).where(Answer.response_id.in_(ids)))
    db.session.execute(sa.delete(ConsentRecord).where(ConsentRecord.response_id.in_(ids)))
    db.session.execute(sa.delete(Response).where(Response.is_preview, condition))


def discard_draft(questionnaire: Questionnaire, user_id: int | None) -> int:
    """Throw the draft away and go back to the published version; return its number.

    :raise BuilderError: there is no draft, or nothing was ever published to go back to.
    """
    version = editable_tree(questionnaire, lock=True)
    if questionnaire.published_version is None:
        raise BuilderError(_("There is no published version to go back to."))
    _delete_previews(Response.version_id == version.id)
    number = version.number
    questionnaire.versions.remove(version)
    db.session.delete(version)
    db.session.flush()
    record(user_id, "questionnaire.discard_draft", f"questionnaire:{questionnaire.slug} "
           f"v{number}")
    return number


def delete_questionnaire(questionnaire: Questionnaire, user_id: int | None) -> None:
    """Delete a questionnaire that was never published, with its previews and consent texts.

    :raise BuilderError: it was published (its answers and records must stay; close or
        archive it instead), or it already has contacts, invitations or phone campaigns.
    """
    if questionnaire.published_version is not None or db.session.scalar(
            sa.select(sa.func.count()).select_from(Response).where(
                Response.questionnaire_id == questionnaire.id, ~Response.is_preview)):
        raise BuilderError(_("A questionnaire that was published cannot be deleted; close or "
                             "archive it instead."))
    # Their rows point at the questionnaire without ON DELETE; deleting them along would
    # silently throw away someone's contact list, so the person is told instead.
    for model in (Contact, Invitation, Campaign):
        if db.session.scalar(sa.select(model.id).where(
                model.questionnaire_id == questionnaire.id).limit(1)) is not None:
            raise BuilderError(_("This questionnaire cannot be deleted because it already has "
                                 "contacts, invitations or phone campaigns."))
    _delete_previews(Response.questionnaire_id == questionnaire.id)
    db.session.execute(sa.delete(ConsentText).where(
        ConsentText.questionnaire_id == questionnaire.id))
    db.session.execute(sa.delete(QuestionnaireShare).where(
        QuestionnaireShare.questionnaire_id == questionnaire.id))
    for version in list(questionnaire.versions):
        db.session.delete(version)
    slug = questionnaire.slug
    db.session.flush()
    db.session.delete(questionnaire)
    db.session.flush()
    record(user_id, "questionnaire.delete", f"questionnaire:{slug}")


# --------------------------------------------------------------------------------------------
# Guarding conditions


def _condition_problems(version: QuestionnaireVersion) -> set[str]:
    earlier: dict[str, Question] = {}
    problems = set()
    for page in version.pages:
        problems.update(f"{page.code}: {e}" for e in condition_errors(page.show_if, earlier))
        for question in page.questions:
            problems.update(f"{question.code}: {e}"
                            for e in condition_errors(question.show_if, earlier))
            earlier[question.code] = question
    return problems


class _KeepConditions:
    """Refuse a change that breaks a condition which held before it (the caller rolls back)."""

    def __init__(self, version: QuestionnaireVersion):
        self.version = version

    def __enter__(self):
        self.before = _condition_problems(self.version)
        return self

    def __exit__(self, kind, value, traceback):
        if kind is not None:
            return False
        self.version.pages.sort(key=lambda p: p.position)
        for page in self.version.pages:
            page.questions.sort(key=lambda q: q.position)
        broken = sorted(_condition_problems(self.version) - self.before)
        if broken:
            raise BuilderError(_("This change would break a condition (%(problem)s). Change "
                                 "or remove that condition first.", problem=broken[0]))
        return False


def _referrers(version: QuestionnaireVersion, code: str) -> list[str]:
    items = [*version.pages, *(q for p in version.pages for q in p.questions)]
    return [item.code for item in items
            if any(rule.get("question") == code for rule in rules_of(item.show_if)[1]
                   if isinstance(rule, dict))]


# --------------------------------------------------------------------------------------------
# Version texts and pages


def update_texts(version: QuestionnaireVersion, token: str | None, base: str, *,
                 title: str, intro: str, thank_you: str) -> None:
    """Set the title, introduction and thank-you text in the base language."""
    _check(token, texts_token(version))
    version.title = _with_base(version.title, base, title)
    version.intro = _with_base(version.intro, base, intro)
    version.thank_you = _with_base(version.thank_you, base, thank_you)
    db.session.flush()


def _with_base(texts: dict | None, base: str, value: str) -> dict:
    """The texts with the base language replaced (removed when empty); other languages kept."""
    result = {k: v for k, v in (texts or {}).items() if k != base}
    value = (value or "").strip()
    if value:
        result = {base: value, **result}
    return result


def _renumber(items) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position


def add_page(version: QuestionnaireVersion, token: str | None, base: str, title: str) -> Page:
    """Add a page at the end."""
    _check(token, structure_token(version))
    codes = {p.code for p in version.pages}
    number = len(version.pages) + 1
    while f"page_{number}" in codes:
        number += 1
    page = Page(version=version, position=len(version.pages) + 1, code=f"page_{number}",
                title=_with_base({}, base, title))
    db.session.add(page)
    db.session.flush()
    return page


def rename_page(page: Page, token: str | None, base: str, title: str) -> None:
    """Change a page's title in the base language."""
    _check(token, page_token(page))
    page.title = _with_base(page.title, base, title)
    db.session.flush()


def delete_page(version: QuestionnaireVersion, page: Page, token: str | None,
                answered: set[str], user_id: int | None = None) -> list[str]:
    """Remove a page with its questions; return the codes retired (they had answers)."""
    _check(token, structure_token(version))
    if len(version.pages) == 1:
        raise BuilderError(_("A questionnaire needs at least one page."))
    codes = [q.code for q in page.questions]
    with _KeepConditions(version):
        _drop_preview_answers([q.id for q in page.questions])
        version.pages.remove(page)
        db.session.delete(page)
        _renumber(version.pages)
    db.session.flush()
    record(user_id, "questionnaire.delete_page",
           f"questionnaire:{version.questionnaire.slug} v{version.number} {page.code}")
    return [code for code in codes if code in answered]


def move_page(version: QuestionnaireVersion, page: Page, token: str | None, step: int) -> None:
    """Move a page one place up (-1) or down (+1)."""
    _check(token, structure_token(version))
    pages = list(version.pages)
    index = pages.index(page)
    target = index + step
    if not 0 <= target < len(pages):
        return
    pages[index], pages[target] = pages[target], pages[index]
    with _KeepConditions(version):
        _renumber(pages)
    db.session.flush()


def reorder(version: QuestionnaireVersion, token: str | None,
            layout: list[tuple[int, list[int]]]) -> None:
    """Put pages and questions into the given order: ``[(page id, [question ids])]``.

    Drag and drop sends the whole layout; it must name exactly the draft's pages and questions.
    """
    _check(token, structure_token(version))
    pages = {p.id: p for p in version.pages}
    questions = {q.id: q for p in version.pages for q in p.questions}
    named_questions = [qid for _pid, qids in layout for qid in qids]
    if (sorted(pid for pid, _ in layout) != sorted(pages)
            or sorted(named_questions) != sorted(questions)):
        raise StaleEdit(_("The order you sent does not match the questionnaire any more; the "
                          "current state is shown."))
    with _KeepConditions(version):
        for page_position, (page_id, question_ids) in enumerate(layout, start=1):
            page = pages[page_id]
            page.position = page_position
            for position, question_id in enumerate(question_ids, start=1):
                question = questions[question_id]
                if question.page is not page:
                    question.page.questions.remove(question)
                    page.questions.append(question)
                question.position = position
    db.session.flush()


# --------------------------------------------------------------------------------------------
# Questions


def _starting_label(kind: str, lang: str, number: int) -> str:
    """"Option 1" or "Row 1" in the questionnaire's language (stored as its text)."""
    with force_locale(lang):
        if kind == "row":
            return _("Row %(number)d", number=number)
        return _("Option %(number)d", number=number)


def _new_code(questionnaire: Questionnaire, prefix: str = "q") -> str:
    used = _used_codes(questionnaire)
    number = 1
    while f"{prefix}{number}" in used:
        number += 1
    return f"{prefix}{number}"


def add_question(questionnaire: Questionnaire, version: QuestionnaireVersion, page: Page,
                 token: str | None, base: str, *, type_name: str, text: str) -> Question:
    """Add a question of ``type_name`` at the end of ``page``; choice types get two options."""
    _check(token, structure_token(version))
    question_type = REGISTRY.get(type_name)
    if question_type is None:
        raise BuilderError(_("Please choose a type of question."))
    question = Question(version=version, page=page, position=len(page.questions) + 1,
                        code=_new_code(questionnaire), type=type_name, is_required=False,
                        text=_with_base({}, base, text), help={}, settings={})
    if question_type.uses_options:
        for position in (1, 2):
            Option(question=question, position=position, code=str(position),
                   label={base: _starting_label("option", base, position)})
    if question_type.uses_rows:
        Option(question=question, position=3, code="r1", is_row=True,
               label={base: _starting_label("row", base, 1)})
    db.session.add(question)
    db.session.flush()
    return question


def add_question_from_json(questionnaire: Questionnaire, version: QuestionnaireVersion,
                           page: Page, token: str | None, data: Any) -> Question:
    """Add a question written in the definition format (texts in any languages, condition).

    :raise DefinitionError: the question is not valid where it would stand.
    """
    _check(token, structure_token(version))
    if not isinstance(data, dict):
        raise DefinitionError(["the question must be a JSON object"])
    if data.get("code") in {q.code for p in version.pages for q in p.questions}:
        raise DefinitionError([f"code {data.get('code')!r} is already used in this version"])
    definition = definition_of(version, questionnaire)
    for page_data in definition["pages"]:
        if page_data["code"] == page.code:
            page_data["questions"].append(data)
    # Check the whole draft with the new question in place (conditions see earlier ones).
    problems = draft_problems_of(definition)
    if problems:
        raise DefinitionError(problems)
    earlier_type = _earlier_types(questionnaire).get(data["code"], data["type"])
    if earlier_type != data["type"] and data["code"] in answered_codes(questionnaire):
        raise BuilderError(_("The code %(code)s was used by a question of another type that "
                             "has answers.", code=data["code"]))
    question = Question(
        version=version, page=page, position=len(page.questions) + 1, code=data["code"],
        type=data["type"], is_required=bool(data.get("required")), text=data.get("text") or {},
        help=data.get("help") or {}, settings=data.get("settings") or {},
        has_other=bool(data.get("other")), has_prefer_not=bool(data.get("prefer_not")),
        show_if=data.get("show_if"))
    position = 0
    for is_row, key in ((False, "options"), (True, "rows")):
        for item in data.get(key) or []:
            position += 1
            Option(question=question, position=position, code=item["code"], is_row=is_row,
                   label={k: v for k, v in (item.get("label") or {}).items() if v.strip()})
    db.session.add(question)
    db.session.flush()
    return question


def draft_problems_of(definition: dict) -> list[str]:
    """The importer's problems with a definition (nothing is stored)."""
    # parse_definition builds transient objects only; none of them joins the session.
    try:
        parse_definition(definition)
    except DefinitionError as error:
        return error.problems
    return []


def duplicate_question(questionnaire: Questionnaire, version: QuestionnaireVersion,
                       question: Question, token: str | None) -> Question:
    """A copy of ``question`` right after it, with a new code (its condition still holds:
    everything it refers to stays earlier)."""
    _check(token, structure_token(version))
    page = question.page
    for other in page.questions:
        if other.position > question.position:
            other.position += 1
    twin = copy_question(question, page=page, position=question.position + 1,
                         code=_new_code(questionnaire))
    db.session.add(twin)
    db.session.flush()
    return twin


def duplicate_page(questionnaire: Questionnaire, version: QuestionnaireVersion, page: Page,
                   token: str | None) -> Page:
    """A copy of ``page`` with its questions right after it; the questions get new codes."""
    _check(token, structure_token(version))
    for other in version.pages:
        if other.position > page.position:
            other.position += 1
    codes = {p.code for p in version.pages}
    number = len(version.pages) + 1
    while f"page_{number}" in codes:
        number += 1
    used = _used_codes(questionnaire)  # before the copy exists: queries flush the session
    twin = Page(version=version, position=page.position + 1, code=f"page_{number}",
                title=dict(page.title), show_if=copy.deepcopy(page.show_if))
    for question in page.questions:
        code_number = 1
        while f"q{code_number}" in used:
            code_number += 1
        used.add(f"q{code_number}")
        copy_question(question, page=twin, position=question.position,
                      code=f"q{code_number}")
    db.session.add(twin)  # questions and options follow by cascade
    db.session.flush()
    return twin


def delete_question(version: QuestionnaireVersion, question: Question, token: str | None,
                    answered: set[str], user_id: int | None = None) -> bool:
    """Remove a question from the draft; ``True`` when it had answers (it is then retired).

    A retired question leaves only the new version: its answers keep their version and its
    labels, and still show in the results.
    """
    _check(token, structure_token(version))
    referrers = _referrers(version, question.code)
    if referrers:
        raise BuilderError(_("The condition of %(codes)s refers to this question. Change that "
                             "condition first.", codes=", ".join(referrers)))
    page = question.page
    _drop_preview_answers([question.id])
    page.questions.remove(question)
    db.session.delete(question)
    _renumber(page.questions)
    db.session.flush()
    retired = question.code in answered
    record(user_id, "questionnaire.retire_question" if retired else "questionnaire.delete_question",
           f"questionnaire:{version.questionnaire.slug} v{version.number} {question.code}")
    return retired


def move_question(version: QuestionnaireVersion, question: Question, token: str | None, *,
                  step: int = 0, page: Page | None = None) -> None:
    """Move a question one place up/down (across page ends), or to the end of another page."""
    _check(token, structure_token(version))
    with _KeepConditions(version):
        source = question.page
        if page is not None and page is not source:
            source.questions.remove(question)
            page.questions.append(question)
            _renumber(source.questions)
            _renumber(page.questions)
        elif step:
            siblings = list(source.questions)
            index = siblings.index(question)
            target = index + step
            pages = list(version.pages)
            if 0 <= target < len(siblings):
                siblings[index], siblings[target] = siblings[target], siblings[index]
                _renumber(siblings)
            else:  # past the page's edge: onto the neighbouring page
                page_index = pages.index(source) + step
                if not 0 <= page_index < len(pages):
                    return
                neighbour = pages[page_index]
                source.questions.remove(question)
                if step > 0:
                    neighbour.questions.insert(0, question)
                else:
                    neighbour.questions.append(question)
                _renumber(source.questions)
                _renumber(neighbour.questions)
    db.session.flush()


@dataclass
class QuestionChange:
    """What the question form sends, already read and checked field by field."""

    code: str
    type_name: str
    is_required: bool
    text: str
    help: str
    has_other: bool
    has_prefer_not: bool
    #: Setting values by key, already converted (``None`` = not set).
    settings: dict[str, Any]
    #: ``[(option id, code, label)]`` in the order wanted, for options and matrix rows.
    options: list[tuple[int, str, str]]
    rows: list[tuple[int, str, str]]
    new_options: list[str]
    new_rows: list[str]
    #: ``("delete"|"up"|"down"|"duplicate", option id)`` or ``None``.
    action: tuple[str, int] | None = None
    #: The settings as typed, to show them again when the save is refused.
    raw_settings: dict[str, str] = field(default_factory=dict)


def update_question(questionnaire: Questionnaire, version: QuestionnaireVersion,
                    question: Question, token: str | None, base: str,
                    change: QuestionChange) -> list[str]:
    """Save the question form (and the option action pressed); return retired option codes.

    :raise StaleEdit: the question changed since the form was shown.
    :raise BuilderError: the change would change the meaning of stored answers, or breaks
        a condition.
    """
    _check(token, question_token(question))
    new_type = REGISTRY.get(change.type_name)
    if new_type is None:
        raise BuilderError(_("Please choose a type of question."))
    answered = answered_codes(questionnaire)
    is_answered = question.code in answered
    if change.code != question.code:
        if is_answered:
            raise BuilderError(_("This question has answers, so its code stays "
                                 "%(code)s.", code=question.code))
        if not ITEM_CODE.match(change.code):
            raise BuilderError(_("A code starts with a lower-case letter and may contain "
                                 "lower-case letters, digits and “_” (up to 32)."))
        if change.code in {q.code for p in version.pages for q in p.questions}:
            raise BuilderError(_("Another question already has the code %(code)s.",
                                 code=change.code))
        if change.code in answered:
            raise BuilderError(_("The code %(code)s belonged to an earlier question with "
                                 "answers; please choose another.", code=change.code))
        referrers = _referrers(version, question.code)
        if referrers:
            raise BuilderError(_("The condition of %(codes)s refers to this question's code. "
                                 "Change that condition first.", codes=", ".join(referrers)))
    if change.type_name != question.type and is_answered:
        raise BuilderError(_("This question has answers, so its type cannot change. Add a new "
                             "question instead and remove this one."))
    if change.type_name != question.type:
        _drop_preview_answers([question.id])
    answered_options, answered_rows = (answered_choice_codes(questionnaire, question.code)
                                       if is_answered else (set(), set()))
    retired: list[str] = []
    with _KeepConditions(version):
        question.code = change.code
        question.type = change.type_name
        question.is_required = change.is_required
        question.text = _with_base(question.text, base, change.text)
        question.help = _with_base(question.help, base, change.help)
        question.has_other = change.has_other and new_type.allows_other
        question.has_prefer_not = change.has_prefer_not
        settings = {k: v for k, v in (question.settings or {}).items()
                    if k in new_type.settings_keys}
        for setting in new_type.builder_settings:
            value = change.settings.get(setting.key)
            if setting.kind == "text":
                texts = _with_base(settings.get(setting.key), base, value or "")
                if texts:
                    settings[setting.key] = texts
                else:
                    settings.pop(setting.key, None)
            elif value is None:
                settings.pop(setting.key, None)
            else:
                settings[setting.key] = value
        question.settings = settings
        retired += _apply_choices(question, base, False, change.options, change.new_options,
                                  answered_options, new_type.uses_options, change.action)
        retired += _apply_choices(question, base, True, change.rows, change.new_rows,
                                  answered_rows, new_type.uses_rows, change.action)
        _give_starting_choices(question, base, new_type, answered_options | answered_rows)
    db.session.flush()
    errors = new_type.definition_errors(question)
    if errors:
        raise BuilderError(_("The question is not complete: %(problem)s.", problem=errors[0]))
    return retired


def _give_starting_choices(question: Question, base: str, question_type,
                           answered: set[str]) -> None:
    """A type that needs options (or rows) and has none gets two options (one row) to edit.

    Codes that answers hold are never given to a new option: they mean something already.
    """
    free = (f"n{number}" if f"{number}" in answered else f"{number}" for number in range(1, 99))
    if question_type.uses_options and not question.options:
        for number in (1, 2):
            db.session.add(Option(question=question, position=number, code=next(free),
                                  label={base: _starting_label("option", base, number)}))
    if question_type.uses_rows and not question.rows:
        code = next(c for c in (f"r{n}" for n in range(1, 99)) if c not in answered)
        db.session.add(Option(question=question, position=1001, code=code, is_row=True,
                              label={base: _starting_label("row", base, 1)}))


def _apply_choices(question: Question, base: str, is_row: bool,
                   wanted: list[tuple[int, str, str]], new_labels: list[str],
                   answered: set[str], used: bool, action: tuple[str, int] | None) -> list[str]:
    """Bring options (or rows) in line with the form; return codes retired with answers."""
    existing = {c.id: c for c in question.choices if c.is_row is is_row}
    retired: list[str] = []
    if not used:
        wanted, new_labels = [], []
    order: list[Option] = []
    seen_codes: set[str] = set()
    for option_id, code, label in wanted:
        option = existing.get(option_id)
        if option is None:
            continue  # gone meanwhile: the question token would have said so
        if action and action[1] == option_id and action[0] == "delete":
            continue
        if code != option.code:
            if option.code in answered:
                raise BuilderError(_("The option “%(label)s” has answers, so its code stays "
                                     "%(code)s.", label=label or option.code,
                                     code=option.code))
            if not OPTION_CODE.match(code):
                raise BuilderError(_("An option code may contain lower-case letters, digits "
                                     "and “_” (up to 32)."))
        if code in seen_codes:
            raise BuilderError(_("Two options have the code %(code)s.", code=code))
        seen_codes.add(code)
        option.code = code
        option.label = _with_base(option.label, base, label)
        order.append(option)
    if action and action[0] == "duplicate":
        original = next((o for o in order if o.id == action[1]), None)
        if original is not None:
            taken = {o.code for o in order} | answered | {
                c.code for c in question.choices if c.is_row is is_row}
            number = 1
            while f"{original.code}_{number}" in taken:
                number += 1
            twin = Option(question=question, position=0, code=f"{original.code}_{number}"[:32],
                          is_row=is_row, label=dict(original.label))
            db.session.add(twin)
            order.insert(order.index(original) + 1, twin)
    if action and action[0] in ("up", "down"):
        ids = [o.id for o in order]
        if action[1] in ids:
            index = ids.index(action[1])
            target = index + (-1 if action[0] == "up" else 1)
            if 0 <= target < len(order):
                order[index], order[target] = order[target], order[index]
    for option in existing.values():
        if option not in order:
            if option.code in answered:
                retired.append(option.code)
            question.choices.remove(option)
            db.session.delete(option)
    all_codes = seen_codes | {c.code for c in question.choices if c.is_row is is_row}
    number = 1
    for label in new_labels:
        prefix = "r" if is_row else ""
        while f"{prefix}{number}" in all_codes or f"{prefix}{number}" in answered:
            number += 1
        code = f"{prefix}{number}"
        all_codes.add(code)
        option = Option(question=question, position=0, code=code, is_row=is_row,
                        label={base: label})
        db.session.add(option)  # SQLAlchemy 2 does not cascade along the backref
        order.append(option)
    offset = 1000 if is_row else 0  # rows after options; positions only order each kind
    for position, option in enumerate(order, start=1):
        option.position = offset + position
    question.choices.sort(key=lambda c: c.position)
    return retired
