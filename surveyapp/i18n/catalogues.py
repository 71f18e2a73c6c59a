"""``flask translate``: extract, update, compile and check the interface catalogues."""

from __future__ import annotations

import re
from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from flask.cli import AppGroup

from surveyapp import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
#: Lazy and plural gettext names used in the code, so that extraction finds every string.
KEYWORDS = ["_", "_l", "gettext", "lazy_gettext", "ngettext:1,2", "lazy_ngettext:1,2",
            "pgettext:1c,2", "lazy_pgettext:1c,2"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdfr]|\{(\w+)\}")

translate = AppGroup("translate", help="Manage the interface translation catalogues.")


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def catalogue_languages() -> list[str]:
    """Languages that have a catalogue in translations/."""
    return sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


@translate.command("extract")
def extract() -> None:
    """Collect translatable strings from code and templates into messages.pot."""
    keywords = [arg for k in KEYWORDS for arg in ("-k", k)]
    _pybabel("extract", "-F", str(TRANSLATIONS / "babel.cfg"), *keywords, "--no-location",
             "--sort-output", "--project", "surveyapp", "-o", str(POT),
             str(PROJECT_ROOT / "surveyapp"))
    click.echo(f"extracted to {POT.relative_to(PROJECT_ROOT)}")


@translate.command("update")
@click.option("--init", "new_language", help="Start a catalogue for a new language.")
def update(new_language: str | None) -> None:
    """Merge messages.pot into every catalogue (or start one with --init LANG)."""
    if new_language:
        _pybabel("init", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", new_language)
    else:
        _pybabel("update", "-i", str(POT), "-d", str(TRANSLATIONS), "--no-fuzzy-matching",
                 "--ignore-obsolete")


@translate.command("compile")
def compile_catalogues() -> None:
    """Build the .mo files the app reads (done by the install; never committed)."""
    if catalogue_languages():
        _pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")


def catalogue_problems(path: Path) -> list[str]:
    """Untranslated or fuzzy entries and placeholders that differ from the source."""
    with path.open("rb") as handle:
        catalog = read_po(handle)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        label = ids[0][:60]
        if message.fuzzy:
            problems.append(f"fuzzy: {label!r}")
        if not all(strings):
            problems.append(f"untranslated: {label!r}")
            continue
        wanted = {m for i in ids for m in PLACEHOLDER.findall(i)}
        for string in strings:
            if {m for m in PLACEHOLDER.findall(string)} - wanted:
                problems.append(f"placeholder mismatch: {label!r}")
        if len(ids) == 1 and {m for m in PLACEHOLDER.findall(ids[0])} != {
            m for s in strings for m in PLACEHOLDER.findall(s)
        }:
            problems.append(f"placeholder mismatch: {label!r}")
    return problems


@translate.command("check")
def check() -> None:
    """Fail when a shipped catalogue is incomplete, fuzzy, stale or has wrong placeholders."""
    extracted_now = TRANSLATIONS / ".check.pot"
    keywords = [arg for k in KEYWORDS for arg in ("-k", k)]
    _pybabel("extract", "-F", str(TRANSLATIONS / "babel.cfg"), *keywords, "--no-location",
             "--sort-output", "-o", str(extracted_now), str(PROJECT_ROOT / "surveyapp"))
    with extracted_now.open("rb") as handle:
        current_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    extracted_now.unlink()
    failed = False
    for lang in catalogue_languages():
        path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
        problems = catalogue_problems(path)
        with path.open("rb") as handle:
            known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
        problems += [f"missing from catalogue: {m[:60]!r}" for m in sorted(current_ids - known)]
        if problems:
            failed = True
            click.echo(f"{lang}: {len(problems)} problem(s)")
            for problem in problems[:40]:
                click.echo(f"  {problem}")
        else:
            click.echo(f"{lang}: complete")
    if failed:
        raise click.ClickException("catalogues need work: run `flask --app surveyapp translate "
                                   "extract`, then `update`, then translate")
