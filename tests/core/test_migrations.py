"""Every schema change ships a migration: the models and the migrated database agree."""


def test_migrations_match_the_models(app, runner):
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_a_filled_database_goes_back_to_the_last_release_and_up_again(request, engine_name,
                                                                      workdir):
    """Upgrading a database that holds answers: tables that others refer to are copied on
    SQLite, which must neither fail nor lose or orphan a row."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from surveyapp.cli import seed_demo_content
    from surveyapp.db import db
    from surveyapp.demo.responses import generate_responses
    from surveyapp.questionnaires.services import get_by_slug
    from tests.conftest import make_app, new_database_url

    app = make_app(new_database_url(engine_name, request, workdir), workdir)
    tables = ("responses", "answers", "consent_records", "questionnaires", "units")
    with app.app_context():
        seed_demo_content()
        generate_responses(get_by_slug("exit-survey"), 30, drafts=5)
        db.session.commit()

        def counts():
            return {t: db.session.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in tables}

        before = counts()
        assert before["answers"] > 0
        db.session.remove()
        downgrade(revision="0010")  # the schema of the previous release
        upgrade()
        assert counts() == before
        if engine_name == "sqlite":
            assert db.session.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        db.session.remove()
        db.engine.dispose()
