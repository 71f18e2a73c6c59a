"""Every schema change ships a migration: the models and the migrated database agree."""


def test_migrations_match_the_models(app, runner):
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
