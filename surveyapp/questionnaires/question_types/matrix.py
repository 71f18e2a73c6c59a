"""Matrix: several rows answered on one shared scale; each row is its own radio group."""

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, RadioField

from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.question_types.base import (
    PREFER_NOT,
    SEP,
    AnswerInvalid,
    AnswerValue,
    QuestionType,
    text_of,
)


class Matrix(QuestionType):
    """Rows sharing one answer scale; stored as one row per answered matrix row."""

    name = "matrix"
    label = _l("Matrix")
    uses_options = True
    uses_rows = True
    # Conditions on a matrix would need a row; the condition editor offers none.
    condition_ops = frozenset()
    summary_kind = "matrix"

    def row_input(self, question: Question, row_code: str) -> str:
        """Name of the radio group for one row."""
        return question.code + SEP + row_code

    def scale(self, question: Question) -> list[str]:
        """Accepted codes in each row."""
        codes = [o.code for o in question.options]
        return [*codes, PREFER_NOT] if question.has_prefer_not else codes

    def form_fields(self, question: Question) -> dict[str, Field]:
        return {
            self.row_input(question, row.code): RadioField(
                choices=self.scale(question), validate_choice=False
            )
            for row in question.rows
        }

    def parse(self, question: Question, form) -> list[AnswerValue]:
        scale = self.scale(question)
        values = []
        for row in question.rows:
            code = text_of(form, self.row_input(question, row.code))
            if not code:
                continue
            if code not in scale:
                raise AnswerInvalid(_l("Please choose one of the options shown."))
            values.append(AnswerValue(row_code=row.code, option_code=code))
        if values and question.is_required and len(values) < len(question.rows):
            raise AnswerInvalid(_l("Please answer every row."))
        return values

    def form_data(self, question: Question, values: list[AnswerValue]) -> dict[str, Any]:
        return {self.row_input(question, v.row_code): v.option_code for v in values if v.row_code}
