"""Yes/no: two fixed options whose labels come from the interface catalogue."""

from flask_babel import lazy_gettext as _l

from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.question_types.base import ChoiceType, Label

YES_NO = ("yes", "no")


class YesNo(ChoiceType):
    """Yes or no, stored as the codes ``yes`` and ``no``."""

    name = "yes_no"
    label = _l("Yes/no")
    uses_options = False
    allows_other = False

    def codes(self, question: Question) -> list[str]:
        return list(YES_NO)

    def answer_labels(self, question: Question, lang: str, base: str) -> list[Label]:
        labels = self.choice_labels()
        fixed = [Label(code, str(labels[code]), lang) for code in YES_NO]
        return fixed + super().answer_labels(question, lang, base)

    def choice_labels(self) -> dict[str, str]:
        """Interface-translated labels for the fixed codes."""
        return {"yes": _l("Yes"), "no": _l("No")}
