"""``flask`` sub-commands: setup, demo content, users and questionnaire import/export."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from surveyapp.accounts.models import Role, Unit, UnitKind, User
from surveyapp.accounts.services import create_user, ensure_unit, find_user
from surveyapp.analysis.cli_options import filter_from_options, filter_options
from surveyapp.audit.services import record
from surveyapp.db import db
from surveyapp.demo.responses import demo_seed, generate_responses
from surveyapp.i18n.catalogues import translate
from surveyapp.programmes.demo import seed_demo_programme
from surveyapp.questionnaires.definition import DefinitionError
from surveyapp.questionnaires.services import get_by_slug, list_questionnaires, share
from surveyapp.responses.models import Response
from surveyapp.responses.services import count_by_status
from surveyapp.transfer import NotPublishable, export_questionnaire, import_questionnaire

DEMO_DIR = Path(__file__).parent / "demo"
DEMO_ADMIN = "admin@example.org"

surveys = AppGroup("surveys", help="List, import and export questionnaires.")


@surveys.command("list")
def surveys_list() -> None:
    """Print every questionnaire with its state and response counts."""
    questionnaires = list_questionnaires()
    counts = count_by_status([q.id for q in questionnaires])
    for q in questionnaires:
        click.echo(
            f"{q.slug:24} {q.state.value:9} {','.join(q.languages):12} "
            f"complete={counts.get((q.id, 'complete'), 0)} draft={counts.get((q.id, 'draft'), 0)}"
        )


@surveys.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--open", "open_now", is_flag=True, help="Publish and open it for answers.")
def surveys_import(file, open_now: bool) -> None:
    """Import a questionnaire from a JSON definition (format: see the README)."""
    try:
        data = json.load(file)
        questionnaire = import_questionnaire(data, open_now=open_now)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"not valid JSON: {error}") from error
    except DefinitionError as error:
        db.session.rollback()
        raise click.ClickException(
            "the definition has problems; nothing was imported:\n  - "
            + "\n  - ".join(error.problems)
        ) from error
    except NotPublishable as error:
        db.session.rollback()
        raise click.ClickException(
            "not published, because texts are missing (import without --open, or add them):"
            + "".join(f"\n  {lang}: {', '.join(keys)}" for lang, keys in error.missing.items())
        ) from error
    db.session.commit()
    click.echo(f"imported {questionnaire.slug} ({questionnaire.state.value})")


@surveys.command("share")
@click.argument("slug")
@click.argument("email")
@click.option("--owner", is_flag=True, help="Make this builder the owner instead.")
def surveys_share(slug: str, email: str, owner: bool) -> None:
    """Let a builder work on a questionnaire (builders see only their own and shared ones)."""
    questionnaire = get_by_slug(slug)
    user = find_user(email)
    if questionnaire is None or user is None:
        raise click.ClickException(f"no questionnaire {slug!r}" if questionnaire is None
                                   else f"no account {email!r}")
    if owner:
        questionnaire.owner_id = user.id
    else:
        share(questionnaire, user)
    record(None, "questionnaire.share", f"{slug}: {email}{' (owner)' if owner else ''}")
    db.session.commit()
    click.echo(f"{email} may now work on {slug}" + (" as its owner" if owner else ""))


@surveys.command("export")
@click.argument("slug")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-")
def surveys_export(slug: str, output) -> None:
    """Write a questionnaire's definition as JSON (to standard output by default)."""
    questionnaire = get_by_slug(slug)
    if questionnaire is None:
        raise click.ClickException(f"no questionnaire {slug!r}")
    json.dump(export_questionnaire(questionnaire), output, ensure_ascii=False, indent=2)
    output.write("\n")


