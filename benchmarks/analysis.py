"""Benchmark the results page, the CSV export and the PDF report; see benchmarks/README.md.

    python benchmarks/analysis.py                       # SQLite 10k + 100k, PostgreSQL 1M
    python benchmarks/analysis.py --sizes 10000 100000 --engines sqlite
    python benchmarks/analysis.py --measures results --repeat 5

For each (engine, size): a database holding benchmarks/questionnaire-30.json with ``size``
complete responses (and 5 % drafts) from ``surveyapp.demo.responses``, built once and cached
in benchmarks/.cache/ by engine, size, seed and the hashes of the definition and the generator.
Then every measure runs ``--repeat`` times, each in a fresh Python process (so that its peak
memory is its own), next to its baselines: the same data read by the bare database driver.
Results: benchmarks/results/analysis-<UTC time>.json and .md.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import pwd
import re
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BENCH_DIR, ROOT, SECRET_KEY, free_port

from tests.pg import ThrowawayPostgres, find_binaries

DEFINITION = BENCH_DIR / "questionnaire-30.json"
SLUG = json.loads(DEFINITION.read_text(encoding="utf-8"))["slug"]
GENERATOR = ROOT / "surveyapp" / "demo" / "responses.py"
RESULTS = BENCH_DIR / "results"
CACHE = BENCH_DIR / ".cache"
ADMIN_EMAIL = "bench-admin@example.org"
ADMIN_PASSWORD = "benchmark only password"
#: Submissions end here, so a cached database is the same whenever it was built.
DATA_END = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
#: Unfinished responses besides the complete ones (they count on the results page only).
DRAFT_SHARE = 0.05
#: Units the responses are spread over (as in the demo content).
UNITS = (("nrw", "Nordrhein-Westfalen", (("koeln", "Köln"), ("dortmund", "Dortmund"))),
         ("sachsen", "Sachsen", (("leipzig", "Leipzig"), ("dresden", "Dresden"))),
         ("berlin", "Berlin", (("berlin-mitte", "Berlin-Mitte"),)))
DEFAULT_SIZES = {"sqlite": [10_000, 100_000], "postgresql": [1_000_000]}

#: What each measure runs, its baselines after it.
MEASURES = {
    "results": ["results-page", "results-build", "results-sql", "results-sql-all"],
    "csv": ["csv", "csv-sql", "csv-pandas"],
    "pdf": ["pdf"],
}
LABELS = {
    "results-page": "results page (GET, test client, admin)",
    "results-build": "build_results() alone",
    "results-sql": "baseline: one GROUP BY, bare driver",
    "results-sql-all": "floor: the same GROUP BY over all answers, no join",
    "csv": "CSV export (write_csv)",
    "csv-sql": "baseline: long rows to CSV, bare driver",
    "csv-pandas": "baseline: pandas read_sql + pivot_table + to_csv",
    "pdf": "PDF report (render_report)",
}
#: pandas holds every answer row in memory; beyond this it only measures swapping.
PANDAS_MAX_RESPONSES = 100_000

#: Goals of the issue: (measure, responses) -> seconds.
TIME_GOALS = {("pdf", 10_000): 3.0, ("pdf", 100_000): 6.0, ("pdf", 1_000_000): 30.0,
              ("csv", 100_000): 5.0, ("results-page", 100_000): 1.0}
PDF_MEMORY_GOAL_MB = 500
#: "Flat" CSV memory: the peak may grow by at most this much from 10k to 100k responses.
CSV_FLAT_MB = 50
#: Comparison point from the issue: LimeSurvey's PDF statistics, 20 questions, 10k responses.
LIMESURVEY_PDF = {"questions": 20, "responses": 10_000, "seconds": 1.7}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time and peak memory of the results page, CSV export and PDF report on "
                    "10k to 1M responses, against bare-driver baselines.")
    parser.add_argument("--engines", nargs="+", choices=["sqlite", "postgresql"],
                        help="default: SQLite at 10k and 100k, PostgreSQL at 1M")
    parser.add_argument("--sizes", nargs="+", type=int,
                        help="complete responses per database (default per engine: sqlite "
                             "10000 100000, postgresql 1000000)")
    parser.add_argument("--measures", nargs="+", choices=list(MEASURES),
                        default=list(MEASURES), help="default: all three with their baselines")
    parser.add_argument("--repeat", type=int, default=3,
                        help="fresh processes per measure; the median is reported (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated responses")
    parser.add_argument("--rebuild", action="store_true",
                        help="regenerate the cached databases of this run")
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds one measuring process may take before the measure is "
                             "reported as not finished (default 600)")
    parser.add_argument("--output-dir", type=Path, default=RESULTS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return args
    if args.repeat < 1:
        parser.error("repeat must be at least 1")
    if args.sizes and any(s < 1 for s in args.sizes):
        parser.error("sizes must be positive")
    if args.engines is None and args.sizes is None:
        args.plan = [(e, s) for e, sizes in DEFAULT_SIZES.items() for s in sizes]
    else:
        engines = args.engines or list(DEFAULT_SIZES)
        args.plan = [(e, s) for e in engines for s in (args.sizes or DEFAULT_SIZES[e])]
    return args


# --- databases -------------------------------------------------------------------------------

def cache_key(size: int, seed: int) -> str:
    """Name of a cached data set: what it holds and what made it."""
    made_by = hashlib.sha256(DEFINITION.read_bytes() + GENERATOR.read_bytes()).hexdigest()[:10]
    return f"{size}_s{seed}_{made_by}"


def child_env(url: str) -> dict[str, str]:
    """The environment of every process that opens the benchmark database."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "FLASK_APP", "FLASK_DEBUG", "SURVEYAPP_ENV")}
    env.update(DATABASE_URL=url, SECRET_KEY=SECRET_KEY, PYTHONDONTWRITEBYTECODE="1")
    return env


