"""Long text: a text area for comments and explanations."""

from flask_babel import lazy_gettext as _l

from surveyapp.questionnaires.question_types.base import BuilderSetting
from surveyapp.questionnaires.question_types.short_text import ShortText


class LongText(ShortText):
    """Several lines of text up to ``max_length`` characters."""

    name = "long_text"
    label = _l("Long text")
    default_length = 2000
    longest = 5000
    builder_settings = (
        BuilderSetting("max_length", _l("Longest answer (characters)"), "integer", 1, longest),
    )