def seed_demo_content() -> list[str]:
    """Add the demo units and questionnaires that are missing; return the slugs added."""
    federation = ensure_unit("bund", "Bundesverband", UnitKind.FEDERATION)
    for code, name, chapters in (
        ("nrw", "Nordrhein-Westfalen", (("koeln", "Köln"), ("dortmund", "Dortmund"))),
        ("sachsen", "Sachsen", (("leipzig", "Leipzig"), ("dresden", "Dresden"))),
        ("berlin", "Berlin", (("berlin-mitte", "Berlin-Mitte"),)),
    ):
        region = ensure_unit(code, name, UnitKind.REGION, federation)
        for chapter_code, chapter_name in chapters:
            ensure_unit(chapter_code, chapter_name, UnitKind.CHAPTER, region)
    added = []
    for path in sorted(DEMO_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if get_by_slug(data["slug"]) is None:
            import_questionnaire(data, open_now=True)
            added.append(data["slug"])
    return added


#: Demo units that receive demo responses, most responses first.
DEMO_RESPONSE_UNITS = ("koeln", "berlin-mitte", "leipzig", "dortmund", "dresden", "nrw",
                       "sachsen", "berlin")


def seed_demo_responses(count: int = 240, drafts: int = 30) -> list[str]:
    """Give every open demo questionnaire without responses some; return the slugs filled.

    So that a new installation shows results at once. Spread over the demo units; the same
    answers on every installation (the seed is the slug's).
    """
    unit_ids = dict(db.session.execute(
        sa.select(Unit.code, Unit.id).where(Unit.code.in_(DEMO_RESPONSE_UNITS))).all())
    units = [unit_ids[code] for code in DEMO_RESPONSE_UNITS if code in unit_ids] or None
    filled = []
    for path in sorted(DEMO_DIR.glob("*.json")):
        questionnaire = get_by_slug(json.loads(path.read_text(encoding="utf-8"))["slug"])
        if questionnaire is None or not questionnaire.is_open:
            continue
        if db.session.scalar(sa.select(Response.id).filter_by(questionnaire_id=questionnaire.id)
                             .limit(1)) is not None:
            continue
        generate_responses(questionnaire, count, drafts=drafts, units=units,
                           seed=demo_seed(questionnaire.slug))
        filled.append(questionnaire.slug)
    return filled


@click.command("seed-demo")
@with_appcontext
@click.option("--responses/--no-responses", default=True,
              help="Also add demo responses to demo questionnaires that have none.")
def seed_demo(responses: bool) -> None:
    """Load the demo units and the five demo questionnaires (skips what exists)."""
    added = seed_demo_content()
    filled = seed_demo_responses() if responses else []
    seed_demo_programme()
    db.session.commit()
    click.echo(f"demo questionnaires added: {', '.join(added) or 'none (already there)'}")
    if responses:
        click.echo(f"demo responses added to: {', '.join(filled) or 'none (all have some)'}")


@click.command("demo-responses")
@with_appcontext
@click.argument("slug")
@click.argument("count", type=click.IntRange(min=0))
@click.option("--seed", type=int, default=0, show_default=True,
              help="The same seed gives the same answers.")
@click.option("--drafts", type=click.IntRange(min=0), default=0, show_default=True,
              help="Unfinished responses to add as well.")
@click.option("--days", type=click.IntRange(min=1), default=90, show_default=True,
              help="Spread the submissions over this many days before now.")
def demo_responses(slug: str, count: int, seed: int, drafts: int, days: int) -> None:
    """Add COUNT generated, valid responses to a published questionnaire (for testing)."""
    questionnaire = get_by_slug(slug)
    if questionnaire is None:
        raise click.ClickException(f"no questionnaire {slug!r}")
    if questionnaire.published_version is None:
        raise click.ClickException(f"{slug} is not published")
    units = list(db.session.scalars(sa.select(Unit.id).order_by(Unit.id))) or None
    generate_responses(questionnaire, count, seed=seed, drafts=drafts, days=days, units=units)
    db.session.commit()
    click.echo(f"added {count} complete and {drafts} unfinished responses to {slug}")


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password", prompt=True, prompt_required=False, hide_input=True,
              confirmation_prompt=True, default=None,
              help="Asked for when given without a value; generated when left out.")
def create_user_command(email: str, role: str, password: str | None) -> None:
    """Add a staff account; a generated password is printed once."""
    try:
        _user, password_used = create_user(email, Role(role), password or None)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"created {email} ({role})")
    if not password:
        click.echo(f"password: {password_used}  (shown once; keep it safe)")


@click.command("setup")
@with_appcontext
@click.option("--demo/--no-demo", default=True, help="Load demo content into an empty database.")
def setup(demo: bool) -> None:
    """Bring the database to the newest schema; on first run add demo content and an admin."""
    from flask_migrate import upgrade

    upgrade()
    if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        click.echo("database is up to date")
        return
    if demo:
        seed_demo_content()
        seed_demo_responses()
        seed_demo_programme()
    _user, password = create_user(DEMO_ADMIN, Role.ADMIN)
    db.session.commit()
    click.echo(
        "\n  Staff login (shown once):\n"
        f"    e-mail:   {DEMO_ADMIN}\n"
        f"    password: {password}\n"
    )
    sys.stdout.flush()


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; change nothing.")
@with_appcontext
def purge_command(dry_run: bool) -> None:
    """Delete expired answers, old unfinished drafts and staff previews (safe to repeat)."""
    from surveyapp.responses.retention import purge

    report = purge()
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb}: {report.expired} expired responses, {report.drafts} old drafts, "
               f"{report.previews} previews, {report.contacts} expired contacts")


consent = AppGroup("consent", help="Consent records, for the controller's files.")


@consent.command("export")
@click.argument("slug")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8-sig"),
              default="-")
def consent_export(slug: str, output) -> None:
    """Write the consent records of a questionnaire as CSV (no answers)."""
    from surveyapp.transfer import write_consent_records_csv

    questionnaire = get_by_slug(slug)
    if questionnaire is None:
        raise click.ClickException(f"no questionnaire {slug!r}")
    write_consent_records_csv(questionnaire, output)


@click.command("report")
@click.argument("slug")
@click.option("--format", "output_format", type=click.Choice(["pdf"]), default="pdf",
              show_default=True)
@click.option("--lang", "report_lang", metavar="LANG",
              help="Language the report is written in (default: the questionnaire's base).")
@click.option("--output", "-o", type=click.File("wb"), default=None,
              help="File to write (default: SLUG-LANG.pdf; - for standard output).")
