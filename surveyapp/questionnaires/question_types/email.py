"""E-mail: an address checked for a plausible shape (never sent to here)."""

import re

from flask_babel import lazy_gettext as _l

from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.question_types.base import AnswerInvalid, AnswerValue, TypedValueType

# Deliberately loose: one @, a dot in the domain, no spaces. Real validity needs a mail sent.
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")


class Email(TypedValueType):
    """An e-mail address."""

    name = "email"
    label = _l("E-mail address")
    input_kind = "email"
    is_personal = True

    def parse_value(self, question: Question, raw: str) -> AnswerValue:
        if len(raw) > 254 or not EMAIL.match(raw):
            raise AnswerInvalid(_l("Please enter an e-mail address like name@example.org."))
        return AnswerValue(value_text=raw)
