"""Each question type describes its own builder settings; the editor only reads the description."""

import pytest

from surveyapp.builder.forms import read_setting
from surveyapp.questionnaires.models import Option, Question
from surveyapp.questionnaires.question_types import REGISTRY

SAMPLES = {"integer": "12", "number": "2,5", "date": "2025-06-30", "text": "sehr gut"}


@pytest.mark.parametrize("name", list(REGISTRY))
def test_builder_settings_are_settings_the_type_accepts(name):
    question_type = REGISTRY[name]
    keys = [s.key for s in question_type.builder_settings]
    assert set(keys) <= set(question_type.settings_keys)
    assert len(keys) == len(set(keys))
    for setting in question_type.builder_settings:
        assert setting.kind in SAMPLES
        assert setting.not_above is None or setting.not_above in keys
        assert str(setting.label)


@pytest.mark.parametrize("name", [n for n, t in REGISTRY.items() if t.builder_settings])
def test_values_read_from_the_editor_pass_the_types_own_validation(app, name):
    question_type = REGISTRY[name]
    settings = {}
    for setting in question_type.builder_settings:
        value, error = read_setting(setting, SAMPLES[setting.kind])
        assert error is None, (name, setting.key, error)
        settings[setting.key] = {"de": value} if setting.kind == "text" else value
    question = Question(code="x", type=name, settings=settings, text={"de": "?"})
    if question_type.uses_options:
        question.choices = [Option(code="a", position=1, label={"de": "A"}, is_row=False)]
    assert question_type.definition_errors(question) == []


def test_out_of_range_values_are_refused_with_a_message(app):
    setting = next(s for s in REGISTRY["short_text"].builder_settings if s.key == "max_length")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert read_setting(setting, "0")[1] == "Please enter at least 1."
        assert read_setting(setting, "501")[1] == "Please enter at most 500."
        assert read_setting(setting, "1.5")[1] == "Please enter a whole number."
        assert read_setting(setting, "") == (None, None)
