"""Fixtures: an app per database engine, a rolled-back transaction per test, clients, users."""

from __future__ import annotations

import itertools
import os
import re
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import globals as flask_globals
from flask.testing import FlaskClient
from sqlalchemy import orm

from surveyapp import create_app
from surveyapp.accounts.models import Role
from surveyapp.accounts.services import create_user
from surveyapp.analysis.summaries import clear_results_cache
from surveyapp.cli import seed_demo_content
from surveyapp.db import db
from tests.formfiller import parse_forms
from tests.pg import ThrowawayPostgres, find_binaries

ENGINES = ["sqlite", "postgresql"]
_database_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_cluster():
    """One throwaway PostgreSQL server for the whole run; skipped (or failed in CI) without it."""
    binaries = find_binaries()
    if binaries is None:
        message = "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
        if os.environ.get("SURVEYAPP_REQUIRE_POSTGRES"):
            pytest.fail(message + ", but SURVEYAPP_REQUIRE_POSTGRES is set")
        pytest.skip(message + ": PostgreSQL half of the suite skipped")
    cluster = ThrowawayPostgres(binaries)
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def workdir():
    """A folder for this run's SQLite files and instance folders."""
    with tempfile.TemporaryDirectory(prefix="surveyapp-test-") as path:
        yield Path(path)


def new_database_url(engine: str, request, workdir: Path) -> str:
    """A fresh, empty database of the given engine."""
    number = next(_database_names)
    if engine == "sqlite":
        return f"sqlite:///{workdir / f'db{number}.sqlite'}"
    cluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database(f"surveyapp_test_{number}")


class IsolatedClient(FlaskClient):
    """A test client that gives every request its own app context, as a real server does.

    Without it, requests made while a test holds an app context would share ``g`` and the
    database session with the test and with each other.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Assertions read English messages unless a test asks for another language.
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_app(url: str, workdir: Path, **extra):
    """An application on ``url`` with the schema migrated to the newest revision."""
    from flask_migrate import upgrade

    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": url,
        "DATABASE_URL": url,
        **extra,
    })
    app.instance_path = str(workdir)
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(scope="session", params=ENGINES)
def engine_name(request):
    """Each test that uses the database runs once per engine."""
    return request.param


def demo_app(engine_name: str, request, workdir: Path, url: str | None = None, **extra):
    """An application on a fresh, migrated database holding the demo content; closed after."""
    app = make_app(url or new_database_url(engine_name, request, workdir), workdir, **extra)
    with app.app_context():
        seed_demo_content()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def base_app(engine_name, request, workdir):
    """The application with the demo content, shared by a run (tests roll back their changes)."""
    yield from demo_app(engine_name, request, workdir)


def _app_context_id() -> int:
    return id(flask_globals.app_ctx._get_current_object())


@pytest.fixture(autouse=True)
def fresh_results_cache():
    """Results cached by one test never answer another (rolled-back ids come back)."""
    yield
    clear_results_cache()


@pytest.fixture
def app(base_app):
    """The application with every database change of the test rolled back afterwards.

    The test's session is bound to one connection inside an outer transaction; the app's
    commits only release savepoints, so nothing outlives the test.
    """
    with base_app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = orm.scoped_session(
            orm.sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=_app_context_id,
        )
        try:
            yield base_app
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def committing_app(engine_name, request, workdir):
    """An application on its own fresh database whose commits are real (for races)."""
    yield from demo_app(engine_name, request, workdir)


@pytest.fixture
def client(app):
    """A test client of the rolled-back app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner of the rolled-back app."""
    return app.test_cli_runner()


@pytest.fixture
def admin(app):
    """An admin account; its password is ``correct horse battery``."""
    with app.app_context():
        user, _ = create_user("staff@example.org", Role.ADMIN, "correct horse battery")
        db.session.commit()
        return user.id


@pytest.fixture
def staff_client(client, admin):
    """A client logged in as the admin."""
    page = client.get("/staff/login")
    token = csrf_token(page.get_data(as_text=True))
    response = client.post("/staff/login", data={
        "csrf_token": token, "email": "staff@example.org", "password": "correct horse battery",
    })
    assert response.status_code == 302
    return client


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def hidden_values(html: str) -> dict[str, str]:
    """The hidden inputs of the first POST form on a page."""
    form = next(f for f in parse_forms(html) if f.method == "post")
    return {c.name: c.attrs.get("value", "") for c in form.controls if c.type == "hidden"}


def count_rows(model) -> int:
    """Rows of a table, through the current session."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))
