"""Every route says who may use it, and each role gets exactly what its permissions allow."""

import pytest

from surveyapp.accounts.models import Role
from surveyapp.accounts.permissions import ROLE_PERMISSIONS, Permission
from surveyapp.accounts.services import create_user
from surveyapp.db import db
from surveyapp.questionnaires.services import list_questionnaires, share
from tests.conftest import csrf_token

SAMPLE_ARGUMENTS = {"slug": "exit-survey", "token": "no-such-token", "page_code": "membership",
                    "response_id": 999999, "code": "member_duration", "fmt": "csv",
                    "format": "csv",
                    "filename": "app.css", "programme_id": 999999, "stage_id": 999999,
                    "mark_id": 999999, "unit_id": 999999, "question_id": 999999,
                    "page_id": 999999, "contact_id": 999999, "campaign_id": 999999,
                    "entry_id": 999999, "user_id": 999999}


def guarded_routes(app):
    """(rule, endpoint, permission) for every route that needs one; logging out comes last."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint.endswith("logout")):
        view = app.view_functions[rule.endpoint]
        access = getattr(view, "access", None)
        if access not in (None, "public"):
            yield rule, rule.endpoint, access


def test_every_route_declares_who_may_use_it(app):
    undeclared = [rule.rule for rule in app.url_map.iter_rules()
                  if rule.endpoint != "static"
                  and getattr(app.view_functions[rule.endpoint], "access", None) is None]
    assert undeclared == [], f"routes without @public or @permission_required: {undeclared}"


def log_in_as(app, role: Role):
    client = app.test_client()
    user, _ = create_user(f"{role.value}@example.org", role, "a long enough password")
    if role is Role.BUILDER:  # builders work on their questionnaires: share them all
        for questionnaire in list_questionnaires():
            share(questionnaire, user)
    db.session.commit()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post("/staff/login", data={
        "csrf_token": token, "email": f"{role.value}@example.org",
        "password": "a long enough password"})
    assert response.status_code == 302
    client.csrf = token
    return client


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_reaches_exactly_its_routes(app, role):
    client = log_in_as(app, role)
    allowed = ROLE_PERMISSIONS[role]
    checked = 0
    for rule, endpoint, permission in guarded_routes(app):
        url = rule.build({k: v for k, v in SAMPLE_ARGUMENTS.items() if k in rule.arguments})[1]
        if "GET" in rule.methods:
            response = client.get(url)
        else:  # with a valid token, so that only the permission can refuse
            response = client.post(url, data={"csrf_token": client.csrf})
        if permission in allowed:
            assert response.status_code != 403, f"{role} refused at {endpoint}"
        else:
            assert response.status_code == 403, f"{role} let into {endpoint}"
        checked += 1
    assert checked >= 5


def test_anonymous_visitors_are_sent_to_the_login(app, client):
    for rule, endpoint, _permission in guarded_routes(app):
        url = rule.build({k: v for k, v in SAMPLE_ARGUMENTS.items() if k in rule.arguments})[1]
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method)
        assert response.status_code in (302, 400), endpoint  # 400: POST without CSRF token
        if response.status_code == 302:
            assert "/staff/login" in response.headers["Location"]


def test_interviewers_cannot_preview(app):
    client = log_in_as(app, Role.INTERVIEWER)
    assert "Preview" not in client.get("/s/exit-survey?preview=1").get_data(as_text=True)
    assert Permission.PREVIEW not in ROLE_PERMISSIONS[Role.INTERVIEWER]


def test_builders_work_only_on_their_own_and_shared_questionnaires(app, runner):
    create_user("builder@example.org", Role.BUILDER, "a long enough password")
    db.session.commit()
    client = app.test_client()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    client.post("/staff/login", data={"csrf_token": token, "email": "builder@example.org",
                                      "password": "a long enough password"})
    assert client.get("/staff/results/exit-survey").status_code == 403
    assert client.get("/staff/questionnaires/exit-survey/translations").status_code == 403
    assert "exit-survey" not in client.get("/staff/questionnaires/").get_data(as_text=True)
    assert "Preview" not in client.get("/s/exit-survey?preview=1").get_data(as_text=True)
    result = runner.invoke(args=["surveys", "share", "exit-survey", "builder@example.org"])
    assert result.exit_code == 0, result.output
    assert client.get("/staff/results/exit-survey").status_code == 200
    assert "exit-survey" in client.get("/staff/questionnaires/").get_data(as_text=True)
    assert client.get("/staff/results/mentors").status_code == 403
    # Evaluators see every questionnaire's results; interviewers none.
    evaluator = log_in_as(app, Role.EVALUATOR)
    assert evaluator.get("/staff/results/mentors").status_code == 200
