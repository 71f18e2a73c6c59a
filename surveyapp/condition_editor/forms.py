"""The condition editor's form: all/any, the fingerprint it was opened with, and rule rows."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, RadioField

from surveyapp.condition_editor.services import MAX_RULES, RuleInput

_ROW = re.compile(r"^rule-(\d{1,3})-question$")
#: How the rules combine, worded to finish "Show this question when ...".
COMBINE_LABELS = {"all": _l("all of these rules are true"),
                  "any": _l("any of these rules is true")}


class ConditionForm(FlaskForm):
    """The parts of the editor that are not rows (rows vary: see ``read_rules``)."""

    combine = RadioField(choices=list(COMBINE_LABELS), default="all", validate_choice=False)
    #: Fingerprint of the condition as it was when the editor was opened.
    expected = HiddenField()


def read_rules(formdata: MultiDict) -> list[RuleInput]:
    """The rule rows posted as ``rule-<n>-question``, ``-op``, ``-values``, ``-value``.

    Rows come back in the order of their numbers, at most one more than the editor allows
    (so that too many can be refused rather than silently cut).
    """
    numbers = sorted({int(m.group(1)) for key in formdata if (m := _ROW.match(key))})
    rows = []
    for number in numbers[: MAX_RULES + 1]:
        prefix = f"rule-{number}-"
        rows.append(RuleInput(
            question=formdata.get(prefix + "question", "").strip(),
            op=formdata.get(prefix + "op", "").strip(),
            values=[v for v in formdata.getlist(prefix + "values") if v],
            value=formdata.get(prefix + "value", "")[:50],
            shown_for=formdata.get(prefix + "shown_for", "").strip(),
        ))
    return rows