@click.option("--free-text", is_flag=True, help="Quote answers given in the respondents' words.")
@click.option("--crosstab", "crosstabs", multiple=True, metavar="ROW:COL",
              help="Add a cross-tabulation of two choice questions (repeatable).")
@filter_options
@with_appcontext
def report_command(slug: str, output_format: str, report_lang: str | None, output,
                   free_text: bool, crosstabs: tuple[str, ...], **filters) -> None:
    """Write the PDF summary of a questionnaire's results, filtered like the results page."""
    # Here, not at the top: typst and matplotlib would slow every other command's start.
    from surveyapp.analysis.catalogue import load_catalogue
    from surveyapp.analysis.report import crosstab_pairs, render_report, report_languages

    questionnaire = get_by_slug(slug)
    if questionnaire is None:
        raise click.ClickException(f"no questionnaire {slug!r}")
    lang = report_lang or questionnaire.base_language
    if lang not in report_languages(questionnaire):
        raise click.BadParameter(f"no report in {lang!r}; choose one of "
                                 f"{', '.join(report_languages(questionnaire))}",
                                 param_hint="--lang")
    catalogue = load_catalogue(questionnaire, lang)
    flt = filter_from_options(catalogue, **filters)
    pairs, errors = crosstab_pairs(crosstabs, catalogue)
    if errors:
        raise click.UsageError(" ".join(errors))
    pdf = render_report(questionnaire, flt, lang, crosstabs=pairs, free_text=free_text)
    if output is None:
        output = click.open_file(f"{slug}-{lang}.pdf", "wb")
    with output:
        output.write(pdf)
    if output.name != "<stdout>":
        click.echo(f"wrote {output.name} ({len(pdf) // 1024} KB)", err=True)


responses = AppGroup("responses", help="Raw data of the responses, for analysis elsewhere.")


@responses.command("export")
@click.argument("slug")
@click.option("--format", "output_format", type=click.Choice(["csv", "xlsx", "sav", "json"]),
              default="csv", show_default=True)
@click.option("--output", "-o", required=True,
              type=click.Path(dir_okay=False, writable=True, allow_dash=True),
              help="File to write; - for standard output (CSV and JSON).")
@click.option("--labels", is_flag=True, help="Answer texts in the cells instead of codes.")
@click.option("--no-free-text", is_flag=True,
              help="Leave out typed answers, 'Other' texts and e-mail addresses.")
@click.option("--lang", "label_lang", metavar="LANG",
              help="Language of labels and question texts (default: the questionnaire's base).")
@filter_options
def responses_export(slug: str, output_format: str, output: str, labels: bool,
                     no_free_text: bool, label_lang: str | None, **filters) -> None:
    """Write the complete responses of a questionnaire, filtered like the results page."""
    # Here, not at the top: pandas and openpyxl would slow every other command's start.
    from contextlib import nullcontext

    from surveyapp.analysis.exports import (
        EXPORT_FORMATS,
        ExportRefused,
        export_catalogue,
        prepare_export,
    )
    from surveyapp.audit.services import record

    questionnaire = get_by_slug(slug)
    if questionnaire is None:
        raise click.ClickException(f"no questionnaire {slug!r}")
    lang = label_lang or questionnaire.base_language
    if lang not in questionnaire.languages:
        raise click.BadParameter(f"{slug} is not offered in {lang!r}; choose one of "
                                 f"{', '.join(questionnaire.languages)}", param_hint="--lang")
    export_format = EXPORT_FORMATS[output_format]
    if output == "-" and export_format.chunks is None:
        raise click.BadParameter(f"{output_format} needs a file name", param_hint="--output")
    catalogue = export_catalogue(questionnaire, lang)
    flt = filter_from_options(catalogue, **filters)
    try:
        plan = prepare_export(catalogue, flt, labels=labels, free_text=not no_free_text)
    except ExportRefused as refused:
        raise click.ClickException(refused.message) from refused
    # Logged before the first byte is written, as the download page does.
    filter_text = " ".join(f"{key}={value}" for key, value in flt.to_args())
    record(None, "export_responses", f"{slug} {output_format} cli {filter_text}"[:120])
    db.session.commit()
    if export_format.chunks is None:
        export_format.to_file(plan, output)
    else:
        # newline="": the CSV writer ends its lines with CRLF itself.
        stream = (nullcontext(sys.stdout) if output == "-"
                  else open(output, "w", encoding="utf-8", newline=""))  # noqa: SIM115
        with stream as out:
            for chunk in export_format.chunks(plan):
                out.write(chunk)
    click.echo(f"wrote {plan.count} responses to {output}", err=True)


def register(app: Flask) -> None:
    """Attach the commands to ``app``."""
    app.cli.add_command(surveys)
    app.cli.add_command(seed_demo)
    app.cli.add_command(demo_responses)
    app.cli.add_command(create_user_command)
    app.cli.add_command(setup)
    app.cli.add_command(translate)
    app.cli.add_command(purge_command)
    app.cli.add_command(consent)
    app.cli.add_command(report_command)
    app.cli.add_command(responses)
