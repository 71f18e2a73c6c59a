"""The question-type registry: every type is one module; this maps names to instances."""

from surveyapp.questionnaires.question_types.base import (
    OTHER,
    PREFER_NOT,
    SEP,
    AnswerInvalid,
    AnswerValue,
    BuilderSetting,
    Facts,
    Label,
    QuestionType,
)
from surveyapp.questionnaires.question_types.date import Date
from surveyapp.questionnaires.question_types.decimal import Decimal
from surveyapp.questionnaires.question_types.dropdown import Dropdown
from surveyapp.questionnaires.question_types.email import Email
from surveyapp.questionnaires.question_types.integer import Integer
from surveyapp.questionnaires.question_types.long_text import LongText
from surveyapp.questionnaires.question_types.matrix import Matrix
from surveyapp.questionnaires.question_types.multiple_choice import MultipleChoice
from surveyapp.questionnaires.question_types.rating import Rating
from surveyapp.questionnaires.question_types.short_text import ShortText
from surveyapp.questionnaires.question_types.single_choice import SingleChoice
from surveyapp.questionnaires.question_types.unit import UnitQuestion
from surveyapp.questionnaires.question_types.yes_no import YesNo

__all__ = [
    "OTHER",
    "PREFER_NOT",
    "REGISTRY",
    "SEP",
    "AnswerInvalid",
    "AnswerValue",
    "BuilderSetting",
    "Facts",
    "Label",
    "QuestionType",
    "get_type",
    "question_macros",
]

REGISTRY: dict[str, QuestionType] = {
    qt.name: qt
    for qt in (
        SingleChoice(),
        MultipleChoice(),
        Dropdown(),
        Matrix(),
        Rating(),
        YesNo(),
        ShortText(),
        LongText(),
        Integer(),
        Decimal(),
        Date(),
        Email(),
        UnitQuestion(),
    )
}


def get_type(name: str) -> QuestionType:
    """The registered type called ``name``; KeyError for unknown types."""
    return REGISTRY[name]


def question_macros(question_type: QuestionType):
    """The type's template as a macro module (``render``), built once and kept by Jinja.

    A module rather than an include: an include copies the whole page context for every
    question, which was the largest cost of rendering a page.
    """
    from flask import current_app

    return current_app.jinja_env.get_template(question_type.template).module