def flask(url: str, *args: str, timeout: float = 600) -> None:
    """Run one of the app's own CLI commands on ``url``."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "surveyapp", *args],
                          cwd=ROOT, env=child_env(url), capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr[-3000:]}")


def fill_database(url: str, size: int, seed: int) -> float:
    """Migrate, import the questionnaire, add an admin, generate the responses; return seconds."""
    started = time.perf_counter()
    flask(url, "setup", "--no-demo")
    flask(url, "surveys", "import", str(DEFINITION), "--open")
    flask(url, "create-user", ADMIN_EMAIL, "--role", "admin", "--password", ADMIN_PASSWORD)
    run_child("generate", url, size, seed=seed, timeout=6 * 3600)
    return time.perf_counter() - started


class CachedPostgres(ThrowawayPostgres):
    """tests/pg.py's cluster, but kept in benchmarks/.cache/pg between runs (data survives)."""

    def __init__(self, binaries: Path, root: Path):
        self.binaries = binaries
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.user = None
        root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self.user = "postgres"
            pw = pwd.getpwnam(self.user)
            os.chmod(root, 0o755)
            os.chown(root, pw.pw_uid, pw.pw_gid)

    def start(self) -> None:
        """initdb on first use, then start on 127.0.0.1 with tests/pg.py's settings."""
        if not (self.data / "PG_VERSION").exists():
            shutil.rmtree(self.data, ignore_errors=True)
            self._run(str(self.binaries / "initdb"), "-D", str(self.data), "-U", "postgres",
                      "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=100")
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.root / "log"), "-w", "-t", "300", "start")

    def stop(self) -> None:
        """Stop the server; keep its files for the next run."""
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "fast",
                  "-w", "-t", "300", "stop")

    def admin_engine(self) -> sa.Engine:
        return sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")


def prepare_sqlite(size: int, seed: int, rebuild: bool) -> tuple[str, dict]:
    """The cached SQLite file for ``size`` responses, built first if missing."""
    path = CACHE / f"sqlite_{cache_key(size, seed)}.sqlite"
    info = {"path": str(path), "built_s": None}
    if rebuild:
        path.unlink(missing_ok=True)
    if not path.exists():
        building = path.with_suffix(".building")
        # Older builds of the same data set (another definition or generator) and leftovers.
        for stale in [*CACHE.glob(f"sqlite_{size}_s{seed}_*"), *CACHE.glob(building.name + "*")]:
            stale.unlink()
        url = f"sqlite:///{building}"
        print(f"  building {path.name} ({size:,} responses) ...", flush=True)
        info["built_s"] = round(fill_database(url, size, seed), 1)
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            # Fold the WAL into the file, so that the cache is one self-contained file.
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        building.rename(path)
        print(f"  built in {info['built_s']} s", flush=True)
    url = f"sqlite:///{path}"
    flask(url, "setup", "--no-demo")  # newer migrations since the file was built
    info["file_mb"] = round(path.stat().st_size / 2**20)
    return url, info


