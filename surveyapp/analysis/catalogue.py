"""Which questions a questionnaire has asked across all its published versions, by code.

Answers point at a question row of one version; results, reports and exports speak of question
*codes*, so that a response to version 1 and one to version 2 count together wherever the
question kept its code. Texts and labels come from the newest version that has the question.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from surveyapp.db import db
from surveyapp.i18n import localized
from surveyapp.questionnaires.models import Question, Questionnaire, QuestionnaireVersion
from surveyapp.questionnaires.question_types import REGISTRY, Label


@dataclass
class CatalogueQuestion:
    """One question code with everything results need to label and summarise it."""

    code: str
    type_name: str
    #: Summary kind of the type (choice, multiple, scale, matrix, number, date, text).
    kind: str
    #: Question rows of every version that asks it (answers point at these).
    ids: list[int]
    text: str
    text_lang: str
    #: Answer codes with labels, in display order (matrix: the scale).
    labels: list[Label]
    #: Matrix rows with labels.
    rows: list[Label] = field(default_factory=list)
    #: Version numbers that ask it.
    versions: list[int] = field(default_factory=list)
    #: Asked in an earlier version but no longer in the newest.
    is_retired: bool = False
    #: An answer that reaches a person (e-mail): counted, never listed.
    is_personal: bool = False

    def label_of(self, code: str) -> str:
        """The label for an answer code (the code itself if no version knows it)."""
        for label in self.labels:
            if label.code == code:
                return label.text
        return code

    @property
    def is_choice(self) -> bool:
        """Whether answers are codes out of a list (what filters and cross-tabs can use)."""
        return self.kind in ("choice", "multiple", "scale")


@dataclass
class Catalogue:
    """The questions of a questionnaire by code, newest version's order first."""

    questionnaire: Questionnaire
    lang: str
    questions: list[CatalogueQuestion]
    #: Version number by version id, for published versions.
    version_numbers: dict[int, int]
    #: What the texts were built from: (version id, text revision) of each published version.
    revision: tuple[tuple[int, int], ...] = ()

    def get(self, code: str) -> CatalogueQuestion | None:
        """The question with ``code``, or ``None``."""
        return next((q for q in self.questions if q.code == code), None)

    @property
    def code_by_question_id(self) -> dict[int, str]:
        """Question code for every question row id of every version."""
        return {qid: q.code for q in self.questions for qid in q.ids}


def _merge_labels(newer: list[Label], older: list[Label]) -> list[Label]:
    """Newer labels in their order, then codes only older versions had."""
    known = {label.code for label in newer}
    return newer + [label for label in older if label.code not in known]


def load_catalogue(questionnaire: Questionnaire, lang: str) -> Catalogue:
    """Every question ever published in ``questionnaire``, labelled in ``lang``."""
    base = questionnaire.base_language
    versions = list(db.session.scalars(
        sa.select(QuestionnaireVersion)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire.id,
               QuestionnaireVersion.published_at.is_not(None))
        .order_by(QuestionnaireVersion.number.desc())
        .options(selectinload(QuestionnaireVersion.questions).selectinload(Question.choices),
                 selectinload(QuestionnaireVersion.pages))))
    by_code: dict[str, CatalogueQuestion] = {}
    order: list[str] = []
    for index, version in enumerate(versions):
        page_position = {page.id: page.position for page in version.pages}
        questions = sorted(version.questions, key=lambda q: (page_position[q.page_id], q.position))
        for question in questions:
            question_type = REGISTRY[question.type]
            labels = question_type.answer_labels(question, lang, base)
            rows = [Label(r.code, *localized(r.label, lang, base)) for r in question.rows]
            entry = by_code.get(question.code)
            if entry is None:
                text, text_lang = localized(question.text, lang, base)
                by_code[question.code] = CatalogueQuestion(
                    code=question.code, type_name=question.type,
                    kind=question_type.summary_kind, ids=[question.id], text=text,
                    text_lang=text_lang, labels=labels, rows=rows, versions=[version.number],
                    is_retired=index > 0, is_personal=question_type.is_personal)
                order.append(question.code)
            elif entry.type_name == question.type:
                entry.ids.append(question.id)
                entry.versions.append(version.number)
                entry.labels = _merge_labels(entry.labels, labels)
                entry.rows = _merge_labels(entry.rows, rows)
            # A code reused with another type in an older version is a different question;
            # the builder refuses that change, so old data of that kind cannot arise here.
    return Catalogue(questionnaire=questionnaire, lang=lang,
                     questions=[by_code[code] for code in order],
                     version_numbers={v.id: v.number for v in versions},
                     revision=tuple((v.id, v.text_revision) for v in versions))
