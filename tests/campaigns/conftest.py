"""Fixtures for phone campaigns: a questionnaire, interviewers, logged-in clients."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from surveyapp.accounts.models import Role, Unit, User
from surveyapp.accounts.services import create_user
from surveyapp.campaigns import services
from surveyapp.db import db
from surveyapp.questionnaires.services import get_by_slug
from tests.conftest import csrf_token

#: Anonymous, German and English, with an optional purpose ("contact").
SLUG = "clubs-inclusion"
PASSWORD = "a long enough password"


def make_user(email: str, role: Role = Role.INTERVIEWER) -> User:
    """A staff account with the test password."""
    user, _ = create_user(email, role, PASSWORD)
    db.session.flush()
    return user


def log_in(app, email: str):
    """A client logged in as ``email``; ``client.csrf`` holds a valid token."""
    client = app.test_client()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post("/staff/login", data={"csrf_token": token, "email": email,
                                                 "password": PASSWORD})
    assert response.status_code == 302
    client.csrf = token
    client.landing = response.headers["Location"]
    return client


def first_units(count: int = 2) -> list[Unit]:
    """Some demo units."""
    return list(db.session.scalars(sa.select(Unit).order_by(Unit.id).limit(count)))


@pytest.fixture
def questionnaire(app):
    """The open demo questionnaire campaigns call for."""
    return get_by_slug(SLUG)


@pytest.fixture
def campaign_with(app, questionnaire):
    """Build a campaign with ``n`` people and the given interviewers (a factory)."""

    def build(n: int = 3, interviewers=(), **settings):
        unit = first_units(1)[0]
        campaign = services.create_campaign(
            questionnaire, name="Neue Mitglieder anrufen", script="Hallo <b>{name}</b>!",
            interviewer_ids=[u.id for u in interviewers], **settings)
        services.add_people(campaign, [
            services.Person(name=f"Person {i}", phone=f"+49 170 000{i:04d}", language="en",
                            unit_id=unit.id) for i in range(n)])
        db.session.flush()
        return campaign

    return build
