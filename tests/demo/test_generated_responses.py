"""Generated demo responses are what real respondents could have stored, and reproducible."""

from collections import defaultdict
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from surveyapp.accounts.models import Unit
from surveyapp.consent.models import ConsentRecord
from surveyapp.db import db
from surveyapp.demo.responses import generate_responses
from surveyapp.questionnaires.question_types import AnswerValue, get_type
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.flow import Flow
from surveyapp.responses.forms import make_page_form
from surveyapp.responses.models import Answer, Channel, Response, ResponseStatus

DEMO_SLUGS = ["clubs-inclusion", "exit-survey", "member-activation", "mentors", "needs-tcn"]
START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def stored(questionnaire) -> dict[int, tuple[Response, dict[str, list[AnswerValue]]]]:
    """Every response of ``questionnaire`` with its values by question code, in stored order."""
    version = questionnaire.published_version
    code_of = {q.id: q.code for q in version.questions}
    responses = {r.id: (r, defaultdict(list)) for r in db.session.scalars(
        sa.select(Response).filter_by(questionnaire_id=questionnaire.id))}
    for answer in db.session.scalars(
            sa.select(Answer).where(Answer.response_id.in_(list(responses)))
            .order_by(Answer.id)):
        responses[answer.response_id][1][code_of[answer.question_id]].append(AnswerValue(
            option_code=answer.option_code, row_code=answer.row_code,
            value_text=answer.value_text, value_number=answer.value_number,
            value_date=answer.value_date))
    return responses


def posted(question, values: list[AnswerValue]) -> list[tuple[str, str]]:
    """What a browser posts to show ``values`` again: the type's own form data."""
    items = []
    for name, value in get_type(question.type).form_data(question, values).items():
        if isinstance(value, list):
            items.extend((name, v) for v in value)
        elif value is True:
            items.append((name, "y"))
        elif value is not None:
            items.append((name, value))
    return items


def reparse(app, question, values: list[AnswerValue]) -> list[AnswerValue]:
    """Stored values -> posted form -> the type's ``parse``, as a respondent page does it."""
    with app.test_request_context(method="POST", data=MultiDict(posted(question, values)),
                                  headers={"Accept-Language": "en"}):
        form = make_page_form([question])(meta={"csrf": False})
        return get_type(question.type).parse(question, form)


@pytest.mark.parametrize("slug", DEMO_SLUGS)
def test_every_generated_answer_is_valid_and_visible(app, slug):
    questionnaire = get_by_slug(slug)
    version = questionnaire.published_version
    units = list(db.session.scalars(sa.select(Unit.id).order_by(Unit.id)))
    assert generate_responses(questionnaire, 200, drafts=20, seed=11, start=START,
                              units=units) == 200
    responses = stored(questionnaire)
    by_status = defaultdict(int)
    questions = {q.code: q for q in version.questions}
    checked = set()
    for response, values in responses.values():
        by_status[response.status] += 1
        flow = Flow(version, values)
        # Nothing stored for a question its conditions hide.
        assert set(values) <= flow.visible_codes(), (slug, set(values) - flow.visible_codes())
        assert response.language in questionnaire.languages
        assert response.unit_id in units
        if response.status is ResponseStatus.COMPLETE:
            assert flow.first_missing() is None
            assert response.receipt_digest and response.submitted_at <= START
            assert response.started_at <= response.submitted_at
        else:
            assert response.receipt_digest is None and response.submitted_at is None
        for code, answer in values.items():
            key = (code, tuple(answer))
            if key not in checked:
                checked.add(key)
                assert reparse(app, questions[code], answer) == answer, (slug, code, answer)
    assert by_status == {ResponseStatus.COMPLETE: 200, ResponseStatus.DRAFT: 20}
    answered = {code for _r, values in responses.values() for code in values}
    assert answered == set(questions), "every question gets answers somewhere"


@pytest.mark.parametrize("slug", DEMO_SLUGS)
def test_every_response_has_one_consent_record_like_a_real_one(app, slug):
    questionnaire = get_by_slug(slug)
    generate_responses(questionnaire, 200, drafts=10, seed=5, start=START,
                       channel_phone_share=0.3)
    records = defaultdict(list)
    for record in db.session.scalars(sa.select(ConsentRecord).filter_by(
            questionnaire_id=questionnaire.id)):
        records[record.response_id].append(record)
    responses = db.session.scalars(sa.select(Response).filter_by(
        questionnaire_id=questionnaire.id)).all()
    assert len(responses) == 210
    channels = set()
    for response in responses:
        (record,) = records[response.id]
        text = record.consent_text
        assert record.version_id == response.version_id
        assert record.language == text.language == response.language
        assert record.digest == text.digest
        assert record.channel == response.channel.value
        required = {p["code"] for p in text.purposes if p["required"]}
        assert record.purposes[0] == "answers" and required <= set(record.purposes)
        assert set(record.purposes) <= {"answers"} | {p["code"] for p in text.purposes}
        assert record.given_at == response.started_at
        channels.add(response.channel)
    assert channels == {Channel.WEB, Channel.PHONE}
    digests = db.session.execute(sa.select(
        sa.func.count(sa.distinct(Response.receipt_digest)),
        sa.func.count(sa.distinct(Response.start_key)),
        sa.func.count(sa.distinct(Response.resume_digest)),
    ).filter_by(questionnaire_id=questionnaire.id)).one()
    assert tuple(digests) == (200, 210, 210)


def fingerprint(responses) -> list:
    """What a generated response says, without its random keys."""
    return [(r.status, r.language, r.unit_id, r.channel, r.submitted_at, r.current_page,
             sorted((code, tuple(vals)) for code, vals in values.items()))
            for r, values in responses]


def test_same_seed_same_responses_other_seed_other_responses(app):
    questionnaire = get_by_slug("needs-tcn")
    runs = []
    for seed in (3, 3, 4):
        before = set(stored(questionnaire))
        generate_responses(questionnaire, 40, drafts=5, seed=seed, start=START, batch=16)
        runs.append(fingerprint(v for k, v in sorted(stored(questionnaire).items())
                                if k not in before))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert {language for _s, language, *_rest in runs[0]} > {"de"}


def test_seed_demo_adds_responses_once_and_testers_can_add_more(app, runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "demo responses added to: " + ", ".join(DEMO_SLUGS) in first.output
    second = runner.invoke(args=["seed-demo"])
    assert "none (all have some)" in second.output
    counts = dict(db.session.execute(
        sa.select(Response.questionnaire_id, sa.func.count()).group_by(Response.questionnaire_id)
    ).all())
    assert sorted(counts.values()) == [270] * 5
    units = db.session.scalar(sa.select(sa.func.count(sa.distinct(Response.unit_id))))
    assert units == 8
    more = runner.invoke(args=["demo-responses", "mentors", "25", "--drafts", "5", "--seed", "2"])
    assert more.exit_code == 0, more.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response).filter_by(
        questionnaire_id=get_by_slug("mentors").id)) == 300
    unknown = runner.invoke(args=["demo-responses", "nope", "5"])
    assert unknown.exit_code != 0 and "no questionnaire" in unknown.output
