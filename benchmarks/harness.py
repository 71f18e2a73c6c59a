"""Databases and gunicorn servers for the benchmark: started here, stopped here, nothing else."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.pg import ThrowawayPostgres, find_binaries

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"

SECRET_KEY = "benchmark-only-secret-" + "0" * 32
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_cpu_seconds(root_pid: int) -> float:
    """CPU seconds (user + system) of a process and all its descendants, living or reaped."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        pid = int(entry)
        stats[pid] = fields
        children.setdefault(int(fields[1]), []).append(pid)
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        if pid in stats:
            # utime, stime, cutime, cstime are fields 14-17 of stat; here offset by 3.
            total += sum(int(x) for x in stats[pid][11:15])
        todo.extend(children.get(pid, []))
    return total / CLOCK_TICKS


class _DurablePostgres(ThrowawayPostgres):
    """tests/pg.py's cluster, but with PostgreSQL's default durability (fsync, sync commit)."""

    def start(self) -> None:
        self._run(str(self.binaries / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=100")
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.root / "log"), "-w", "start")


class Database:
    """A fresh database of one engine, migrated, with the benchmark questionnaire imported."""

    def __init__(self, engine: str, *, pg_durable: bool = False):
        self.engine_name = engine
        self.pg_durable = pg_durable
        self.tmp: Path | None = None
        self.pg: ThrowawayPostgres | None = None
        self.url = ""
        self._engine: sa.Engine | None = None

    @staticmethod
    def available(engine: str) -> str | None:
        """Why an engine cannot run here, or None."""
        if engine == "postgresql" and find_binaries() is None:
            return "PostgreSQL server binaries (initdb, pg_ctl) not found"
        return None

    def start(self) -> Database:
        if self.engine_name == "sqlite":
            self.tmp = Path(tempfile.mkdtemp(prefix="surveyapp-bench-"))
            self.url = f"sqlite:///{self.tmp / 'bench.sqlite'}"
        else:
            cls = _DurablePostgres if self.pg_durable else ThrowawayPostgres
            self.pg = cls(find_binaries())
            self.pg.start()
            self.url = self.pg.create_database("bench")
        return self

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "FLASK_APP", "FLASK_DEBUG")}
        env.update(DATABASE_URL=self.url, SECRET_KEY=SECRET_KEY, SURVEYAPP_ENV="production",
                   PYTHONDONTWRITEBYTECODE="1")
        return env

    def prepare(self, definition: Path) -> None:
        """Migrate (no demo content) and import the questionnaire, opened, with the app's CLI."""
        for args in (["setup", "--no-demo"], ["surveys", "import", str(definition), "--open"]):
            done = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "surveyapp", *args],
                cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=300,
            )
            if done.returncode != 0:
                raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = sa.create_engine(self.url.replace("postgresql://",
                                                             "postgresql+psycopg://"))
        return self._engine

    def server_pid(self) -> int | None:
        """The PostgreSQL postmaster's pid, to count its CPU time."""
        if self.pg is None:
            return None
        try:
            return int((self.pg.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        if self.pg is not None:
            self.pg.stop()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)


class Server:
    """gunicorn on 127.0.0.1 serving surveyapp or a bare app; its log goes to ``log``.

    ``env`` adds variables to the server's environment (bare-flow's BENCH_PAGES, …).
    """

    APPS = {"app": "surveyapp:create_app()",
            "bare-flow": "bare_flow:create_app()",
            "bare-submit": "bare_app:create_app()",
            "bare": "bare_app:create_app()"}

    def __init__(self, target: str, database: Database, log: Path, *, workers: int = 2,
                 worker_class: str = "sync", threads: int = 4, slug: str = "bench-20",
                 env: dict[str, str] | None = None):
        self.target = target
        self.extra_env = dict(env or {})
        self.database = database
        self.log = log
        self.workers = workers
        self.worker_class = worker_class
        self.threads = threads
        self.slug = slug
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    @property
    def command(self) -> list[str]:
        command = [sys.executable, "-m", "gunicorn", "-w", str(self.workers),
                   "-b", f"127.0.0.1:{self.port}", "--worker-class", self.worker_class,
                   "--timeout", "60", "--graceful-timeout", "5",
                   "--error-logfile", str(self.log), "--capture-output",
                   "--pythonpath", str(BENCH_DIR)]
        if self.worker_class == "gthread":
            command += ["--threads", str(self.threads)]
        return [*command, self.APPS[self.target]]

    def start(self, ready_timeout: float = 60) -> Server:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        env = self.database.env()
        env["BENCH_SLUG"] = self.slug
        env.update(self.extra_env)
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        probe = f"/s/{self.slug}" if self.target == "app" else "/health"
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}; see {self.log}")
            try:
                if requests.get(self.base + probe, timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {ready_timeout} s; see {self.log}")

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.process.pid) if self.process else 0.0

    def stop(self) -> None:
        """Stop the gunicorn master we started (it stops its own workers)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
