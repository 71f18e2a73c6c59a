"""Import and export of the JSON definition format, and the CLI around it."""

import copy
import json
from pathlib import Path

import pytest

from surveyapp.cli import DEMO_DIR
from surveyapp.db import db
from surveyapp.questionnaires.definition import DefinitionError, parse_definition
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.transfer import export_questionnaire, import_questionnaire

MINIMAL = {
    "format": "surveyapp/1",
    "slug": "mini",
    "base_language": "de",
    "languages": ["de", "en"],
    "title": {"de": "Mini", "en": "Mini"},
    "consent": {"text": {"de": "Einverstanden?", "en": "Agreed?"}},
    "pages": [{"code": "p1", "questions": [
        {"code": "a", "type": "yes_no", "text": {"de": "Ja?", "en": "Yes?"}},
        {"code": "b", "type": "short_text", "text": {"de": "Was?", "en": "What?"},
         "show_if": {"all": [{"question": "a", "op": "equals", "value": "yes"}]}},
    ]}],
}


def test_demo_definitions_round_trip_through_export(app):
    for path in sorted(DEMO_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        exported = export_questionnaire(get_by_slug(data["slug"]))
        again = copy.deepcopy(exported)
        again["slug"] = data["slug"] + "-copy"
        copy_of = import_questionnaire(again)
        assert export_questionnaire(copy_of) == {**exported, "slug": again["slug"]}


def test_fallback_to_base_language_is_allowed_in_a_draft(app):
    data = copy.deepcopy(MINIMAL)
    data["pages"][0]["questions"][0]["text"] = {"de": "Ja?"}
    questionnaire = import_questionnaire(data)
    assert questionnaire.latest_version.pages[0].questions[0].text == {"de": "Ja?"}


def test_a_language_with_missing_texts_cannot_be_published(app, runner, tmp_path: Path):
    data = copy.deepcopy(MINIMAL)
    data["pages"][0]["questions"][1]["text"] = {"de": "Was?"}
    source = tmp_path / "mini.json"
    source.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(args=["surveys", "import", str(source), "--open"])
    assert result.exit_code != 0
    assert "en: question:b:text" in result.output
    assert get_by_slug("mini") is None


@pytest.mark.parametrize(
    "change,problem",
    [
        (lambda d: d.update(format="other/9"), "format"),
        (lambda d: d.update(slug="Not A Slug"), "slug"),
        (lambda d: d.update(languages=["en"]), "languages"),
        (lambda d: d["title"].pop("de"), "base language"),
        (lambda d: d["title"].update(fr="Mini"), "not offered"),
        (lambda d: d.update(pages=[]), "at least one page"),
        (lambda d: d["pages"][0]["questions"][0].update(type="slider"), "unknown type"),
        (lambda d: d["pages"][0]["questions"][1].update(code="a"), "repeated"),
        (lambda d: d["pages"][0]["questions"][0].update(
            show_if={"all": [{"question": "b", "op": "answered"}]}), "not an earlier"),
        (lambda d: d["pages"][0]["questions"][0].update(colour="red"), "unknown keys"),
        (lambda d: d["pages"][0]["questions"][0].update(options=[{"code": "_x"}]), "options"),
    ],
)
def test_invalid_definitions_list_their_problems(app, change, problem):
    data = copy.deepcopy(MINIMAL)
    change(data)
    with pytest.raises(DefinitionError) as caught:
        parse_definition(data)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_cli_import_export_list(app, runner, tmp_path: Path):
    source = tmp_path / "mini.json"
    source.write_text(json.dumps(MINIMAL), encoding="utf-8")
    result = runner.invoke(args=["surveys", "import", str(source), "--open"])
    assert result.exit_code == 0, result.output
    assert "imported mini (open)" in result.output
    listing = runner.invoke(args=["surveys", "list"])
    assert "mini" in listing.output and "exit-survey" in listing.output
    exported = runner.invoke(args=["surveys", "export", "mini"])
    assert json.loads(exported.output)["pages"][0]["questions"][1]["show_if"] == (
        MINIMAL["pages"][0]["questions"][1]["show_if"]
    )
    again = runner.invoke(args=["surveys", "import", str(source)])
    assert again.exit_code != 0 and "already in use" in again.output


def test_cli_import_refuses_broken_file_and_stores_nothing(app, runner, tmp_path: Path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "surveyapp/1", "slug": "broken"', encoding="utf-8")
    assert "not valid JSON" in runner.invoke(args=["surveys", "import", str(broken)]).output
    bad = copy.deepcopy(MINIMAL)
    bad["slug"] = "bad-one"
    bad["pages"][0]["questions"][0]["type"] = "slider"
    broken.write_text(json.dumps(bad), encoding="utf-8")
    result = runner.invoke(args=["surveys", "import", str(broken)])
    assert result.exit_code != 0 and "nothing was imported" in result.output
    assert get_by_slug("bad-one") is None
    db.session.rollback()


def test_corpus_surveyjs_file_is_rejected_clearly(app):
    """A questionnaire nobody here wrote, in another format, gets a clear message."""
    corpus = Path(__file__).parents[3] / "shared/corpus"
    path = corpus / "surveyjs/_includes/surveys/real-medical-service.json"
    if not path.exists():
        pytest.skip(f"shared corpus not present at {path}")
    with pytest.raises(DefinitionError) as caught:
        parse_definition(json.loads(path.read_text(encoding="utf-8")))
    assert any("format" in p for p in caught.value.problems)