def prepare_postgres(cluster: CachedPostgres, size: int, seed: int,
                     rebuild: bool) -> tuple[str, dict]:
    """The cached PostgreSQL database for ``size`` responses, built first if missing."""
    name = f"bench_{cache_key(size, seed)}"
    info = {"database": name, "built_s": None}
    admin = cluster.admin_engine()
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                             {"n": name})
        if exists and rebuild:
            conn.exec_driver_sql(f'DROP DATABASE "{name}"')
            exists = False
        if not exists:
            # Older builds of the same data set (another definition or generator), leftovers.
            stale = conn.scalars(sa.text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                                 {"p": f"bench\\_{size}\\_s{seed}\\_%"}).all()
            for old_name in stale:
                conn.exec_driver_sql(f'DROP DATABASE "{old_name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}_building"')
    if not exists:
        print(f"  building {name} ({size:,} responses; minutes for a million) ...", flush=True)
        url = cluster.url(f"{name}_building")
        info["built_s"] = round(fill_database(url, size, seed), 1)
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            # The state autovacuum would reach after a while: statistics and visibility map.
            conn.exec_driver_sql("VACUUM ANALYZE")
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}_building" RENAME TO "{name}"')
        print(f"  built in {info['built_s']} s", flush=True)
    admin.dispose()
    url = cluster.url(name)
    flask(url, "setup", "--no-demo")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        info["database_mb"] = round(conn.scalar(sa.text(
            "SELECT pg_database_size(current_database())")) / 2**20)
    engine.dispose()
    return url, info


def count_rows(url: str) -> dict:
    """What the database holds, to print next to the figures."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        by_status = dict(conn.execute(sa.text(
            "SELECT status, COUNT(*) FROM responses GROUP BY status")).all())
        answers = conn.scalar(sa.text("SELECT COUNT(*) FROM answers"))
    engine.dispose()
    complete = by_status.get("COMPLETE", 0)
    return {"complete": complete, "drafts": by_status.get("DRAFT", 0), "answer_rows": answers,
            "answer_rows_per_response": round(answers / max(1, sum(by_status.values())), 1)}


# --- measuring processes ---------------------------------------------------------------------

def run_child(measure: str, url: str, size: int, *, seed: int = 0,
              timeout: float = 1800) -> dict:
    """Run one measure in a fresh interpreter; its last output line is a JSON object."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", measure, "--url", url,
         "--size", str(size), "--seed", str(seed)],
        cwd=ROOT, env=child_env(url), capture_output=True, text=True, timeout=timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{measure} failed (exit {done.returncode}):\n"
                           f"{done.stdout[-2000:]}{done.stderr[-4000:]}")
    return json.loads(lines[-1])


def _status_mb(field: str) -> float:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1)) / 1024


def _reset_peak() -> None:
    # Linux: writing 5 resets the process's peak RSS (VmHWM) to its current RSS.
    Path("/proc/self/clear_refs").write_text("5")


class Probe:
    """Times a cold and a warm call of the measured operation and the peak RSS over both."""

    def __init__(self):
        self.out: dict = {}

    def __enter__(self) -> Probe:
        _reset_peak()
        self.out["rss_before_mb"] = round(_status_mb("VmRSS"), 1)
        return self

    def time(self, name: str, operation, keep_cache: bool = False) -> object:
        if not keep_cache:
            # Warm means imports and connections, not the app's cache of computed results:
            # that one answers a repeated request at once and would hide the work measured.
            from surveyapp.analysis.summaries import clear_results_cache

            clear_results_cache()
        started = time.perf_counter()
        result = operation()
        self.out[name] = round(time.perf_counter() - started, 4)
        return result

    def __exit__(self, *exc) -> None:
        self.out["peak_rss_mb"] = round(_status_mb("VmHWM"), 1)


def _app():
    from surveyapp import create_app

    return create_app({"DATABASE_URL": os.environ["DATABASE_URL"], "SECRET_KEY": SECRET_KEY})


