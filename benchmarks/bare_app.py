"""The baseline: a bare Flask endpoint that stores one complete response per POST.

It writes the same rows a complete response of surveyapp produces — one ``responses`` row (status
complete), one ``consent_records`` row and one ``answers`` row per stored value — in one
transaction, with plain SQLAlchemy Core on tables reflected from the benchmark database. There is
no session, no CSRF check, no template, no condition logic and no validation beyond turning the
posted fields into rows: it measures what Flask + gunicorn + the database can do, nothing more.

The posted fields are named as on surveyapp's pages (``code``, ``code__row``, ``code__other``,
``code__pna``), plus ``token``: the client's random id of this response, stored as its start key
and (hashed) as its resume digest so the run can check afterwards that nothing was lost or doubled.

Run by benchmarks/run.py as ``gunicorn 'bare_app:create_app()'`` with DATABASE_URL and
BENCH_SLUG in the environment.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask import Flask, abort, has_request_context, request

SEP = "__"
CHOICE_TYPES = {"single_choice", "multiple_choice", "dropdown", "yes_no"}
NUMBER_TYPES = {"integer", "decimal"}
TEXT_TYPES = {"short_text", "long_text", "email"}


def _engine(url: str, *, reads_defer: bool = False) -> sa.Engine:
    """An engine set up like surveyapp's: on SQLite, WAL and a write lock taken up front.

    With ``reads_defer`` (as surveyapp does), GET/HEAD requests begin a plain deferred
    transaction, so readers do not queue for the write lock; without it every transaction
    begins IMMEDIATE (this app only writes).
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = sa.create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in ("foreign_keys=ON", "busy_timeout=10000", "journal_mode=WAL",
                           "synchronous=NORMAL"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def on_begin(connection):
            reads = reads_defer and has_request_context() and request.method in ("GET", "HEAD")
            connection.exec_driver_sql("BEGIN" if reads else "BEGIN IMMEDIATE")

    return engine


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Target:
    """What a stored response points at: questionnaire, version, consent text and questions."""

    def __init__(self, engine: sa.Engine, slug: str):
        meta = sa.MetaData()
        meta.reflect(engine, only=["questionnaires", "questionnaire_versions", "questions",
                                   "consent_texts", "responses", "consent_records", "answers"])
        self.responses = meta.tables["responses"]
        self.consent_records = meta.tables["consent_records"]
        self.answers = meta.tables["answers"]
        q, v = meta.tables["questionnaires"], meta.tables["questionnaire_versions"]
        questions, texts = meta.tables["questions"], meta.tables["consent_texts"]
        with engine.connect() as conn:
            questionnaire = conn.execute(
                sa.select(q.c.id, q.c.base_language).where(q.c.slug == slug)
            ).one()
            self.questionnaire_id = questionnaire.id
            self.language = questionnaire.base_language
            self.version_id = conn.scalar(
                sa.select(v.c.id)
                .where(v.c.questionnaire_id == self.questionnaire_id, v.c.published_at.is_not(None))
                .order_by(v.c.number.desc()).limit(1)
            )
            consent = conn.execute(
                sa.select(texts.c.id, texts.c.language, texts.c.digest)
                .where(texts.c.questionnaire_id == self.questionnaire_id,
                       texts.c.language == self.language)
                .order_by(texts.c.version.desc()).limit(1)
            ).one()
            self.consent_text_id, self.consent_language, self.consent_digest = consent
            self.questions = {
                row.code: (row.id, row.type)
                for row in conn.execute(
                    sa.select(questions.c.id, questions.c.code, questions.c.type)
                    .where(questions.c.version_id == self.version_id)
                )
            }

    def consent_row(self, response_id: int, now: datetime) -> dict:
        """The consent record the app writes when a response starts."""
        return {
            "response_id": response_id,
            "questionnaire_id": self.questionnaire_id,
            "version_id": self.version_id,
            "consent_text_id": self.consent_text_id,
            "language": self.consent_language,
            "digest": self.consent_digest,
            "purposes": ["answers"],
            "channel": "web",
            "interviewer_id": None,
            "given_at": now,
        }

    def answer_rows(self, form) -> list[dict]:
        """The posted fields as answer rows, the way surveyapp's question types store them."""
        rows: list[dict] = []
        others: dict[str, str] = {}
        for name in form:
            code, _sep, suffix = name.partition(SEP)
            if code not in self.questions:
                continue
            question_id, kind = self.questions[code]
            for raw in form.getlist(name):
                value = raw.strip()
                if not value:
                    continue
                row = {"question_id": question_id, "row_code": None, "option_code": None,
                       "value_text": None, "value_number": None, "value_date": None}
                if suffix == "other":
                    others[code] = value
                    continue
                if suffix == "pna":
                    row["option_code"] = "_pna"
                elif kind == "matrix":
                    row["row_code"], row["option_code"] = suffix, value
                elif kind in CHOICE_TYPES:
                    row["option_code"] = value
                elif kind == "rating":
                    row["option_code"] = value
                    row["value_number"] = None if value == "_pna" else float(value)
                elif kind in NUMBER_TYPES:
                    row["value_number"] = float(value.replace(",", "."))
                elif kind == "date":
                    row["value_date"] = date.fromisoformat(value)
                elif kind in TEXT_TYPES:
                    row["value_text"] = value
                else:
                    abort(400)
                rows.append(row)
        for row in rows:
            if row["option_code"] == "_other":
                code = next(c for c, (qid, _k) in self.questions.items()
                            if qid == row["question_id"])
                row["value_text"] = others.get(code)
        return rows


def create_app() -> Flask:
    """The bare app: one POST endpoint that stores a complete response, one health GET."""
    app = Flask(__name__)
    engine = _engine(os.environ["DATABASE_URL"])
    target = Target(engine, os.environ.get("BENCH_SLUG", "bench-20"))

    @app.get("/health")
    def health():
        return "ok"

    @app.post("/submit")
    def submit():
        token = request.form.get("token", "")
        if not 16 <= len(token) <= 64:
            abort(400)
        answers = target.answer_rows(request.form)
        now = datetime.now(UTC)
        with engine.begin() as conn:
            response_id = conn.execute(
                sa.insert(target.responses).returning(target.responses.c.id),
                {
                    "questionnaire_id": target.questionnaire_id,
                    "version_id": target.version_id,
                    "status": "COMPLETE",
                    "language": target.language,
                    "unit_id": None,
                    "channel": "WEB",
                    "is_preview": False,
                    "start_key": token,
                    "resume_digest": _sha256(token),
                    "receipt_digest": _sha256(secrets.token_urlsafe(12)),
                    "current_page": None,
                    "started_at": now,
                    "updated_at": now,
                    "submitted_at": now,
                },
            ).scalar_one()
            conn.execute(sa.insert(target.consent_records),
                         target.consent_row(response_id, now))
            if answers:
                conn.execute(sa.insert(target.answers),
                             [{"response_id": response_id, **row} for row in answers])
        return f"stored {response_id}\n", 200, {"Content-Type": "text/plain; charset=utf-8"}

    return app
