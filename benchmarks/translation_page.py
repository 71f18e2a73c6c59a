"""How long the side-by-side translation page takes for a questionnaire of 300 questions.

    python benchmarks/translation_page.py            # 300 questions, 5000 options, SQLite
    python benchmarks/translation_page.py --questions 561 --options 9000 --repeat 5

Builds a questionnaire in a throwaway SQLite file (German base, English and Arabic offered,
Arabic untranslated), logs in as an admin through the test client (in-process: no network,
no server), and times, each ``--repeat`` times: the first screen, the last screen, the
"only missing" filter, and saving a whole screen of translations. Prints a small table.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from surveyapp import create_app


def definition(questions: int, options: int) -> dict:
    """A questionnaire with ``questions`` single-choice questions sharing ``options`` options."""
    per_question = max(2, options // questions)
    pages = []
    for page_number in range(questions // 10):
        pages.append({"code": f"p{page_number}", "title": {"de": f"Seite {page_number}"},
                      "questions": [{
                          "code": f"q{page_number}_{i}", "type": "single_choice",
                          "text": {"de": f"Frage {page_number}.{i}: Wie oft im Monat?"},
                          "help": {"de": "Bitte wählen Sie eine Antwort."},
                          "options": [{"code": f"o{k}", "label": {"de": f"Antwort {k}"}}
                                      for k in range(per_question)],
                      } for i in range(10)]})
    return {"format": "surveyapp/1", "slug": "big", "base_language": "de",
            "languages": ["de", "en", "ar"], "anonymous": True,
            "title": {"de": "Große Bedarfserhebung"}, "intro": {"de": "Einleitung."},
            "thank_you": {"de": "Danke."},
            "consent": {"text": {"de": "Einwilligungstext."}}, "pages": pages}


def timed(call, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    """Build, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--options", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "DATABASE_URL": url,
                          "SECRET_KEY": "benchmark only", "WTF_CSRF_ENABLED": False})
        app.instance_path = folder
        with app.app_context():
            from flask_migrate import upgrade

            from surveyapp.accounts.models import Role
            from surveyapp.accounts.services import create_user
            from surveyapp.db import db
            from surveyapp.transfer import import_questionnaire

            upgrade()
            import_questionnaire(definition(args.questions, args.options))
            create_user("bench@example.org", Role.ADMIN, "benchmark only password")
            db.session.commit()
        client = app.test_client()
        client.post("/staff/login", data={"email": "bench@example.org",
                                          "password": "benchmark only password"})
        base = "/staff/questionnaires/big/translations/side-by-side?lang=ar"
        first = client.get(base).get_data(as_text=True)
        screens = int(re.search(r"Screen 1 of (\d+)", first).group(1))
        rows = []
        for name, path in (("first screen", base), ("last screen", f"{base}&screen={screens}"),
                           ("only missing", f"{base}&missing=1")):
            seconds, response = timed(lambda p=path: client.get(p), args.repeat)
            rows.append((name, seconds, len(response.data)))
        fields = dict(re.findall(r'name="(d:[^"]+)" value="([^"]+)"', first))
        data = {**fields, **{"t:" + key[2:]: f"ترجمة {key}" for key in fields}}
        seconds, response = timed(lambda: client.post(base, data=data), 1)
        assert response.status_code == 302, response.status_code
        rows.append((f"save a screen ({len(fields)} texts)", seconds, 0))
    print(f"{args.questions} questions, {args.options} options, {screens} screens; median of "
          f"{args.repeat}")
    print(f"{'measure':34} {'seconds':>8} {'bytes':>9}")
    for name, seconds, size in rows:
        print(f"{name:34} {seconds:8.3f} {size:9}")


if __name__ == "__main__":
    main()