def child_generate(args) -> dict:
    """Fill the database: units, then the responses, committed once."""
    from surveyapp.accounts.models import UnitKind
    from surveyapp.accounts.services import ensure_unit
    from surveyapp.db import db
    from surveyapp.demo.responses import generate_responses
    from surveyapp.questionnaires.services import get_by_slug

    app = _app()
    with app.app_context():
        federation = ensure_unit("bund", "Bundesverband", UnitKind.FEDERATION)
        units = []
        for code, name, chapters in UNITS:
            region = ensure_unit(code, name, UnitKind.REGION, federation)
            units += [ensure_unit(c, n, UnitKind.CHAPTER, region).id for c, n in chapters]
            units.append(region.id)
        started = time.perf_counter()
        generate_responses(get_by_slug(SLUG), args.size, seed=args.seed,
                           drafts=int(args.size * DRAFT_SHARE), start=DATA_END, units=units,
                           days=180, batch=10_000)
        db.session.commit()
        return {"seconds": round(time.perf_counter() - started, 1)}


def child_results_page(args) -> dict:
    """GET the results page as a logged-in admin, through the Flask test client."""
    app = _app()
    if "analysis.results" not in app.view_functions:
        return child_results_build(args, note="no analysis.results route yet")
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    login = client.post("/staff/login", data={"csrf_token": token, "email": ADMIN_EMAIL,
                                              "password": ADMIN_PASSWORD})
    if login.status_code != 302:
        raise RuntimeError(f"login failed: {login.status_code}")
    url = f"/staff/results/{SLUG}"
    headers = {"Accept-Language": "de"}

    def get():
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")
        return len(response.get_data())

    with Probe() as probe:
        probe.time("cold_s", get)
        size = probe.time("warm_s", get)
        probe.time("cached_s", get, keep_cache=True)  # the same page again, data unchanged
    return {**probe.out, "bytes": size}


def child_results_build(args, note: str | None = None) -> dict:
    """``build_results`` on every complete response, without rendering."""
    from surveyapp.analysis.catalogue import load_catalogue
    from surveyapp.analysis.filters import ResultFilter
    from surveyapp.analysis.summaries import build_results
    from surveyapp.questionnaires.services import get_by_slug

    app = _app()
    with app.test_request_context(headers={"Accept-Language": "de"}):
        questionnaire = get_by_slug(SLUG)

        def build():
            return build_results(load_catalogue(questionnaire, "de"), ResultFilter())

        with Probe() as probe:
            probe.time("cold_s", build)
            results = probe.time("warm_s", build)
    out = {**probe.out, "complete": results.overview.complete}
    return {**out, "note": note} if note else out


