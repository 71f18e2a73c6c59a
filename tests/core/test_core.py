"""Health check, factory configuration, error pages."""

import pytest
import sqlalchemy as sa

from surveyapp import create_app
from surveyapp.db import db


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": True}


def test_healthz_reports_unreachable_database(tmp_path):
    app = create_app({
        "TESTING": True, "SECRET_KEY": "x",
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
    })
    app.instance_path = str(tmp_path)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] is False
    with app.app_context():
        db.engine.dispose()


def test_production_refuses_to_start_without_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_database_url_from_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example/surveys")
    monkeypatch.setenv("SECRET_KEY", "s")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example/surveys"


def test_development_secret_is_generated_once(tmp_path, monkeypatch):
    from surveyapp.config import development_secret

    first = development_secret(str(tmp_path))
    assert len(first) == 64 and development_secret(str(tmp_path)) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_home_page_and_static_assets(client):
    assert client.get("/").status_code == 200
    css = client.get("/static/app.css")
    assert css.status_code == 200
    # Logical properties only, so that right-to-left needs no second stylesheet.
    text = css.get_data(as_text=True)
    for physical in ("margin-left", "margin-right", "padding-left", "padding-right",
                     "text-align: left", "text-align: right", "float: left", "float: right",
                     " left:", " right:"):
        assert physical not in text, physical
    css.close()


def test_nothing_is_loaded_from_outside(client):
    html = client.get("/s/needs-tcn?lang=ar").get_data(as_text=True)
    assert "http://" not in html.replace("http://localhost", "")
    assert "https://" not in html.replace("https://example.org/datenschutz", "")


def test_sqlite_runs_in_wal_mode(app, engine_name):
    if engine_name != "sqlite":
        pytest.skip("SQLite only")
    mode = db.session.execute(sa.text("PRAGMA journal_mode")).scalar()
    assert mode == "wal"
    assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_security_headers_keep_resume_links_private(client):
    response = client.get("/s/exit-survey")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_static_files_are_versioned_and_cached(client):
    html = client.get("/s/exit-survey").get_data(as_text=True)
    import re

    href = re.search(r'href="(/static/app.css\?v=[0-9a-f]{10})"', html).group(1)
    response = client.get(href)
    assert response.cache_control.max_age == 365 * 24 * 3600
    response.close()


def test_pages_are_compressed_for_slow_networks(client):
    response = client.get("/s/exit-survey", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"


def test_static_files_are_compressed_and_closed(client):
    import gc

    response = client.get("/static/app.css", headers={"Accept-Encoding": "br"})
    assert response.headers["Content-Encoding"] == "br"
    assert int(response.headers["Content-Length"]) < 4000
    response.close()
    gc.collect()  # an unclosed file would raise ResourceWarning, an error in this suite


def test_behind_a_proxy_the_client_address_comes_from_its_header():
    from flask import request

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "PROXY_HOPS": "1"})

    @app.get("/whoami")
    def whoami():
        return request.remote_addr

    client = app.test_client()
    assert client.get("/whoami", headers={"X-Forwarded-For": "203.0.113.7"}).text == "203.0.113.7"


def test_mail_numbers_come_from_the_environment(monkeypatch):
    from surveyapp.config import from_environment

    monkeypatch.setenv("MAIL_PORT", "2525")
    monkeypatch.setenv("MAIL_PER_HOUR", "30")
    assert (from_environment()["MAIL_PORT"], from_environment()["MAIL_PER_HOUR"]) == (2525, 30)
    monkeypatch.setenv("MAIL_PER_HOUR", "many")
    with pytest.raises(RuntimeError, match="MAIL_PER_HOUR"):
        from_environment()
