"""The unit question: respondents pick their unit, and the response is attributed to it."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from surveyapp.accounts.models import Role, Unit
from surveyapp.accounts.services import create_unit, retire_unit
from surveyapp.builder.services import draft_version
from surveyapp.condition_editor.services import answer_choices, operators_for
from surveyapp.db import db
from surveyapp.fieldwork.links import unit_link
from surveyapp.questionnaires.definition import DefinitionError
from surveyapp.questionnaires.question_types import get_type
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Answer, Response, ResponseStatus
from surveyapp.transfer import export_questionnaire, import_questionnaire
from tests.builder.conftest import editor_form, login, start_from_template
from tests.conftest import hidden_values
from tests.respondent import Respondent

SLUG = "unit-question"


def definition(slug: str = SLUG, anonymous: bool = False) -> dict:
    """A two-page questionnaire whose first page asks for the unit."""
    return {
        "format": "surveyapp/1", "slug": slug, "base_language": "de",
        "languages": ["de", "en"], "anonymous": anonymous,
        "title": {"de": "Ortsgruppen", "en": "Chapters"},
        "consent": {"controller": "Verein", "privacy_url": "https://example.org/privacy",
                    "text": {"de": "Wir fragen nach Ihrer Gruppe.",
                             "en": "We ask for your chapter."}},
        "pages": [
            {"code": "where", "title": {"de": "Wo", "en": "Where"}, "questions": [
                {"code": "chapter", "type": "unit", "prefer_not": True,
                 "text": {"de": "Zu welcher Gruppe gehören Sie?",
                          "en": "Which chapter do you belong to?"}}]},
            {"code": "more", "title": {"de": "Mehr", "en": "More"}, "questions": [
                {"code": "happy", "type": "yes_no",
                 "text": {"de": "Zufrieden?", "en": "Satisfied?"}}]},
        ],
    }


def unit(code: str) -> Unit:
    return db.session.scalar(sa.select(Unit).filter_by(code=code))


@pytest.fixture
def published(app):
    questionnaire = import_questionnaire(definition(), open_now=True)
    questionnaire.min_group_size = 1
    db.session.commit()
    return questionnaire


def only_response() -> Response:
    db.session.expire_all()
    return db.session.scalars(sa.select(Response)).one()


def answer_codes() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Answer.option_code)))


def start(client, url: str | None = None, lang: str = "en") -> Respondent:
    """A respondent who gave consent, through the general link or a unit link ``url``."""
    respondent = Respondent(client, SLUG, lang)
    if url is None:
        assert respondent.start().status_code == 302
        return respondent
    path = "/" + url.split("://", 1)[-1].split("/", 1)[1]
    page = client.get(path)
    started = client.post(path, data={**hidden_values(page.get_data(as_text=True)),
                                      "consent": "y"})
    assert started.status_code == 302
    respondent.url = started.headers["Location"]
    return respondent


def test_the_page_offers_active_units_indented_and_never_retired_ones(app, client, published):
    retire_unit(unit("dortmund"))
    db.session.commit()
    html = start(client).page().get_data(as_text=True)
    select = re.search(r'<select name="chapter".*?</select>', html, re.S).group(0)
    assert '<option value="koeln">\u2003\u2003Köln</option>' in select
    assert '<option value="nrw">\u2003Nordrhein-Westfalen</option>' in select
    assert 'value="dortmund"' not in select
    assert 'value="_pna"' in select


def test_choosing_koeln_attributes_the_response(app, client, published):
    respondent = start(client)
    assert respondent.post({"chapter": "koeln"}).status_code == 302
    response = only_response()
    assert response.unit_id == unit("koeln").id and response.unit_from_question
    assert answer_codes() == ["koeln"]
    assert respondent.post({"happy": "yes"}).status_code == 302
    assert only_response().status is ResponseStatus.COMPLETE
    assert only_response().unit_id == unit("koeln").id


def test_changing_the_answer_moves_and_removing_it_clears_the_unit(app, client, published):
    respondent = start(client)
    respondent.post({"chapter": "koeln"})
    respondent.post({}, nav="back")
    assert respondent.post({"chapter": "dortmund"}).status_code == 302
    assert only_response().unit_id == unit("dortmund").id
    respondent.post({}, nav="back")
    respondent.post({"chapter": "_pna"})
    response = only_response()
    assert response.unit_id is None and not response.unit_from_question
    assert answer_codes() == ["_pna"]
    respondent.post({}, nav="back")
    respondent.post({"chapter": "koeln"})
    respondent.post({}, nav="back")
    respondent.post({"chapter": ""})
    assert only_response().unit_id is None and answer_codes() == []


def test_a_unit_link_wins_over_the_answer(app, client, published):
    with app.test_request_context():
        url = unit_link(get_by_slug(SLUG), unit("dortmund"))
    respondent = start(client, url)
    assert only_response().unit_id == unit("dortmund").id
    respondent.post({"chapter": "koeln"})
    response = only_response()
    assert response.unit_id == unit("dortmund").id and not response.unit_from_question
    respondent.post({}, nav="back")
    respondent.post({"chapter": "_pna"})
    assert only_response().unit_id == unit("dortmund").id
    assert answer_codes() == ["_pna"]


@pytest.mark.parametrize("code", ["dortmund", "atlantis", "_other"])
def test_a_retired_or_unknown_unit_is_refused(app, client, published, code):
    retire_unit(unit("dortmund"))
    db.session.commit()
    respondent = start(client)
    refused = respondent.post({"chapter": code})
    assert refused.status_code == 422
    assert "Please choose one of the options shown." in refused.get_data(as_text=True)
    assert answer_codes() == [] and only_response().unit_id is None


def test_refused_in_the_respondents_language(app, client, published):
    refused = start(client, lang="de").post({"chapter": "atlantis"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Bitte wählen Sie eine der angezeigten Antwortmöglichkeiten." in html
    assert 'aria-invalid="true"' in html


def test_anonymous_questionnaire_is_attributed_too(app, client):
    questionnaire = import_questionnaire(definition(anonymous=True), open_now=True)
    db.session.commit()
    respondent = start(client)
    respondent.post({"chapter": "koeln"})
    respondent.post({"happy": "no"})
    response = only_response()
    assert questionnaire.is_anonymous and response.status is ResponseStatus.COMPLETE
    assert response.unit_id == unit("koeln").id


def test_results_breakdown_unit_filter_and_export_count_it(app, staff_client, published):
    for chosen in ("koeln", "koeln", "dortmund", "_pna"):
        respondent = start(app.test_client())
        respondent.post({"chapter": chosen})
        respondent.post({"happy": "yes"})
    html = staff_client.get(f"/staff/results/{SLUG}?labels=en").get_data(as_text=True)
    by_unit = re.search(r"<caption>By unit</caption>.*?</table>", html, re.S).group(0)
    assert re.search(r">Köln</th><td[^>]*>2<", by_unit)
    assert re.search(r">Dortmund</th><td[^>]*>1<", by_unit)
    question = re.search(r'id="q-chapter".*?</section>', html, re.S).group(0)
    assert "Köln" in question and "Prefer not to answer" in question

    nrw = staff_client.get(f"/staff/results/{SLUG}?labels=en&unit=nrw").get_data(as_text=True)
    assert re.search(r"<dt>Complete</dt><dd>3</dd>", nrw)
    koeln = staff_client.get(f"/staff/results/{SLUG}?labels=en&q.chapter=koeln"
                             ).get_data(as_text=True)
    assert re.search(r"<dt>Complete</dt><dd>2</dd>", koeln)

    export = staff_client.get(f"/staff/results/{SLUG}/export.csv")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert sorted(row["chapter"] for row in rows) == ["_pna", "dortmund", "koeln", "koeln"]


def test_answer_labels_name_every_unit_and_a_new_unit_is_offered_at_once(app):
    question_type = get_type("unit")
    questionnaire = import_questionnaire(definition())
    question = next(q for q in questionnaire.latest_version.questions if q.code == "chapter")
    retire_unit(unit("dortmund"))
    create_unit("bonn", "Bonn", unit("nrw"))
    labels = {label.code: label.text for label in question_type.answer_labels(question,
                                                                             "en", "de")}
    assert labels["koeln"] == "Köln" and labels["dortmund"] == "Dortmund"
    assert "_pna" in labels
    offered = [code for code, _name, _depth in question_type.offered()]
    assert "bonn" in offered and "dortmund" not in offered


def test_definition_round_trip_and_no_options(app):
    questionnaire = import_questionnaire(definition())
    exported = export_questionnaire(questionnaire)
    question = exported["pages"][0]["questions"][0]
    assert question["type"] == "unit" and not question.get("options")
    again = definition(slug="unit-question-2")
    again["pages"] = exported["pages"]
    copy = import_questionnaire(again)
    assert {q.code: q.type for q in copy.latest_version.questions}["chapter"] == "unit"

    wrong = definition(slug="unit-question-3")
    wrong["pages"][0]["questions"][0]["options"] = [{"code": "a", "label": {"de": "A"}}]
    with pytest.raises(DefinitionError, match="takes no options"):
        import_questionnaire(wrong)


def test_conditions_offer_only_answered_or_not(app):
    questionnaire = import_questionnaire(definition())
    question = next(q for q in questionnaire.latest_version.questions if q.code == "chapter")
    assert operators_for(question) == ["answered", "not_answered"]
    assert answer_choices(question, "en", "de") == []
    # A condition on a unit code would break when the tree changes: the format refuses it.
    ruled = definition(slug="unit-question-4")
    ruled["pages"][1]["show_if"] = {"all": [{"question": "chapter", "op": "one_of",
                                             "values": ["koeln"]}]}
    with pytest.raises(DefinitionError, match="does not apply to 'chapter'"):
        import_questionnaire(ruled)
    ruled["pages"][1]["show_if"] = {"all": [{"question": "chapter", "op": "answered"}]}
    ruled["slug"] = "unit-question-5"
    assert import_questionnaire(ruled).slug == "unit-question-5"


def test_builder_adds_the_type_without_an_option_editor(app):
    builder = login(app, "unit-builder@example.org", Role.BUILDER)
    start_from_template(builder, "exit-survey", "unit-edit")
    page_id = draft_version(get_by_slug("unit-edit")).pages[0].id
    action, data = editor_form(builder, "unit-edit", f"/pages/{page_id}/questions")
    data.update(text="Ihre Gruppe?", type="unit")
    assert builder.post(action, data=data).status_code == 302
    db.session.expire_all()
    question = next(q for q in draft_version(get_by_slug("unit-edit")).questions
                    if q.type == "unit")
    assert question.options == []
    html = builder.get(f"/staff/build/unit-edit?open={question.id}").get_data(as_text=True)
    action = f"/staff/build/unit-edit/questions/{question.id}"
    form = re.search(rf'<form[^>]*action="{action}".*?</form>', html, re.S).group(0)
    assert "Respondents choose from the active units." in form
    assert 'name="new_options"' not in form and 'name="other"' not in form


def test_generated_demo_answers_name_active_units(app, published):
    from surveyapp.demo.responses import generate_responses

    generate_responses(published, 12, seed=3)
    question_ids = [q.id for q in published.published_version.questions if q.type == "unit"]
    codes = set(db.session.scalars(sa.select(Answer.option_code).where(
        Answer.question_id.in_(question_ids))))
    offered = {code for code, _name, _depth in get_type("unit").offered()}
    assert codes and codes <= offered | {"_pna"}
