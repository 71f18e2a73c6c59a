"""Summaries and cross-tabs against an independent count from the raw answer rows."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest
import sqlalchemy as sa

from surveyapp.analysis.catalogue import load_catalogue
from surveyapp.analysis.crosstab import build_crosstab
from surveyapp.analysis.filters import ResultFilter
from surveyapp.analysis.protection import protect_counts, protect_table
from surveyapp.analysis.summaries import build_results, clear_results_cache
from surveyapp.db import db
from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Answer, Response, ResponseStatus
from tests.respondent import Respondent

SLUG = "clubs-inclusion"


@pytest.fixture
def answered(app, client):
    """Twelve complete responses (random but valid answers), one draft and one preview."""
    for _ in range(12):
        respondent = Respondent(app.test_client(), SLUG, lang="de")
        respondent.start(consent=True)
        respondent.complete()
    Respondent(app.test_client(), SLUG).start(consent=True)
    return get_by_slug(SLUG)


def raw_answers(questionnaire) -> list[tuple[int, str, str | None, str | None, float | None]]:
    """(response, question code, row, option, number) of complete, real responses, by ORM."""
    rows = []
    responses = db.session.scalars(sa.select(Response).filter_by(
        questionnaire_id=questionnaire.id, status=ResponseStatus.COMPLETE, is_preview=False))
    for response in responses:
        for answer in response.answers:
            question = db.session.get(Question, answer.question_id)
            rows.append((response.id, question.code, answer.row_code, answer.option_code,
                         answer.value_number))
    return rows


def test_choice_counts_match_the_raw_answers(app, answered):
    results = build_results(load_catalogue(answered, "de"), ResultFilter(), threshold=1)
    raw = raw_answers(answered)
    assert results.overview.complete == 12
    assert results.overview.partial == 1
    for summary in results.questions:
        question = summary.question
        own = [r for r in raw if r[1] == question.code]
        if question.kind in ("choice", "multiple", "scale"):
            expected = Counter(option for _rid, _c, _row, option, _n in own)
            shown = {cell.code: cell.count for cell in summary.cells if cell.count}
            assert shown == dict(expected), question.code
            respondents = len({rid for rid, *_ in own})
            assert summary.n == respondents, question.code
            for cell in summary.cells:
                assert cell.percent == pytest.approx(100 * cell.count / respondents)
        elif question.kind == "matrix":
            for row in summary.rows:
                expected = Counter(o for _rid, _c, r, o, _n in own if r == row.code)
                assert {c.code: c.count for c in row.cells if c.count} == dict(expected)
        elif question.kind == "number":
            numbers = [n for *_x, n in own if n is not None]
            if numbers:
                assert summary.stats.n == len(numbers)
                assert summary.stats.mean == pytest.approx(np.mean(numbers))
                assert summary.stats.median == pytest.approx(np.median(numbers))
                assert summary.stats.q1 == pytest.approx(np.quantile(numbers, 0.25))
                assert summary.stats.q3 == pytest.approx(np.quantile(numbers, 0.75))
                assert sum(c for _label, c in summary.bins) == len(numbers)


def test_personal_answers_are_counted_but_never_listed(app, answered):
    results = build_results(load_catalogue(answered, "de"), ResultFilter(), threshold=1)
    email = next(s for s in results.questions if s.question.code == "contact_email")
    assert email.question.is_personal
    assert email.texts == []


def test_answer_filter_and_crosstab(app, answered):
    catalogue = load_catalogue(answered, "de")
    raw = raw_answers(answered)
    by_response: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for rid, code, _row, option, _n in raw:
        if option:
            by_response[rid][code].add(option)
    chosen = next(iter(by_response.values()))["size"]
    code = next(iter(chosen))
    flt = ResultFilter(answers=(("size", (code,)),))
    results = build_results(catalogue, flt, threshold=1)
    expected = sum(1 for answers in by_response.values() if code in answers["size"])
    assert results.overview.complete == expected

    table = build_crosstab(catalogue, ResultFilter(), "size", "openness", k=1)
    for i, row in enumerate(table.row_labels):
        for j, column in enumerate(table.column_labels):
            count = sum(1 for answers in by_response.values()
                        if row.code in answers["size"] and column.code in answers["openness"])
            assert table.counts[i][j] == count
    assert table.n == sum(1 for a in by_response.values() if a["size"] and a["openness"])


def test_small_groups_are_hidden(app, answered):
    catalogue = load_catalogue(answered, "de")
    results = build_results(catalogue, ResultFilter(), threshold=5)
    for summary in results.questions:
        for cell in summary.cells:
            assert cell.count is None or cell.count == 0 or cell.count >= 5
        hidden = [c for c in summary.cells if c.count is None]
        assert len(hidden) != 1, "a lone hidden cell can be recovered from the total"
    # A filtered subset smaller than the threshold shows nothing at all.
    tiny = build_results(catalogue, ResultFilter(languages=("de",)), threshold=13)
    assert tiny.suppressed and tiny.questions == [] and tiny.overview.by_unit == []


def test_protection_rules():
    assert protect_counts([10, 3, 0, 8], 5) == [10, None, 0, None]
    assert protect_counts([10, 6, 7], 5) == [10, 6, 7]
    table = protect_table([[10, 2], [9, 8]], 5)
    hidden = sum(cell is None for row in table for cell in row)
    assert table[0][1] is None and hidden >= 3  # no row or column with a single hidden cell
    for row in table:
        assert sum(cell is None for cell in row) != 1
    for j in range(2):
        assert sum(row[j] is None for row in table) != 1


def test_withdrawn_and_preview_do_not_count(app, answered, staff_client):
    Respondent(staff_client, SLUG).start(consent=True, preview="1")
    response = db.session.scalars(sa.select(Response).filter_by(
        status=ResponseStatus.COMPLETE)).first()
    response.status = ResponseStatus.WITHDRAWN
    db.session.execute(sa.delete(Answer).where(Answer.response_id == response.id))
    db.session.flush()
    results = build_results(load_catalogue(answered, "de"), ResultFilter(), threshold=1)
    assert results.overview.complete == 11
    assert results.overview.withdrawn == 1


@pytest.mark.parametrize("complement", [True, False], ids=["all-minus-left-out", "direct"])
def test_both_ways_of_counting_agree(app, answered, monkeypatch, complement):
    """Counting all answers minus the left-out responses equals counting the selected ones."""
    from surveyapp.analysis.selection import Selection

    catalogue = load_catalogue(answered, "de")
    expected = build_results(catalogue, ResultFilter(), threshold=1)
    monkeypatch.setattr(Selection, "by_complement", property(lambda self: complement))
    clear_results_cache()
    again = build_results(catalogue, ResultFilter(), threshold=1)
    for before, after in zip(expected.questions, again.questions, strict=True):
        assert (before.n, [c.count for c in before.cells], before.stats, before.bins,
                [[c.count for c in r.cells] for r in before.rows]) == (
            after.n, [c.count for c in after.cells], after.stats, after.bins,
            [[c.count for c in r.cells] for r in after.rows]), before.question.code


def test_results_are_recomputed_when_a_response_arrives(app, answered):
    catalogue = load_catalogue(answered, "de")
    first = build_results(catalogue, ResultFilter(), threshold=1)
    assert build_results(catalogue, ResultFilter(), threshold=1).questions[0] is \
        first.questions[0], "the same state of the data is answered from the cache"
    respondent = Respondent(app.test_client(), SLUG, lang="de")
    respondent.start(consent=True)
    respondent.complete()
    again = build_results(catalogue, ResultFilter(), threshold=1)
    assert again.overview.complete == first.overview.complete + 1
