"""Benchmark the builder's edit page on a large questionnaire; see benchmarks/README.md.

    python benchmarks/builder.py                     # 300 questions, 5,000 options, SQLite
    python benchmarks/builder.py --responses 2000 --repeat 15

A fresh SQLite database holds a generated questionnaire (``--questions`` questions, of which
choice questions carry ``--options`` options in all, on 10 pages), published once and answered
``--responses`` times by ``surveyapp.demo.responses``; then "Make changes" opens version 2,
the draft a builder edits. Each page is requested ``--repeat`` times through the app (a logged-in
admin, the whole request: routing, login, queries, template, compression off) after one
warm-up, next to its baselines in the same run:

- (not baselines) the edit page with the question with the most options open for editing,
  and saving that question unchanged (the whole check: lock, revision, conditions, flush);
- ``tree query``: loading the draft's pages, questions and options (``load_version``), the
  floor of any page that shows the whole questionnaire;
- ``respondent page``: the preview of the draft's first page, as respondents see it;
- ``questionnaire list``: the staff list page.

Goal (issue 3): the edit page renders in under a second. Results: printed as a table and
written to benchmarks/results/builder-<UTC time>.md.
"""

from __future__ import annotations

import argparse
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_SECONDS = 1.0
TYPES_WITHOUT_OPTIONS = ("short_text", "integer", "date", "rating", "long_text")


def definition(questions: int, options: int) -> dict:
    """A one-language questionnaire: choice questions share ``options`` options, 10 pages."""
    plain = max(questions // 6, 1)
    choice = questions - plain
    per_question, extra = divmod(options, choice)
    pages = [{"code": f"page_{n + 1}", "title": {"de": f"Seite {n + 1}"}, "questions": []}
             for n in range(10)]
    for number in range(questions):
        if number < choice:
            count = per_question + (1 if number < extra else 0)
            question = {
                "code": f"q{number + 1}",
                "type": ("single_choice", "multiple_choice", "dropdown")[number % 3],
                "text": {"de": f"Frage {number + 1}: Wie wichtig ist Ihnen das Angebot?"},
                "help": {"de": "Bitte wählen Sie, was am ehesten zutrifft."},
                "options": [{"code": f"o{k + 1}", "label": {"de": f"Antwort {k + 1}"}}
                            for k in range(count)],
            }
        else:
            question = {"code": f"q{number + 1}",
                        "type": TYPES_WITHOUT_OPTIONS[number % len(TYPES_WITHOUT_OPTIONS)],
                        "text": {"de": f"Frage {number + 1}"}}
        pages[number * 10 // questions]["questions"].append(question)
    return {"format": "surveyapp/1", "slug": "builder-bench", "base_language": "de",
            "languages": ["de"], "title": {"de": "Große Bedarfserhebung"},
            "consent": {"text": {"de": "Einverstanden."}}, "pages": pages}


def timed(calls: list, repeat: int) -> list[list[float]]:
    """Seconds of ``repeat`` rounds of every call, after one warm-up round.

    Round by round rather than one measure after the other, so that a busy moment of the
    machine (it is shared) falls on every measure alike.
    """
    for call in calls:
        call()
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(repeat):
        for index, call in enumerate(calls):
            start = time.perf_counter()
            call()
            times[index].append(time.perf_counter() - start)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--options", type=int, default=5000)
    parser.add_argument("--responses", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)

    from flask_migrate import upgrade

    from surveyapp import create_app
    from surveyapp.accounts.models import Role
    from surveyapp.accounts.services import create_user
    from surveyapp.builder.services import make_changes
    from surveyapp.db import db
    from surveyapp.demo.responses import generate_responses
    from surveyapp.questionnaires.services import get_by_slug, load_version
    from surveyapp.transfer import import_questionnaire

    workdir = Path(tempfile.mkdtemp(prefix="surveyapp-bench-builder-"))
    url = f"sqlite:///{workdir / 'bench.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "DATABASE_URL": url,
                      "SECRET_KEY": "benchmark-only-secret", "COMPRESS_REGISTER": False})
    app.instance_path = str(workdir)
    built = time.perf_counter()
    with app.app_context():
        upgrade()
        questionnaire = import_questionnaire(definition(args.questions, args.options),
                                             open_now=True)
        generate_responses(questionnaire, args.responses, seed=1)
        user, _ = create_user("bench@example.org", Role.ADMIN, "a long enough password")
        make_changes(questionnaire, user.id)
        db.session.commit()
        version = get_by_slug("builder-bench").latest_version
        counts = (len(version.questions),
                  sum(len(q.options) for q in version.questions), version.number)
        draft_id = version.id
        biggest = max(version.questions, key=lambda q: len(q.choices)).id
    built = time.perf_counter() - built

    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    client.post("/staff/login", data={"csrf_token": token, "email": "bench@example.org",
                                      "password": "a long enough password"})
    from tests.conftest import hidden_values

    start_page = client.get("/s/builder-bench?preview=1").get_data(as_text=True)
    start = client.post("/s/builder-bench?preview=1",
                        data={**hidden_values(start_page), "consent": "y"})
    respondent_url = start.headers["Location"]

    def get(path):
        def call():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response
        return call

    def tree():
        with app.app_context():
            load_version(draft_id)
            db.session.remove()

    from tests.builder.conftest import page_forms

    html = client.get(f"/staff/build/builder-bench?open={biggest}").get_data(as_text=True)
    save_url, save_data = next((a, d) for a, d in page_forms(html)
                               if a.endswith(f"/questions/{biggest}"))

    def save():
        # The same content again: the revision token stays valid round after round.
        response = client.post(save_url, data=save_data)
        assert response.status_code == 302, response.status_code

    edit_bytes = len(client.get("/staff/build/builder-bench").get_data())
    measures = [
        ("edit page", get("/staff/build/builder-bench")),
        ("edit page, largest question open", get(f"/staff/build/builder-bench?open={biggest}")),
        ("saving that question (POST and redirect)", save),
        ("tree query (baseline)", tree),
        ("respondent page, preview (baseline)", get(respondent_url)),
        ("questionnaire list (baseline)", get("/staff/questionnaires/")),
    ]
    rows = [(name, statistics.median(times), min(times), max(times))
            for (name, _call), times in zip(measures, timed([c for _n, c in measures],
                                                            args.repeat), strict=True)]

    edit = rows[0][1]
    lines = [
        f"# Builder benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}, SQLite; {counts[0]} questions with {counts[1]} options "
        f"(draft version {counts[2]}), {args.responses} responses to version 1; built in "
        f"{built:.0f} s. Edit page: {edit_bytes / 1024:.0f} KB of HTML (uncompressed). "
        f"{args.repeat} rounds of every measure after one warm-up round.",
        "",
        "| measure | median s | min s | max s |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {median:.3f} | {low:.3f} | {high:.3f} |"
          for name, median, low, high in rows),
        "",
        f"Goal: edit page under {GOAL_SECONDS:.1f} s: "
        f"{'PASS' if edit < GOAL_SECONDS else 'FAIL'} ({edit:.3f} s).",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / f"builder-{datetime.now(UTC):%Y%m%d-%H%M%S}.md").write_text(report)
    return 0 if edit < GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
