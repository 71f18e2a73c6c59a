"""Single choice: radio buttons, one option."""

from flask_babel import lazy_gettext as _l

from surveyapp.questionnaires.question_types.base import ChoiceType


class SingleChoice(ChoiceType):
    """One option out of a list, shown as radio buttons."""

    name = "single_choice"
    label = _l("Single choice")
