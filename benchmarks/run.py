"""Benchmark surveyapp's respondent side against bare Flask baselines; see benchmarks/README.md.

    python benchmarks/run.py                       # everything, modest defaults (make bench)
    python benchmarks/run.py --engines sqlite --concurrency 8 --duration 5
    python benchmarks/run.py --targets app bare-flow --worker-class sync gthread

For each database engine: a fresh database, migrated with the app's CLI and holding
benchmarks/questionnaire-20.json; then, for each gunicorn worker class, three targets in turn
under each concurrency level: surveyapp (``app``); ``bare-flow`` (benchmarks/bare_flow.py), the
same HTTP conversation answered by bare Flask with the same rows written at the same moments —
the headline baseline; and ``bare-submit`` (benchmarks/bare_app.py), one POST per complete
response, kept for reference. After every run the database is counted to find lost or doubled
responses. Results: benchmarks/results/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from client import FormCache, Stats, bare_poster, probe, respondent, run_load
from harness import BENCH_DIR, Database, Server, tree_cpu_seconds

#: Targets in the order they run; "bare" is the old name of "bare-submit".
TARGETS = ("app", "bare-flow", "bare-submit")
TARGET_ALIASES = {"bare": "bare-submit"}
TARGET_LABELS = {"app": "surveyapp", "bare-flow": "bare-flow", "bare-submit": "bare-submit"}

DEFINITION = BENCH_DIR / "questionnaire-20.json"
RESULTS = BENCH_DIR / "results"
SLUG = json.loads(DEFINITION.read_text(encoding="utf-8"))["slug"]
#: Goals of the issue.
GOAL_RATIO = 0.5
GOAL_BYTES = 30 * 1024
GOAL_REQUESTS = 3
#: Comparison point from the issue (LimeSurvey 6.14, same kind of machine, 20 questions).
LIMESURVEY = {"first_load_bytes": 2.84e6, "first_load_requests": 28, "responses_per_s": 5}
LOG_MARKERS = ("Traceback", "database is locked", "WORKER TIMEOUT", "[ERROR]", "Exception",
               "OperationalError", "IntegrityError", "deadlock")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Complete responses per second of surveyapp vs a bare Flask endpoint, "
                    "integrity of the stored responses, and first-load page weight.")
    parser.add_argument("--engines", nargs="+", choices=["sqlite", "postgresql"],
                        default=["sqlite", "postgresql"])
    parser.add_argument("--concurrency", nargs="+", type=int, default=[8, 32],
                        help="simulated respondents at once (default: 8 32)")
    parser.add_argument("--duration", type=float, default=20,
                        help="seconds per run at most (default: 20)")
    parser.add_argument("--max-respondents", type=int, default=3000,
                        help="complete responses per run at most (default: 3000)")
    parser.add_argument("--targets", nargs="+", choices=[*TARGETS, *TARGET_ALIASES],
                        default=list(TARGETS),
                        help="app = surveyapp; bare-flow = the same requests on bare Flask "
                             "(headline baseline); bare-submit = one POST per response "
                             "(reference; 'bare' is an old name for it). Default: all three")
    parser.add_argument("--bare-flow-plain", action="store_true",
                        help="bare-flow sends its pages uncompressed (default: compressed as "
                             "surveyapp's Flask-Compress does, so the bytes on the wire match)")
    parser.add_argument("--worker-class", nargs="+", choices=["sync", "gthread"],
                        default=["sync"], dest="worker_classes",
                        help="gunicorn worker classes to run (default: sync)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default: 2)")
    parser.add_argument("--threads", type=int, default=4,
                        help="threads per gthread worker (default: 4)")
    parser.add_argument("--warmup", type=int, default=5,
                        help="unmeasured respondents before each server's runs (default: 5)")
    parser.add_argument("--pause", type=float, default=2,
                        help="seconds of rest between runs (default: 2)")
    parser.add_argument("--full-parse", action="store_true",
                        help="parse every page with the full form parser (costs client CPU)")
    parser.add_argument("--pg-durable", action="store_true",
                        help="PostgreSQL with fsync and synchronous_commit on (default: the "
                             "test cluster's fsync=off, synchronous_commit=off)")
    parser.add_argument("--output-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if any(c < 1 or c > 256 for c in args.concurrency):
        parser.error("concurrency must be between 1 and 256")
    if not 0 < args.duration <= 600:
        parser.error("duration must be between 0 and 600 seconds")
    if args.max_respondents < 1:
        parser.error("max-respondents must be at least 1")
    chosen = {TARGET_ALIASES.get(t, t) for t in args.targets}
    args.targets = [t for t in TARGETS if t in chosen]
    return args


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def _per(total: float | None, count: int, digits: int = 2) -> float | None:
    """``total / count`` rounded, or None when either is missing."""
    if total is None or not count:
        return None
    return round(total / count, digits) if digits else round(total / count)


def _is_complete(column):
    return sa.func.lower(column) == "complete"


def db_snapshot(database: Database) -> int:
    """Highest response id so far: everything above it was written by the next run."""
    with database.engine.connect() as conn:
        return conn.scalar(sa.text("SELECT COALESCE(MAX(id), 0) FROM responses"))


def db_check(database: Database, after_id: int, tokens: list[str], expected_answers: int) -> dict:
    """Count what a run stored and compare it with what the clients saw."""
    meta = sa.MetaData()
    responses = sa.Table("responses", meta, autoload_with=database.engine)
    answers = sa.Table("answers", meta, autoload_with=database.engine)
    consents = sa.Table("consent_records", meta, autoload_with=database.engine)
    new = responses.c.id > after_id
    with database.engine.connect() as conn:
        by_status = {str(s).lower(): n for s, n in conn.execute(
            sa.select(responses.c.status, sa.func.count()).where(new)
            .group_by(responses.c.status))}
        per_response = Counter(n for (n,) in conn.execute(
            sa.select(sa.func.count(answers.c.id))
            .select_from(responses.outerjoin(answers, answers.c.response_id == responses.c.id))
            .where(new, _is_complete(responses.c.status))
            .group_by(responses.c.id)))
        consent_rows = conn.scalar(
            sa.select(sa.func.count()).select_from(consents)
            .where(consents.c.response_id > after_id))
        found = 0
        digests = [hashlib.sha256(t.encode()).hexdigest() for t in tokens]
        for start in range(0, len(digests), 500):
            found += conn.scalar(
                sa.select(sa.func.count()).select_from(responses)
                .where(new, _is_complete(responses.c.status),
                       responses.c.resume_digest.in_(digests[start:start + 500])))
    complete = by_status.get("complete", 0)
    wrong_answers = sum(n for count, n in per_response.items() if count != expected_answers)
    return {
        "reached_done": len(tokens),
        "complete_in_db": complete,
        "drafts_in_db": by_status.get("draft", 0),
        "consent_rows": consent_rows,
        "lost": len(tokens) - found,
        "doubled": complete - found,
        "answers_per_response": {str(k): v for k, v in sorted(per_response.items())},
        "expected_answers_per_response": expected_answers,
        "responses_with_unexpected_answer_count": wrong_answers,
        "ok": found == len(tokens) == complete and wrong_answers == 0
        and consent_rows == sum(by_status.values()),
    }


def expected_answer_count(database: Database, token: str) -> int:
    digest = hashlib.sha256(token.encode()).hexdigest()
    with database.engine.connect() as conn:
        return conn.scalar(sa.text(
            "SELECT COUNT(a.id) FROM responses r JOIN answers a ON a.response_id = r.id "
            "WHERE r.resume_digest = :d"), {"d": digest})


def log_findings(log: Path, start: int) -> tuple[int, dict]:
    """Lines of the gunicorn log written since ``start`` that point at trouble."""
    if not log.exists():
        return start, {"lines": 0, "markers": {}, "samples": []}
    with log.open("rb") as handle:
        handle.seek(start)
        chunk = handle.read().decode("utf-8", "replace")
        end = handle.tell()
    markers: Counter = Counter()
    samples = []
    for line in chunk.splitlines():
        hits = [m for m in LOG_MARKERS if m in line]
        for marker in hits:
            markers[marker] += 1
        if hits and len(samples) < 10:
            samples.append(line.strip()[:300])
    return end, {"lines": len(chunk.splitlines()), "markers": dict(markers), "samples": samples}


def measure(args, database: Database, server: Server, target: str, concurrency: int,
            job, expected: int) -> dict:
    """One load run: clients, CPU of every party, then the database count."""
    after_id = db_snapshot(database)
    log_start = server.log.stat().st_size if server.log.exists() else 0
    db_pid = database.server_pid()
    server_cpu, db_cpu = server.cpu_seconds(), tree_cpu_seconds(db_pid) if db_pid else 0.0
    stats, wall, client_cpu = run_load(job, concurrency, args.max_respondents, args.duration)
    server_cpu = server.cpu_seconds() - server_cpu
    db_cpu = (tree_cpu_seconds(db_pid) - db_cpu) if db_pid else None
    time.sleep(0.5)  # let the last log lines land
    _end, log = log_findings(server.log, log_start)
    check = db_check(database, after_id, stats.tokens, expected)
    result = {
        "engine": database.engine_name,
        "worker_class": server.worker_class,
        "workers": server.workers,
        "threads": server.threads if server.worker_class == "gthread" else 1,
        "target": target,
        "concurrency": concurrency,
        "completed": stats.completed,
        "failed_respondents": stats.failed,
        "wall_s": round(wall, 2),
        "responses_per_s": round(stats.completed / wall, 2) if wall else 0,
        "requests": stats.requests,
        "requests_per_s": round(stats.requests / wall, 1) if wall else 0,
        "requests_per_response": round(stats.requests / stats.completed, 2)
        if stats.completed else None,
        "http_errors": stats.http_errors,
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "latency_ms": {"p50": _ms(_percentile(stats.latencies, 50)),
                       "p95": _ms(_percentile(stats.latencies, 95)),
                       "p99": _ms(_percentile(stats.latencies, 99)),
                       "max": _ms(max(stats.latencies, default=None)),
                       **{f"{method}_p{q}": _ms(_percentile(values, q))
                          for method, values in sorted(stats.by_method.items())
                          for q in (50, 95)}},
        "response_time_ms": {"p50": _ms(_percentile(stats.flow_times, 50)),
                             "p95": _ms(_percentile(stats.flow_times, 95)),
                             "mean": _ms(statistics.fmean(stats.flow_times))
                             if stats.flow_times else None},
        "cpu_s": {"client": round(client_cpu, 2), "server": round(server_cpu, 2),
                  "database": None if db_cpu is None else round(db_cpu, 2)},
        "cpu_ms_per_request": {"server": _per(server_cpu * 1000, stats.requests),
                               "database": _per(db_cpu and db_cpu * 1000, stats.requests)},
        "cpu_ms_per_response": {"server": _per(server_cpu * 1000, stats.completed),
                                "database": _per(db_cpu and db_cpu * 1000, stats.completed)},
        "bytes_down": stats.bytes_down,
        "bytes_down_per_response": _per(stats.bytes_down, stats.completed, 0),
        "client_errors": stats.errors,
        "db": check,
        "server_log": log,
    }
    print(f"  {target:11} c={concurrency:<3} {stats.completed:5} done in {wall:5.1f} s = "
          f"{result['responses_per_s']:7.2f} resp/s, {result['requests_per_s']:7.1f} req/s, "
          f"server CPU {result['cpu_ms_per_request']['server']} ms/req, "
          f"HTTP errors {stats.http_errors}, failed {stats.failed}, "
          f"lost {check['lost']}, doubled {check['doubled']}"
          + ("" if check["ok"] else "  << DB CHECK FAILED")
          + (f"  log: {log['markers']}" if log["markers"] else ""), flush=True)
    return result


def _runs(args, database: Database, server: Server, target: str, job, expected: int,
          report: dict) -> None:
    """Warm a started server up with ``job``, then one measured run per concurrency level."""
    warm = Stats()
    for _ in range(args.warmup):
        job(warm)
    if warm.failed:
        raise RuntimeError(f"{target} warm-up failed: {warm.errors[:3]}")
    print(f"[{database.engine_name}/{server.worker_class}] {TARGET_LABELS[target]} on "
          f"{server.base}", flush=True)
    for concurrency in args.concurrency:
        time.sleep(args.pause)
        report["runs"].append(measure(args, database, server, target, concurrency, job,
                                      expected))


def run_engine(args, engine: str, stamp: str, report: dict) -> None:
    reason = Database.available(engine)
    if reason:
        print(f"[{engine}] skipped: {reason}")
        report["skipped"].append({"engine": engine, "reason": reason})
        return
    print(f"[{engine}] preparing a fresh database ...", flush=True)
    database = Database(engine, pg_durable=args.pg_durable).start()
    try:
        database.prepare(DEFINITION)
        logs = args.output_dir / "logs" / stamp
        for worker_class in args.worker_classes:

            def server_for(target: str, env: dict | None = None,
                           worker_class: str = worker_class) -> Server:
                return Server(target, database, logs / f"{engine}-{worker_class}-{target}.log",
                              workers=args.workers, worker_class=worker_class,
                              threads=args.threads, slug=SLUG, env=env).start()

            # surveyapp always runs first: the probe walks it once, weighs its pages, records
            # the answers (bare-submit's payload) and captures the HTML (bare-flow's pages).
            server = server_for("app")
            try:
                walk = probe(server.base, SLUG)
                expected = expected_answer_count(database, walk["token"])
                if "page_weight" not in report:
                    report["page_weight"] = walk["weights"]
                    report["answers_per_response"] = expected
                    report["requests_per_response_no_js"] = walk["requests"]
                pages = logs / f"{engine}-{worker_class}-pages.json"
                pages.parent.mkdir(parents=True, exist_ok=True)
                pages.write_text(json.dumps(walk["capture"], ensure_ascii=False),
                                 encoding="utf-8")
                if "app" in args.targets:
                    cache = FormCache(full=args.full_parse)
                    _runs(args, database, server, "app",
                          lambda stats, base=server.base, cache=cache: respondent(
                              base, SLUG, stats, cache),
                          expected, report)
            finally:
                server.stop()
            if "bare-flow" in args.targets:
                server = server_for("bare-flow", {
                    "BENCH_PAGES": str(pages),
                    "BENCH_COMPRESS": "0" if args.bare_flow_plain else "1"})
                try:
                    cache = FormCache(full=args.full_parse)
                    _runs(args, database, server, "bare-flow",
                          lambda stats, base=server.base, cache=cache: respondent(
                              base, SLUG, stats, cache),
                          expected, report)
                finally:
                    server.stop()
            if "bare-submit" in args.targets:
                server = server_for("bare-submit")
                try:
                    _runs(args, database, server, "bare-submit",
                          lambda stats, base=server.base, payload=walk["payload"]: bare_poster(
                              base, payload, stats),
                          expected, report)
                finally:
                    server.stop()
    finally:
        database.stop()


def _server_db_ms(run: dict) -> float | None:
    """CPU milliseconds of gunicorn and the database server per complete response."""
    cpu = run["cpu_s"]
    if not run["completed"]:
        return None
    return (cpu["server"] + (cpu["database"] or 0)) * 1000 / run["completed"]


#: Figures of each target copied into the comparison rows.
_COMPARED = ("responses_per_s", "requests_per_s")


def ratios(runs: list[dict]) -> list[dict]:
    """surveyapp ÷ bare-flow (headline) and surveyapp ÷ bare-submit, per comparable run.

    Every ratio is of responses/s; the request ratios compare requests/s.
    """
    key = ("engine", "worker_class", "concurrency")
    out = []
    for app in (r for r in runs if r["target"] == "app"):
        row = {k: app[k] for k in key}
        for target in TARGETS:
            run = next((r for r in runs if r["target"] == target
                        and all(r[k] == app[k] for k in key)), None)
            name = target.replace("-", "_")
            for figure in _COMPARED:
                row[f"{name}_{figure}"] = run[figure] if run else None
            row[f"{name}_server_cpu_ms_per_request"] = (
                run["cpu_ms_per_request"]["server"] if run else None)
            row[f"{name}_server_cpu_ms_per_response"] = (
                run["cpu_ms_per_response"]["server"] if run else None)
        for target, label in (("bare-flow", "ratio"), ("bare-submit", "ratio_vs_bare_submit")):
            name = target.replace("-", "_")
            bare_rate = row[f"{name}_responses_per_s"]
            bare_requests = row[f"{name}_requests_per_s"]
            row[label] = round(app["responses_per_s"] / bare_rate, 3) if bare_rate else None
            row[f"request_{label}"] = (round(app["requests_per_s"] / bare_requests, 3)
                                       if bare_requests else None)
        row["goal_met"] = None if row["ratio"] is None else row["ratio"] >= GOAL_RATIO
        # The same comparison by cost instead of rate: it does not depend on how much of the
        # shared CPUs the load generator took (which is more for the cheaper server).
        flow = next((r for r in runs if r["target"] == "bare-flow"
                     and all(r[k] == app[k] for k in key)), None)
        app_cost, flow_cost = _server_db_ms(app), flow and _server_db_ms(flow)
        row["cpu_ratio"] = round(flow_cost / app_cost, 3) if app_cost and flow_cost else None
        out.append(row)
    return out


def _dash(value) -> str:
    return "-" if value is None else str(value)


def _kb(n: float) -> str:
    return f"{n / 1024:.1f} KB"


def markdown(report: dict) -> str:
    lines = [f"# surveyapp benchmark — {report['started']}", "",
             f"Machine: {report['machine']['cpus']} CPU(s), {report['machine']['platform']}, "
             f"Python {report['machine']['python']}. Client and server share the CPUs.",
             f"Settings: duration ≤ {report['settings']['duration']} s and ≤ "
             f"{report['settings']['max_respondents']} responses per run; gunicorn "
             f"{report['settings']['workers']} workers; questionnaire `{SLUG}` "
             f"(20 questions, 5 pages, {report.get('answers_per_response', '?')} answer rows per "
             f"response, {report.get('requests_per_response_no_js', '?')} HTTP requests per "
             "response without JavaScript).", ""]
    lines += ["## Throughput", "",
              "| engine | workers | target | conc. | responses | resp/s | req/s | req p50 / p95 ms "
              "| HTTP errors | failed | CPU client / server / db s | server CPU ms per req / "
              "per resp | KB down per resp |",
              "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in report["runs"]:
        cpu = r["cpu_s"]
        db_cpu = "-" if cpu["database"] is None else cpu["database"]
        per_request, per_response = (r["cpu_ms_per_request"]["server"],
                                     r["cpu_ms_per_response"]["server"])
        down = r["bytes_down_per_response"]
        lines.append(
            f"| {r['engine']} | {r['worker_class']} x{r['workers']}"
            f"{'x' + str(r['threads']) if r['threads'] > 1 else ''} | "
            f"{TARGET_LABELS.get(r['target'], r['target'])} | {r['concurrency']} | "
            f"{r['completed']} in {r['wall_s']} s | **{r['responses_per_s']}** | "
            f"{r['requests_per_s']} | {r['latency_ms']['p50']} / {r['latency_ms']['p95']} | "
            f"{r['http_errors']} | {r['failed_respondents']} | "
            f"{cpu['client']} / {cpu['server']} / {db_cpu} | "
            f"{_dash(per_request)} / {_dash(per_response)} | "
            f"{'-' if down is None else f'{down / 1024:.1f}'} |")
    lines += ["", f"## surveyapp vs bare Flask (goal: ≥ {GOAL_RATIO:.0%} of bare-flow)", "",
              "**Headline: app ÷ bare-flow** — bare-flow answers the same "
              f"{report.get('requests_per_response_no_js', '?')} requests per response as "
              "surveyapp and writes the same rows at the same moments, so this ratio shows how "
              "close surveyapp comes to the framework's limit for this conversation; the goal "
              "is judged on it. app ÷ bare-submit is for reference only: bare-submit stores a "
              "whole response in one request, so that ratio mostly counts requests. The CPU "
              "ratio compares cost instead of rate: server + database CPU per response of "
              "bare-flow ÷ that of surveyapp (what the headline ratio would be if the servers "
              "had the CPUs to themselves and CPU were the only limit).", "",
              "| engine | workers | conc. | surveyapp resp/s | bare-flow resp/s "
              "| **app ÷ bare-flow** | goal | CPU ratio | bare-submit resp/s | app ÷ bare-submit "
              "| req/s surveyapp / bare-flow / bare-submit "
              "| server CPU ms per resp surveyapp / bare-flow / bare-submit |",
              "|---|---|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|"]
    for r in report["ratios"]:
        goal = "-" if r["goal_met"] is None else "met" if r["goal_met"] else "**not met**"
        headline = "-" if r["ratio"] is None else f"**{r['ratio']:.3f}**"
        reference = ("-" if r["ratio_vs_bare_submit"] is None
                     else f"{r['ratio_vs_bare_submit']:.3f}")
        rates = " / ".join(_dash(r[f"{t.replace('-', '_')}_requests_per_s"]) for t in TARGETS)
        cpus = " / ".join(_dash(r[f"{t.replace('-', '_')}_server_cpu_ms_per_response"])
                          for t in TARGETS)
        lines.append(f"| {r['engine']} | {r['worker_class']} | {r['concurrency']} | "
                     f"{r['app_responses_per_s']} | {_dash(r['bare_flow_responses_per_s'])} | "
                     f"{headline} | {goal} | {_dash(r['cpu_ratio'])} | "
                     f"{_dash(r['bare_submit_responses_per_s'])} | "
                     f"{reference} | {rates} | {cpus} |")
    if not report["ratios"]:
        lines += ["", "No surveyapp runs (`--targets` without `app`), so no ratios."]
    per_response = report.get("requests_per_response_no_js")
    if per_response:
        lines += ["", f"A surveyapp response takes {per_response} HTTP requests, a bare-flow "
                      f"response the same {per_response}, a bare-submit response 1: even at "
                      "bare-submit's cost per request, app ÷ bare-submit could not exceed "
                      f"1/{per_response} = {1 / per_response:.3f}."]
    lines += ["", "## Lost or doubled responses (goal: none)", "",
              "| engine | workers | target | conc. | reached done | complete in DB | lost "
              "| doubled | drafts left | answer rows/response | server log |",
              "|---|---|---|--:|--:|--:|--:|--:|--:|---|---|"]
    for r in report["runs"]:
        d = r["db"]
        per = ", ".join(f"{k} x{v}" for k, v in d["answers_per_response"].items()) or "-"
        log = ", ".join(f"{k}: {v}" for k, v in r["server_log"]["markers"].items()) or "clean"
        lines.append(f"| {r['engine']} | {r['worker_class']} | {r['target']} | "
                     f"{r['concurrency']} | {d['reached_done']} | {d['complete_in_db']} | "
                     f"{d['lost']} | {d['doubled']} | {d['drafts_in_db']} | {per} "
                     f"(expected {d['expected_answers_per_response']}) | {log} |")
    weights = report.get("page_weight") or []
    if weights:
        lines += ["", f"## First-load weight (goal: < {_kb(GOAL_BYTES)} in ≤ {GOAL_REQUESTS} "
                      "requests, no JavaScript required)", "",
                  "Empty cache; every stylesheet, script, image and icon the HTML references "
                  "(data: URLs excluded). Bytes on the wire as the server sends them to a "
                  "client accepting gzip, headers included; the gzip column estimates what "
                  "gzip at level 6 of every item would give.",
                  "",
                  "| page | requests | HTML | CSS | JS | total on the wire | gzip estimate "
                  "| goal |",
                  "|---|--:|--:|--:|--:|--:|--:|---|"]
        for w in weights:
            by_kind = Counter()
            for item in w["items"]:
                kind = ("html" if item["kind"] == "html" else "js" if item["kind"] == "script"
                        else "css" if "stylesheet" in item["kind"] else "other")
                by_kind[kind] += item["body_bytes"]
            met = w["total_bytes"] < GOAL_BYTES and w["requests"] <= GOAL_REQUESTS
            lines.append(f"| {w['page']} | {w['requests']} | {_kb(by_kind['html'])} | "
                         f"{_kb(by_kind['css'])} | {_kb(by_kind['js'])} | "
                         f"{_kb(w['total_bytes'])} | {_kb(w['gzip_estimate_bytes'])} | "
                         f"{'met' if met else '**not met**'} |")
        lines += ["", "Every run above completed each questionnaire without running JavaScript "
                      "(the client sends the page's empty `js` field as a browser without "
                      "scripts does)."]
    lines += ["", "## Comparison point (from the issue)", "",
              "LimeSurvey 6.14 on this kind of machine, 20-question survey: 2.84 MB in 28 "
              "requests on first load, about 5 complete responses/s. A bare Flask endpoint "
              "writing the same rows: several hundred per second.", ""]
    if report["skipped"]:
        lines += ["Skipped: " + "; ".join(f"{s['engine']} ({s['reason']})"
                                            for s in report["skipped"]), ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    report = {
        "started": started.isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "goals": {"ratio": GOAL_RATIO, "first_load_bytes": GOAL_BYTES,
                  "first_load_requests": GOAL_REQUESTS},
        "limesurvey_6_14": LIMESURVEY,
        "runs": [],
        "skipped": [],
    }
    failed = False
    try:
        for engine in args.engines:
            try:
                run_engine(args, engine, stamp, report)
            except Exception as error:  # report what was measured, then fail
                failed = True
                print(f"[{engine}] aborted: {type(error).__name__}: {error}", file=sys.stderr)
                report["skipped"].append({"engine": engine,
                                          "reason": f"aborted: {type(error).__name__}: {error}"})
    except KeyboardInterrupt:
        failed = True
        print("interrupted; writing what was measured", file=sys.stderr)
    report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["ratios"] = ratios(report["runs"])
    text = markdown(report)
    for name in (f"bench-{stamp}", "latest"):
        (args.output_dir / f"{name}.json").write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (args.output_dir / f"{name}.md").write_text(text + "\n", encoding="utf-8")
    print()
    print(text)
    print(f"Written: {args.output_dir / f'bench-{stamp}.json'} and .md "
          f"(also latest.json / latest.md); gunicorn logs in {args.output_dir / 'logs' / stamp}")
    integrity = all(r["db"]["ok"] and not r["http_errors"] for r in report["runs"])
    return 1 if failed or not integrity else 0


if __name__ == "__main__":
    sys.exit(main())
