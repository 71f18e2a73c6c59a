"""Unit: the respondent picks their region or chapter; the answer attributes the response."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Field, SelectField

from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.question_types.base import (
    PREFER_NOT,
    AnswerInvalid,
    AnswerValue,
    ChoiceType,
    Label,
)


class UnitQuestion(ChoiceType):
    """One unit out of the active unit tree, stored as the unit's code (language-neutral).

    The options are not part of the questionnaire: they are the units admins keep, so the
    list follows the tree (a new chapter is offered at once, a retired one no longer).
    """

    name = "unit"
    label = _l("Unit of the organisation")
    uses_options = False
    allows_other = False
    # Unit codes change with the tree, not with the questionnaire: conditions test only
    # whether the question was answered.
    condition_ops = frozenset({"answered", "not_answered"})
    condition_operand = "none"
    sets_unit = True
    builder_hint = _l("Respondents choose from the active units. Their answer attributes "
                      "the response to that unit, unless a unit link or an invitation "
                      "already did.")

    def offered(self) -> list[tuple[str, str, int]]:
        """The units a respondent may choose: (code, name, depth), parents before children."""
        from surveyapp.accounts.services import active_units

        return [(unit.code, unit.name, depth) for unit, depth in active_units()]

    def codes(self, question: Question) -> list[str]:
        return [code for code, _name, _depth in self.offered()]

    def form_fields(self, question: Question) -> dict[str, Field]:
        # No choices here: the template lists the units and ``parse`` checks the code, so
        # building a page's form never reads the unit tree.
        return {question.code: SelectField(choices=[], validate_choice=False)}

    def parse(self, question: Question, form) -> list[AnswerValue]:
        code = (form[question.code].data or "").strip() if question.code in form else ""
        if not code:
            return []
        if code == PREFER_NOT and question.has_prefer_not:
            return [AnswerValue(option_code=PREFER_NOT)]
        if code not in self.codes(question):  # unknown or retired: never stored
            raise AnswerInvalid(_l("Please choose one of the options shown."))
        return [AnswerValue(option_code=code)]

    def answer_labels(self, question: Question, lang: str, base: str) -> list[Label]:
        """Every unit, retired ones too (older answers name them); names are not translated."""
        from surveyapp.accounts.services import unit_tree

        labels = [Label(unit.code, unit.name, lang) for unit, _depth in unit_tree()]
        return labels + super().answer_labels(question, lang, base)

    def unit_code(self, values: list[AnswerValue]) -> str | None:
        """The code of the unit this answer names (``None`` when unanswered or declined)."""
        return next((v.option_code for v in values
                     if v.option_code and v.option_code != PREFER_NOT), None)

