"""Filter options shared by the commands that read responses (report, export)."""

from __future__ import annotations

from collections.abc import Callable

import click
from werkzeug.datastructures import MultiDict

from surveyapp.analysis.catalogue import Catalogue
from surveyapp.analysis.filters import ANSWER_PREFIX, ResultFilter, parse_filter


def filter_options(command: Callable) -> Callable:
    """Add ``--unit --response-lang --channel --from --to --version --stage --answer``."""
    options = [
        click.option("--unit", help="Unit code; its sub-units are included."),
        # Not --lang: that names the language a report or export is written in.
        click.option("--response-lang", "languages", multiple=True,
                     help="Only responses given in this language (repeatable)."),
        click.option("--channel", type=click.Choice(["web", "phone"])),
        click.option("--from", "date_from", help="First day of submission, YYYY-MM-DD (UTC)."),
        click.option("--to", "date_to", help="Last day of submission, YYYY-MM-DD (UTC)."),
        click.option("--version", "version", help="Questionnaire version number."),
        click.option("--stage", "stage", help="Programme stage id (see the programme board)."),
        click.option("--answer", "answers", multiple=True, metavar="QUESTION=CODE",
                     help="Only responses that gave this answer (repeatable)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def filter_from_options(catalogue: Catalogue, unit=None, languages=(), channel=None,
                        date_from=None, date_to=None, version=None, stage=None,
                        answers=()) -> ResultFilter:
    """The filter the options describe; a ``click.UsageError`` naming what was not understood."""
    args: MultiDict[str, str] = MultiDict()
    for key, value in (("unit", unit), ("channel", channel), ("from", date_from),
                       ("to", date_to), ("version", version), ("stage", stage)):
        if value:
            args.add(key, value)
    for lang in languages:
        args.add("lang", lang)
    for pair in answers:
        code, _sep, value = pair.partition("=")
        if not value:
            raise click.UsageError(f"--answer needs QUESTION=CODE, got {pair!r}")
        args.add(ANSWER_PREFIX + code, value)
    flt, errors = parse_filter(args, catalogue)
    if errors:
        raise click.UsageError(" ".join(errors))
    return flt
