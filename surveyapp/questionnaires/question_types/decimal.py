"""Decimal: a number with decimals within optional bounds (comma or point accepted)."""

from flask_babel import lazy_gettext as _l

from surveyapp.questionnaires.question_types.base import BuilderSetting
from surveyapp.questionnaires.question_types.integer import Integer


class Decimal(Integer):
    """A number with decimals between ``min`` and ``max`` (both optional)."""

    name = "decimal"
    label = _l("Decimal number")
    input_kind = "decimal"
    whole = False
    builder_settings = (
        BuilderSetting("min", _l("Smallest accepted number"), "number", not_above="max"),
        BuilderSetting("max", _l("Largest accepted number"), "number"),
    )
