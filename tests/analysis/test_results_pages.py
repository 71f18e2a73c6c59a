"""The results pages as an evaluator uses them: summaries, filters, texts and cross-tabs."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from surveyapp.accounts.models import Role
from surveyapp.accounts.services import create_user
from surveyapp.db import db
from surveyapp.questionnaires.models import Question
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Answer
from tests.conftest import csrf_token
from tests.respondent import Respondent

SLUG = "clubs-inclusion"


@pytest.fixture
def answered(app):
    """Twelve complete responses through the respondent pages."""
    for _ in range(12):
        respondent = Respondent(app.test_client(), SLUG, lang="de")
        respondent.start(consent=True)
        respondent.complete()
    questionnaire = get_by_slug(SLUG)
    questionnaire.min_group_size = 1
    db.session.commit()
    return questionnaire


def login(client, role: Role) -> None:
    """Log ``client`` in as a new account with ``role``."""
    email = f"{role.value}@example.org"
    create_user(email, role, "correct horse battery")
    db.session.commit()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    client.post("/staff/login", data={"csrf_token": token, "email": email,
                                      "password": "correct horse battery"})


def test_evaluator_sees_every_question(app, client, answered):
    login(client, Role.EVALUATOR)
    page = client.get(f"/staff/results/{SLUG}?labels=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Complete" in html and ">12<" in html
    for code in ("org_kind", "barriers", "volunteers", "openness", "support_wished"):
        assert f'id="q-{code}"' in html


def test_interviewer_sees_no_results(app, client, answered):
    login(client, Role.INTERVIEWER)
    assert client.get(f"/staff/results/{SLUG}").status_code == 403
    assert client.get(f"/staff/results/{SLUG}/crosstab").status_code == 403


def test_answer_filter_link_narrows_the_results(app, staff_client, answered):
    html = staff_client.get(f"/staff/results/{SLUG}?labels=en").get_data(as_text=True)
    link = re.search(r'href="([^"]*q\.size=[^"]+)"', html).group(1).replace("&amp;", "&")
    filtered = staff_client.get(link).get_data(as_text=True)
    assert "Filter in use" in filtered
    total = int(re.search(r"<dt>Complete</dt><dd>(\d+)</dd>", filtered).group(1))
    chosen = re.search(r"q\.size=([^&\"]+)", link).group(1)
    expected = sum(1 for r in db.session.scalars(sa.select(Answer).where(
        Answer.option_code == chosen, Answer.question_id.in_(
            sa.select(Question.id).where(Question.code == "size")))))
    assert total == expected > 0


def test_bad_filter_is_named_not_ignored(app, staff_client, answered):
    html = staff_client.get(f"/staff/results/{SLUG}?from=yesterday&unit=nowhere&q.size=zz"
                            ).get_data(as_text=True)
    assert "Please give dates as YYYY-MM-DD" in html
    assert "There is no unit with the code" in html
    assert "has no answer with the code" in html


def test_texts_page_searches(app, staff_client, answered):
    page = staff_client.get(f"/staff/results/{SLUG}/texts/org_name?search=zzzz-none")
    assert page.status_code == 200
    assert "0 answers" in page.get_data(as_text=True)
    assert staff_client.get(f"/staff/results/{SLUG}/texts/contact_email").status_code == 404


def test_crosstab_page(app, staff_client, answered):
    html = staff_client.get(f"/staff/results/{SLUG}/crosstab?row=size&col=tcn_members"
                            ).get_data(as_text=True)
    assert "respondents answered both" in html
    assert staff_client.get(f"/staff/results/{SLUG}/crosstab?row=size&col=founded"
                            ).status_code == 404


def test_small_selection_shows_nothing(app, staff_client, answered):
    answered.min_group_size = 50
    db.session.commit()
    html = staff_client.get(f"/staff/results/{SLUG}").get_data(as_text=True)
    assert "nothing more is shown" in html
    assert 'id="q-org_kind"' not in html