def _driver(url: str):
    """A DB-API connection of the bare driver, and its parameter marker."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        import sqlite3

        return sqlite3.connect(parsed.database), "?"
    import psycopg

    return psycopg.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                           dbname=parsed.database), "%s"


def _questionnaire_id(conn, marker: str) -> int:
    cursor = conn.cursor()
    cursor.execute(f"SELECT id FROM questionnaires WHERE slug = {marker}", (SLUG,))
    return cursor.fetchone()[0]


COMPLETE_ANSWERS = ("FROM answers a JOIN responses r ON r.id = a.response_id "
                    "WHERE r.questionnaire_id = {m} AND r.status = 'COMPLETE' "
                    "AND NOT r.is_preview")


def child_results_sql(args) -> dict:
    """Baseline: the one aggregate the results need most, straight through the driver."""
    conn, marker = _driver(args.url)
    qid = _questionnaire_id(conn, marker)
    sql = ("SELECT a.question_id, a.option_code, COUNT(*) "
           + COMPLETE_ANSWERS.format(m=marker) + " GROUP BY a.question_id, a.option_code")
    return _time_driver_query(conn, sql, qid)


def _time_driver_query(conn, sql: str, qid: int) -> dict:
    """Cold and warm time of one aggregate through the bare driver; the number of groups."""

    def run():
        cursor = conn.cursor()
        cursor.execute(sql, (qid,))
        return len(cursor.fetchall())

    with Probe() as probe:
        probe.time("cold_s", run)
        groups = probe.time("warm_s", run)
    conn.close()
    return {**probe.out, "groups": groups}


def child_results_sql_all(args) -> dict:
    """Floor: the same aggregate over every answer to the questionnaire, with no join at all."""
    conn, marker = _driver(args.url)
    qid = _questionnaire_id(conn, marker)
    sql = ("SELECT question_id, option_code, COUNT(*) FROM answers WHERE question_id IN "
           f"(SELECT q.id FROM questions q JOIN questionnaire_versions v ON v.id = q.version_id "
           f"WHERE v.questionnaire_id = {marker}) GROUP BY question_id, option_code")
    return _time_driver_query(conn, sql, qid)


def _export_file() -> Path:
    path = CACHE / "tmp" / f"export-{os.getpid()}"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def child_csv(args) -> dict:
    """The CSV export of every complete response, written to a file."""
    try:
        from surveyapp.analysis import exports
    except ImportError as error:
        return {"skipped": f"surveyapp.analysis.exports cannot be imported yet ({error})"}
    if not hasattr(exports, "write_csv"):
        return {"skipped": "surveyapp.analysis.exports has no write_csv yet"}
    from surveyapp.analysis.filters import ResultFilter
    from surveyapp.questionnaires.services import get_by_slug

    app = _app()
    path = _export_file()
    with app.test_request_context(headers={"Accept-Language": "de"}):
        questionnaire = get_by_slug(SLUG)
        catalogue_of = getattr(exports, "export_catalogue", None)
        if catalogue_of is None:
            from surveyapp.analysis.catalogue import load_catalogue as catalogue_of

        def export():
            with path.open("wb") as out:
                return exports.write_csv(catalogue_of(questionnaire, "de"), ResultFilter(), out)

        with Probe() as probe:
            probe.time("cold_s", export)
            rows = probe.time("warm_s", export)
    size = path.stat().st_size
    path.unlink()
    return {**probe.out, "rows": rows, "bytes": size}


def child_csv_sql(args) -> dict:
    """Baseline: the long-format answer rows as CSV, no pivot (PostgreSQL: COPY TO STDOUT)."""
    conn, marker = _driver(args.url)
    qid = _questionnaire_id(conn, marker)
    select = ("SELECT a.response_id, a.question_id, a.row_code, a.option_code, a.value_text, "
              "a.value_number, a.value_date " + COMPLETE_ANSWERS.format(m=marker)
              + " ORDER BY a.response_id, a.id")
    path = _export_file()
    postgres = marker == "%s"

    def dump():
        cursor = conn.cursor()
        if postgres:
            with path.open("wb") as out, cursor.copy(
                    f"COPY ({select.replace('%s', str(int(qid)))}) "
                    "TO STDOUT (FORMAT csv, HEADER)") as copy:
                for block in copy:
                    out.write(block)
            return
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            cursor.execute(select, (qid,))
            writer.writerow([d[0] for d in cursor.description])
            while rows := cursor.fetchmany(10_000):
                writer.writerows(rows)

    with Probe() as probe:
        probe.time("cold_s", dump)
        probe.time("warm_s", dump)
    conn.close()
    size = path.stat().st_size
    path.unlink()
    return {**probe.out, "bytes": size}


def child_csv_pandas(args) -> dict:
    """Baseline: what an analyst would write with pandas: read, pivot wide, write."""
    if args.size > PANDAS_MAX_RESPONSES:
        return {"skipped": f"pandas holds every answer row in memory; not run above "
                           f"{PANDAS_MAX_RESPONSES:,} responses"}
    import pandas as pd

    conn, marker = _driver(args.url)
    qid = _questionnaire_id(conn, marker)
    sql = ("SELECT a.response_id, q.code, q.type, a.row_code, a.option_code, a.value_text, "
           "a.value_number, a.value_date "
           + COMPLETE_ANSWERS.format(m=marker).replace(
               "WHERE", "JOIN questions q ON q.id = a.question_id WHERE"))
    path = _export_file()

    def export():
        with warnings.catch_warnings():
            # pandas prefers SQLAlchemy for psycopg; the bare driver is the point here.
            warnings.simplefilter("ignore", UserWarning)
            long = pd.read_sql_query(sql, conn, params=(qid,))
        multiple = long["type"] == "multiple_choice"
        long["column"] = (long["code"] + ("_" + long["row_code"]).fillna("")
                          + ("_" + long["option_code"]).where(multiple, ""))
        value = long["option_code"].fillna(long["value_text"]).fillna(
            long["value_number"].astype("string")).fillna(long["value_date"].astype("string"))
        long["value"] = value.where(~multiple, "1")
        wide = long.pivot_table(index="response_id", columns="column", values="value",
                                aggfunc="first")
        wide.to_csv(path)
        return len(wide)

    with Probe() as probe:
        probe.time("cold_s", export)
        rows = probe.time("warm_s", export)
    size = path.stat().st_size
    path.unlink()
    return {**probe.out, "rows": rows, "bytes": size}


def child_pdf(args) -> dict:
    """The PDF report of every complete response, in German."""
    try:
        from surveyapp.analysis.report import render_report
    except ImportError as error:
        return {"skipped": f"surveyapp.analysis.report.render_report not available yet ({error})"}
    from surveyapp.analysis.filters import ResultFilter
    from surveyapp.questionnaires.services import get_by_slug

    app = _app()
    with app.test_request_context(headers={"Accept-Language": "de"}):
        questionnaire = get_by_slug(SLUG)

        def render():
            pdf = render_report(questionnaire, ResultFilter(), "de")
            if not pdf.startswith(b"%PDF"):
                raise RuntimeError("render_report did not return a PDF")
            return len(pdf)

        with Probe() as probe:
            probe.time("cold_s", render)
            size = probe.time("warm_s", render)
    return {**probe.out, "bytes": size}


CHILDREN = {"generate": child_generate, "results-page": child_results_page,
            "results-build": child_results_build, "results-sql": child_results_sql,
            "results-sql-all": child_results_sql_all,
            "csv": child_csv, "csv-sql": child_csv_sql, "csv-pandas": child_csv_pandas,
            "pdf": child_pdf}


# --- orchestration and report ----------------------------------------------------------------

def cancel_queries(url: str) -> None:
    """Stop what a killed measuring process left running in PostgreSQL (it would go on)."""
    if sa.make_url(url).get_backend_name() != "postgresql":
        return
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    engine.dispose()


def measure(name: str, url: str, size: int, args) -> dict:
    """``--repeat`` fresh processes of one measure; medians of their figures."""
    runs = []
    for _ in range(args.repeat):
        try:
            result = run_child(name, url, size, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            cancel_queries(url)
            print(f"    {name:14} did not finish within {args.timeout:g} s", flush=True)
            return {"measure": name, "timed_out_s": args.timeout}
        if "skipped" in result:
            print(f"    {name:14} skipped: {result['skipped']}", flush=True)
            return {"measure": name, "skipped": result["skipped"]}
        runs.append(result)
    summary = {"measure": name, "runs": runs}
    for key in ("warm_s", "cold_s", "peak_rss_mb", "rss_before_mb"):
        summary[key] = round(statistics.median(r[key] for r in runs), 3)
    summary["peak_growth_mb"] = round(summary["peak_rss_mb"] - summary["rss_before_mb"], 1)
    for key in ("bytes", "rows", "groups", "note"):
        if key in runs[0]:
            summary[key] = runs[0][key]
    if "cached_s" in runs[0]:
        summary["cached_s"] = round(statistics.median(r["cached_s"] for r in runs), 3)
    print(f"    {name:14} warm {summary['warm_s']:8.3f} s  cold {summary['cold_s']:8.3f} s  "
          f"peak {summary['peak_rss_mb']:7.1f} MB (+{summary['peak_growth_mb']} MB)"
          + (f"  again, data unchanged {summary['cached_s']:.3f} s" if "cached_s" in summary
             else "")
          + (f"  [{summary['note']}]" if "note" in summary else ""), flush=True)
    return summary


def judge(report: dict) -> list[dict]:
    """Every goal of the issue that this run's figures can answer, with PASS or FAIL."""
    verdicts = []
    for r in report["datasets"]:
        for m in r["measures"]:
            goal = TIME_GOALS.get((m["measure"], r["size"]))
            if "timed_out_s" in m and goal is not None:
                verdicts.append({"goal": f"{LABELS[m['measure']]}, {r['size']:,} responses "
                                         f"< {goal:g} s", "engine": r["engine"],
                                 "value": f"> {m['timed_out_s']:g} s (did not finish)",
                                 "ok": False})
    found = {(r["engine"], r["size"], m["measure"]): m
             for r in report["datasets"] for m in r["measures"]
             if "skipped" not in m and "timed_out_s" not in m}
    for (engine, size, name), m in sorted(found.items(), key=lambda i: (i[0][1], i[0][2])):
        goal = TIME_GOALS.get((name, size))
        if goal is not None:
            verdicts.append({"goal": f"{LABELS[name]}, {size:,} responses < {goal:g} s",
                             "engine": engine, "value": f"{m['warm_s']:.2f} s",
                             "ok": m["warm_s"] < goal})
        if name == "pdf":
            verdicts.append({"goal": f"PDF peak memory < {PDF_MEMORY_GOAL_MB} MB "
                                     f"({size:,} responses)",
                             "engine": engine, "value": f"{m['peak_rss_mb']:.0f} MB",
                             "ok": m["peak_rss_mb"] < PDF_MEMORY_GOAL_MB})
    for engine in {e for e, _s, _n in found}:
        small, large = found.get((engine, 10_000, "csv")), found.get((engine, 100_000, "csv"))
        if small and large:
            growth = large["peak_rss_mb"] - small["peak_rss_mb"]
            verdicts.append({"goal": f"CSV memory flat from 10k to 100k (peak grows < "
                                     f"{CSV_FLAT_MB} MB)", "engine": engine,
                             "value": f"{small['peak_rss_mb']:.0f} → "
                                      f"{large['peak_rss_mb']:.0f} MB",
                             "ok": growth < CSV_FLAT_MB})
    return verdicts


