"""`flask setup`, run by `make run`: migrate, demo content and one admin, once."""

import re

import sqlalchemy as sa

from surveyapp.accounts.models import User
from surveyapp.db import db
from surveyapp.questionnaires.models import Questionnaire


def test_setup_on_empty_database_then_again(committing_app):
    with committing_app.app_context():
        db.session.execute(sa.delete(User))
        db.session.commit()
    runner = committing_app.test_cli_runner()
    first = runner.invoke(args=["setup"])
    assert first.exit_code == 0, first.output
    assert re.search(r"password: \S{12,}", first.output)
    second = runner.invoke(args=["setup"])
    assert "up to date" in second.output and "password" not in second.output
    with committing_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Questionnaire)) == 5
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
