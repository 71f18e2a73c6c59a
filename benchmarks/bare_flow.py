"""The headline baseline: surveyapp's respondent conversation, request for request, done bare.

It answers the same 13 HTTP requests a respondent of surveyapp makes and writes the same rows
at the same moments, with nothing but Flask, gunicorn and plain SQLAlchemy Core on tables
reflected from the benchmark database — no ORM, no template engine, no session, no CSRF check,
no condition logic and no validation beyond turning the posted fields into rows:

- ``GET /s/<slug>`` — the start page as surveyapp rendered it (captured by the benchmark's probe)
  with a fresh ``start_key``; no database access (surveyapp reads the questionnaire and its
  consent text here).
- ``POST /s/<slug>`` — inserts the draft ``responses`` row and its ``consent_records`` row in one
  transaction; 302 to the first page, with the resume cookie surveyapp sets.
- ``GET /s/<slug>/r/<token>/<page>`` — selects the response by resume digest (SHA-256 of the
  token) and returns that page's captured HTML with this respondent's token in it.
- ``POST /s/<slug>/r/<token>/<page>`` — in one transaction: selects the response and its stored
  answers, deletes the response's answer rows and inserts them again with this page's answers
  replaced (surveyapp's ``save_page`` rewrites the whole set the same way), and moves
  ``current_page`` on; 302 to the next page. On the last page the same transaction marks the
  response complete (guarded ``UPDATE … WHERE status = draft``) with ``submitted_at`` and the
  receipt digest; 302 to ``…/done``.
- ``GET /s/<slug>/r/<token>/done`` — selects the response, returns the captured thank-you page
  with this response's receipt code (handed over in a cookie, where surveyapp uses its session).

Simplifications: the page order is the path the probe walked through surveyapp (for
questionnaire-20 that is every page: its one condition depends on an answer given on an earlier
page, and the probe's answer shows the conditional question); answers are kept only for the
questions the captured page showed, instead of evaluating conditions; ``nav`` is ignored (every
POST moves on); the language switch is not served. The HTML is compressed like surveyapp's
Flask-Compress does it (brotli quality 4, else gzip 6, bodies of 500 bytes or more) unless
``BENCH_COMPRESS=0``, so the bytes on the wire are the same; surveyapp's security headers and
session cookie are not sent.

Run by benchmarks/run.py as ``gunicorn 'bare_flow:create_app()'`` with DATABASE_URL,
SECRET_KEY, BENCH_SLUG and BENCH_PAGES (the probe's capture, a JSON file) in the environment.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from bare_app import Target, _engine, _sha256
from flask import Flask, Response, abort, redirect, request

try:
    import brotli
except ImportError:  # pragma: no cover - brotli is a dependency of Flask-Compress
    brotli = None

RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_RECEIPT = re.compile(r"\b[A-HJ-NP-Z2-9]{4}(?:-[A-HJ-NP-Z2-9]{4}){3}\b")
_START_KEY = re.compile(r'<input\b[^>]*\bname="start_key"[^>]*>')
_VALUE = re.compile(r'\bvalue="([^"]*)"')
_SHOWN = re.compile(r'<input\b[^>]*\bname="shown"[^>]*\bvalue="([^"]*)"')
#: Flask-Compress as surveyapp configures it.
COMPRESS_MIN_SIZE = 500


class Prerendered:
    """A captured page cut around the values that differ per respondent."""

    def __init__(self, html: str, slots: dict[str, str]):
        """``slots`` maps a literal of the captured page to the name of the value replacing it."""
        self.parts: list[tuple[str, str | None]] = []
        literals = sorted((k for k in slots if k), key=len, reverse=True)
        position = 0
        if literals:
            for match in re.finditer("|".join(re.escape(k) for k in literals), html):
                self.parts.append((html[position:match.start()], slots[match.group()]))
                position = match.end()
        self.parts.append((html[position:], None))

    def render(self, **values: str) -> str:
        return "".join(text + (values[slot] if slot else "") for text, slot in self.parts)


class Flow:
    """Pages in order, their prerendered HTML, and which questions each one stores."""

    def __init__(self, engine: sa.Engine, target: Target, capture: dict):
        token, base = capture["token"], capture["base"]
        self.order: list[str] = list(capture["order"])
        if not self.order:
            raise ValueError("the capture has no question pages")
        key_input = _START_KEY.search(capture["start"])
        start_key = _VALUE.search(key_input.group()).group(1) if key_input else ""
        self.start = Prerendered(capture["start"], {start_key: "start_key"})
        receipt = _RECEIPT.search(capture["done"])
        self.done = Prerendered(capture["done"], {receipt.group() if receipt else "": "receipt"})
        self.pages = {code: Prerendered(capture["pages"][code], {token: "token", base: "base"})
                      for code in self.order}
        self.next = {code: (self.order[i + 1] if i + 1 < len(self.order) else None)
                     for i, code in enumerate(self.order)}
        meta = sa.MetaData()
        meta.reflect(engine, only=["pages", "questions"])
        pages, questions = meta.tables["pages"], meta.tables["questions"]
        by_page: dict[str, dict[str, int]] = {}
        with engine.connect() as conn:
            for page_code, question_code, question_id in conn.execute(
                sa.select(pages.c.code, questions.c.code, questions.c.id)
                .join(pages, pages.c.id == questions.c.page_id)
                .where(questions.c.version_id == target.version_id)
            ):
                by_page.setdefault(page_code, {})[question_code] = question_id
        #: Question ids of each page, and of those the ids of the questions the page showed.
        self.question_ids: dict[str, frozenset[int]] = {}
        self.stored_ids: dict[str, frozenset[int]] = {}
        for code in self.order:
            if code not in by_page:
                raise ValueError(f"captured page {code!r} is not in the questionnaire")
            shown = _SHOWN.search(capture["pages"][code])
            visible = set(shown.group(1).split()) if shown else set(by_page[code])
            self.question_ids[code] = frozenset(by_page[code].values())
            self.stored_ids[code] = frozenset(
                qid for qcode, qid in by_page[code].items() if qcode in visible)


def resume_token_for(secret: str, start_key: str) -> str:
    """surveyapp's resume token of a start key (HMAC-SHA-256, 24 bytes, URL-safe base64)."""
    mac = hmac.new(secret.encode("utf-8"), b"resume:" + start_key.encode("utf-8"),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode("ascii")


def new_receipt_code() -> str:
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def create_app() -> Flask:
    """The bare-flow app: surveyapp's respondent URLs, prerendered pages, Core SQL."""
    app = Flask(__name__)
    engine = _engine(os.environ["DATABASE_URL"], reads_defer=True)
    slug = os.environ.get("BENCH_SLUG", "bench-20")
    secret = os.environ["SECRET_KEY"]
    compress = os.environ.get("BENCH_COMPRESS", "1") != "0"
    target = Target(engine, slug)
    flow = Flow(engine, target, json.loads(Path(os.environ["BENCH_PAGES"]).read_text("utf-8")))
    responses, answers = target.responses, target.answers
    answer_columns = [answers.c.question_id, answers.c.row_code, answers.c.option_code,
                      answers.c.value_text, answers.c.value_number, answers.c.value_date]
    cookie_path = f"/s/{slug}"
    resume_cookie = f"resume_{target.questionnaire_id}"

    def html(text: str) -> Response:
        body = text.encode("utf-8")
        response = Response(body, content_type="text/html; charset=utf-8")
        if compress and len(body) >= COMPRESS_MIN_SIZE:
            accepted = request.headers.get("Accept-Encoding", "")
            if brotli is not None and "br" in accepted:
                response.set_data(brotli.compress(body, quality=4))
                response.headers["Content-Encoding"] = "br"
            elif "gzip" in accepted:
                response.set_data(gzip.compress(body, 6))
                response.headers["Content-Encoding"] = "gzip"
            response.headers["Vary"] = "Accept-Encoding"
        return response

    def find(conn, token: str):
        if not token or len(token) > 64:
            return None
        return conn.execute(
            sa.select(responses.c.id, responses.c.status, responses.c.current_page)
            .where(responses.c.questionnaire_id == target.questionnaire_id,
                   responses.c.resume_digest == _sha256(token))
        ).one_or_none()

    def page_url(token: str, code: str | None) -> str:
        return f"/s/{slug}/r/{token}/{code or flow.order[0]}"

    @app.get("/health")
    def health():
        return "ok"

    @app.route("/s/<slug_>", methods=["GET", "POST"])
    def start(slug_: str):
        if slug_ != slug:
            abort(404)
        if request.method == "GET":
            token = request.cookies.get(resume_cookie)
            if token:
                with engine.connect() as conn:
                    found = find(conn, token)
                if found is not None and found.status == "DRAFT":
                    return redirect(page_url(token, found.current_page))
            return html(flow.start.render(start_key=secrets.token_urlsafe(24)))
        start_key = request.form.get("start_key", "")
        if request.form.get("consent") != "y" or not 0 < len(start_key) <= 64:
            abort(400)
        token = resume_token_for(secret, start_key)
        now = datetime.now(UTC)
        try:
            with engine.begin() as conn:
                response_id = conn.execute(
                    sa.insert(responses).returning(responses.c.id),
                    {
                        "questionnaire_id": target.questionnaire_id,
                        "version_id": target.version_id,
                        "status": "DRAFT",
                        "language": target.language,
                        "unit_id": None,
                        "channel": "WEB",
                        "is_preview": False,
                        "start_key": start_key,
                        "resume_digest": _sha256(token),
                        "receipt_digest": None,
                        "current_page": flow.order[0],
                        "started_at": now,
                        "updated_at": now,
                        "submitted_at": None,
                    },
                ).scalar_one()
                conn.execute(sa.insert(target.consent_records),
                             target.consent_row(response_id, now))
        except sa.exc.IntegrityError:
            pass  # the same start form twice (surveyapp returns the first draft): same token
        moved = redirect(page_url(token, flow.order[0]))
        moved.set_cookie(resume_cookie, token, max_age=30 * 86400, path=cookie_path,
                         httponly=True, samesite="Lax")
        return moved

    @app.get("/s/<slug_>/r/<token>/done")
    def done(slug_: str, token: str):
        if slug_ != slug:
            abort(404)
        with engine.connect() as conn:
            found = find(conn, token)
        if found is None:
            abort(404)
        if found.status == "DRAFT":
            return redirect(page_url(token, found.current_page))
        return html(flow.done.render(receipt=request.cookies.get("receipt", "")))

    @app.route("/s/<slug_>/r/<token>/<page_code>", methods=["GET", "POST"])
    def page(slug_: str, token: str, page_code: str):
        if slug_ != slug:
            abort(404)
        if page_code not in flow.next:
            abort(404)
        if request.method == "GET":
            with engine.connect() as conn:
                found = find(conn, token)
            if found is None:
                abort(404)
            if found.status != "DRAFT":
                return redirect(f"/s/{slug}/r/{token}/done")
            return html(flow.pages[page_code].render(token=token,
                                                     base=request.host_url.rstrip("/")))
        allowed = flow.stored_ids[page_code]
        posted = [row for row in target.answer_rows(request.form)
                  if row["question_id"] in allowed]
        replaced = flow.question_ids[page_code]
        next_code = flow.next[page_code]
        receipt = None
        now = datetime.now(UTC)
        with engine.begin() as conn:
            found = find(conn, token)
            if found is None:
                abort(404)
            if found.status != "DRAFT":
                return redirect(f"/s/{slug}/r/{token}/done")
            kept = [dict(row) for row in conn.execute(
                sa.select(*answer_columns).where(answers.c.response_id == found.id)
                .order_by(answers.c.id)).mappings()
                if row["question_id"] not in replaced]
            conn.execute(sa.delete(answers).where(answers.c.response_id == found.id))
            rows = [{"response_id": found.id, **row} for row in kept + posted]
            if rows:
                conn.execute(sa.insert(answers), rows)
            if next_code is not None:
                conn.execute(sa.update(responses).where(responses.c.id == found.id)
                             .values(current_page=next_code, updated_at=now))
            else:
                receipt = new_receipt_code()
                submitted = conn.execute(
                    sa.update(responses)
                    .where(responses.c.id == found.id, responses.c.status == "DRAFT")
                    .values(status="COMPLETE", submitted_at=now, updated_at=now,
                            receipt_digest=_sha256(receipt)))
                if submitted.rowcount != 1:
                    receipt = None
        if next_code is not None:
            return redirect(page_url(token, next_code))
        moved = redirect(f"/s/{slug}/r/{token}/done")
        if receipt is not None:
            moved.set_cookie("receipt", receipt, path=cookie_path, httponly=True,
                             samesite="Lax")
        moved.delete_cookie(resume_cookie, path=cookie_path)
        return moved

    return app