def _fmt(value, digits=3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(report: dict) -> str:
    """The report as tables."""
    lines = [f"# Analysis benchmark {report['started']}", "",
             f"Machine: {report['machine']['cpus']} CPUs, {report['machine']['platform']}, "
             f"Python {report['machine']['python']}. Questionnaire: `{DEFINITION.name}` "
             f"(30 questions, 3 languages). Each figure is the median of {report['repeat']} "
             "fresh processes; *warm* is the second call in a process (a running server), "
             "*cold* the first (imports done, caches empty); peak = the process's highest "
             "RSS during both calls (growth = above its RSS before them).", "",
             f"Code: commit {report['code']['commit']}"
             + (", with uncommitted changes in " + ", ".join(
                 f"`{p}`" for p in report["code"]["uncommitted"])
                if report["code"]["uncommitted"] else "") + ".", ""]
    for r in report["datasets"]:
        lines += [f"## {r['engine']}, {r['size']:,} responses", "",
                  f"{r['rows']['complete']:,} complete + {r['rows']['drafts']:,} drafts, "
                  f"{r['rows']['answer_rows']:,} answer rows "
                  f"({r['rows']['answer_rows_per_response']} per response); "
                  + (f"{r['info'].get('file_mb') or r['info'].get('database_mb')} MB on disk"),
                  "", "| measure | warm s | cold s | peak MB | growth MB | x baseline |",
                  "|---|--:|--:|--:|--:|--:|"]
        by_name = {m["measure"]: m for m in r["measures"]}
        for m in r["measures"]:
            if "skipped" in m:
                lines.append(f"| {LABELS[m['measure']]} | skipped: {m['skipped']} | | | | |")
                continue
            if "timed_out_s" in m:
                lines.append(f"| {LABELS[m['measure']]} | did not finish within "
                             f"{m['timed_out_s']:g} s | | | | |")
                continue
            baseline = {"results-page": "results-sql", "results-build": "results-sql",
                        "csv": "csv-sql"}.get(m["measure"])
            base = by_name.get(baseline)
            times = (f"{m['warm_s'] / base['warm_s']:.1f}" if base and base.get("warm_s")
                     else "")
            note = f" ({m['note']})" if m.get("note") else ""
            lines.append(f"| {LABELS[m['measure']]}{note} | {_fmt(m['warm_s'])} | "
                         f"{_fmt(m['cold_s'])} | {m['peak_rss_mb']:.0f} | "
                         f"{m['peak_growth_mb']:.0f} | {times} |")
        if any(m["measure"] == "pdf" for m in r["measures"]):
            lines.append(f"| reference: LimeSurvey PDF statistics, "
                         f"{LIMESURVEY_PDF['questions']} questions, "
                         f"{LIMESURVEY_PDF['responses']:,} responses (from the issue) | "
                         f"{LIMESURVEY_PDF['seconds']} | | | | |")
        lines.append("")
    columns = [(r["engine"], r["size"]) for r in report["datasets"]]
    if len(columns) > 1:
        lines += ["## Growth with the number of responses (warm seconds)", "",
                  "| measure | " + " | ".join(f"{s:,} ({e})" for e, s in columns) + " |",
                  "|---|" + "--:|" * len(columns)]
        names = list(dict.fromkeys(m["measure"] for r in report["datasets"]
                                   for m in r["measures"]))
        for name in names:
            cells, previous = [], None
            for r in report["datasets"]:
                m = next((m for m in r["measures"] if m["measure"] == name), {})
                seconds = m.get("warm_s")
                if seconds is None:
                    cells.append("not finished" if "timed_out_s" in m else "-")
                    previous = None
                    continue
                factor = (f" (x{seconds / previous[1]:.1f} for x{r['size'] / previous[0]:.0f})"
                          if previous and previous[1] else "")
                cells.append(f"{seconds:.3f}{factor}")
                previous = (r["size"], seconds)
            lines.append(f"| {LABELS[name]} | " + " | ".join(cells) + " |")
        lines.append("")
    if report["verdicts"]:
        lines += ["## Goals of the issue", "", "| goal | engine | measured | |",
                  "|---|---|--:|---|"]
        lines += [f"| {v['goal']} | {v['engine']} | {v['value']} | "
                  f"{'PASS' if v['ok'] else '**FAIL**'} |" for v in report["verdicts"]]
        lines.append("")
    if report["skipped"]:
        lines += ["Not run: " + "; ".join(report["skipped"]), ""]
    return "\n".join(lines)


def run_dataset(engine: str, size: int, url: str, info: dict, args, report: dict) -> None:
    rows = count_rows(url)
    print(f"[{engine} {size:,}] {rows['complete']:,} complete, {rows['answer_rows']:,} answer "
          "rows", flush=True)
    dataset = {"engine": engine, "size": size, "info": info, "rows": rows, "measures": []}
    report["datasets"].append(dataset)
    for group in args.measures:
        for name in MEASURES[group]:
            try:
                dataset["measures"].append(measure(name, url, size, args))
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                print(f"    {name} failed: {error}", file=sys.stderr, flush=True)
                dataset["measures"].append({"measure": name,
                                            "skipped": f"failed: {str(error)[:300]}"})


def code_state() -> dict:
    """Which code was measured: the commit, and the app files changed since (work in progress)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    changed = [line[3:] for line in git("status", "--porcelain", "--", "surveyapp").splitlines()]
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted": changed}


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child](args)))
        return 0
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    report = {"started": started.isoformat(timespec="seconds"),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version()},
              "repeat": args.repeat, "seed": args.seed, "plan": args.plan,
              "goals": {"seconds": {f"{m} {s}": g for (m, s), g in TIME_GOALS.items()},
                        "pdf_peak_mb": PDF_MEMORY_GOAL_MB, "csv_flat_mb": CSV_FLAT_MB},
              "limesurvey_pdf": LIMESURVEY_PDF, "code": code_state(), "datasets": [],
              "skipped": []}
    failed = False
    cluster = None
    try:
        for engine, size in args.plan:
            if engine == "postgresql":
                if find_binaries() is None:
                    report["skipped"].append(f"postgresql {size:,}: server binaries not found")
                    continue
                if cluster is None:
                    cluster = CachedPostgres(find_binaries(), CACHE / "pg")
                    cluster.start()
                url, info = prepare_postgres(cluster, size, args.seed, args.rebuild)
            else:
                url, info = prepare_sqlite(size, args.seed, args.rebuild)
            run_dataset(engine, size, url, info, args, report)
    except KeyboardInterrupt:
        failed = True
        print("interrupted; writing what was measured", file=sys.stderr)
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        failed = True
        print(f"aborted: {error}", file=sys.stderr)
        report["skipped"].append(f"aborted: {str(error)[:300]}")
    finally:
        if cluster is not None:
            cluster.stop()
    report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["verdicts"] = judge(report)
    text = markdown(report)
    for name in (f"analysis-{stamp}", "analysis-latest"):
        (args.output_dir / f"{name}.json").write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (args.output_dir / f"{name}.md").write_text(text + "\n", encoding="utf-8")
    print()
    print(text)
    print(f"Written: {args.output_dir / f'analysis-{stamp}.md'} and .json")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
