"""Staff login, the questionnaire list, preview, and the user commands."""

import re

import sqlalchemy as sa

from surveyapp.accounts.models import Role, User
from surveyapp.db import db
from surveyapp.responses.models import Response
from tests.conftest import csrf_token, hidden_values


def test_password_is_hashed(app, admin):
    user = db.session.get(User, admin)
    assert "correct horse" not in user.password_hash
    assert user.check_password("correct horse battery")
    assert not user.check_password("wrong")


def test_login_with_wrong_password_says_so_without_saying_which(client, admin):
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post("/staff/login", data={
        "csrf_token": token, "email": "staff@example.org", "password": "nope nope nope"})
    assert response.status_code == 422
    assert "E-mail address or password is wrong." in response.get_data(as_text=True)
    response = client.post("/staff/login", data={
        "csrf_token": token, "email": "nobody@example.org", "password": "nope nope nope"})
    assert "E-mail address or password is wrong." in response.get_data(as_text=True)


def test_staff_pages_need_login(client):
    response = client.get("/staff/questionnaires/")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_list_shows_states_and_counts(app, staff_client):
    html = staff_client.get("/staff/questionnaires/").get_data(as_text=True)
    for slug in ("needs-tcn", "mentors", "clubs-inclusion", "member-activation", "exit-survey"):
        assert f"/s/{slug}?preview=1" in html
    assert html.count("<dd>Open</dd>") == 5


def test_preview_answers_are_not_counted(app, staff_client):
    page = staff_client.get("/s/exit-survey?preview=1")
    html = page.get_data(as_text=True)
    assert "Preview" in html
    data = {**hidden_values(html), "consent": "y"}
    response = staff_client.post("/s/exit-survey?preview=1", data=data)
    assert response.status_code == 302
    assert db.session.scalars(sa.select(Response)).one().is_preview is True
    listing = staff_client.get("/staff/questionnaires/").get_data(as_text=True)
    assert "<dd>1</dd>" not in listing


def test_preview_needs_staff(client):
    html = client.get("/s/exit-survey?preview=1").get_data(as_text=True)
    assert "Preview" not in html


def test_logout(staff_client):
    html = staff_client.get("/staff/questionnaires/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert staff_client.post("/staff/logout", data={"csrf_token": token}).status_code == 302
    assert staff_client.get("/staff/questionnaires/").status_code == 302


def test_create_user_command_generates_a_password(app, runner):
    result = runner.invoke(args=["create-user", "New@Example.org", "--role", "evaluator"])
    assert result.exit_code == 0, result.output
    password = re.search(r"password: (\S+)", result.output).group(1)
    user = db.session.scalar(sa.select(User).filter_by(email="new@example.org"))
    assert user.role is Role.EVALUATOR and user.check_password(password)
    again = runner.invoke(args=["create-user", "new@example.org", "--role", "builder"])
    assert again.exit_code != 0 and "exists already" in again.output


def test_create_user_command_prompts_for_password(app, runner):
    result = runner.invoke(args=["create-user", "p@example.org", "--role", "builder",
                                 "--password"], input="long enough pw\nlong enough pw\n")
    assert result.exit_code == 0, result.output
    assert "password:" not in result.output.split("created")[1]
    user = db.session.scalar(sa.select(User).filter_by(email="p@example.org"))
    assert user.check_password("long enough pw")


def test_interface_language_switch_for_staff(client):
    html = client.get("/staff/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    client.post("/language", data={"csrf_token": token, "lang": "ar", "next": "/staff/login"})
    assert '<html lang="ar" dir="rtl">' in client.get("/staff/login").get_data(as_text=True)


def test_staff_root_leads_each_role_to_its_start_page(app):
    from tests.accounts.test_permissions import log_in_as

    assert log_in_as(app, Role.EVALUATOR).get("/staff/").headers["Location"].endswith(
        "/staff/questionnaires/")
    assert log_in_as(app, Role.INTERVIEWER).get("/staff/").headers["Location"].endswith(
        "/staff/campaigns/mine")
