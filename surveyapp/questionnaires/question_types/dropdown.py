"""Dropdown: a select list, one option; for long lists."""

from flask_babel import lazy_gettext as _l
from wtforms import Field, SelectField, StringField

from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.question_types.base import SEP, ChoiceType


class Dropdown(ChoiceType):
    """One option out of a long list, shown as a select element."""

    name = "dropdown"
    label = _l("Dropdown")

    def form_fields(self, question: Question) -> dict[str, Field]:
        fields: dict[str, Field] = {
            question.code: SelectField(
                choices=["", *self.all_codes(question)], validate_choice=False
            )
        }
        if question.has_other:
            fields[question.code + SEP + "other"] = StringField()
        return fields
