"""The load generator: simulated respondents, bare-submit posters, and the page-weight probe.

Every simulated respondent is a fresh ``requests.Session`` (its own cookies) that behaves like a
browser without JavaScript: GET the start page, tick the consent box and POST, then GET each page,
fill in every visible field and POST with the form's own hidden values (``js`` stays empty), follow
the redirects until the thank-you page. Redirects are followed by hand so every request is counted.
The same respondents drive surveyapp and bare-flow (bare_flow.py), which serves surveyapp's pages.

Only 127.0.0.1 is ever contacted, and every loop is bounded by a count and a deadline.
"""

from __future__ import annotations

import gzip
import html as htmllib
import re
import secrets
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.formfiller import fill, parse_forms

#: Names a page form carries that are not answers (excluded from the bare endpoint's payload).
NOT_ANSWERS = {"csrf_token", "js", "shown", "nav", "lang", "consent", "consent_text_id",
               "start_key"}
MAX_STEPS = 40
TIMEOUT = 60
_INPUT = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r'([\w:-]+)\s*=\s*"([^"]*)"')


class FlowError(RuntimeError):
    """A respondent could not go on (unexpected status or page)."""


def only_loopback(url: str) -> str:
    """Refuse any address but 127.0.0.1: the load generator never leaves this machine."""
    if urlsplit(url).hostname != "127.0.0.1":
        raise ValueError(f"the benchmark only targets 127.0.0.1, not {url}")
    return url


@dataclass
class Stats:
    """What one load run observed; shared by the client threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    by_method: dict[str, list[float]] = field(default_factory=dict)
    flow_times: list[float] = field(default_factory=list)
    completed: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    #: Bytes the server sent (status line, headers and body as encoded on the wire).
    bytes_down: int = 0

    def request(self, method: str, status: int, seconds: float, nbytes: int = 0) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.latencies.append(seconds)
            self.by_method.setdefault(method, []).append(seconds)
            self.bytes_down += nbytes

    def finish(self, token: str, seconds: float) -> None:
        with self.lock:
            self.completed += 1
            self.tokens.append(token)
            self.flow_times.append(seconds)

    def fail(self, message: str) -> None:
        with self.lock:
            self.failed += 1
            if len(self.errors) < 20:
                self.errors.append(message)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def http_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status not in (200, 302))


def _hidden_inputs(html: str) -> dict[str, str]:
    """The hidden inputs of a page, read cheaply (used once the page's fields are known)."""
    values = {}
    for tag in _INPUT.findall(html):
        attrs = dict(_ATTR.findall(tag))
        if attrs.get("type", "").lower() == "hidden" and attrs.get("name"):
            values[attrs["name"]] = htmllib.unescape(attrs.get("value", ""))
    return values


class FormCache:
    """Remembers how the form filler filled each page, so the clients stay cheap.

    Parsing every page with the pure-Python form parser costs the client more CPU than the
    request itself, and the client shares the machine's cores with the server. A page is parsed
    fully the first time its set of fields (page code + the server's ``shown`` list) is seen;
    afterwards only its hidden inputs are read again (each page has its own CSRF token etc.).
    ``full=True`` parses every page (slower client, same requests).
    """

    def __init__(self, full: bool = False):
        self.full = full
        self.lock = threading.Lock()
        self.plans: dict[tuple, tuple[str | None, list[tuple[str, str | None]]]] = {}

    def form_data(self, key: str, html: str) -> tuple[str | None, list[tuple[str, str]]]:
        """(action, fields to post) for a page; hidden values always come from this page."""
        hidden = _hidden_inputs(html)
        plan_key = (key, hidden.get("shown"))
        plan = None if self.full else self.plans.get(plan_key)
        if plan is None:
            forms = [f for f in parse_forms(html) if f.method == "post"]
            if not forms:
                raise FlowError(f"no form on {key}")
            form = forms[0]
            hidden_names = {c.name for c in form.controls if c.type == "hidden"}
            # None marks a hidden field: its value is taken from each page afresh.
            plan = (form.action, [(n, None if n in hidden_names else v) for n, v in fill(form)])
            with self.lock:
                self.plans[plan_key] = plan
        action, items = plan
        return action, [(n, hidden.get(n, "") if v is None else v) for n, v in items]


def _timed(stats: Stats, call, *args, **kwargs) -> requests.Response:
    started = time.perf_counter()
    response = call(*args, allow_redirects=False, timeout=TIMEOUT, **kwargs)
    seconds = time.perf_counter() - started
    stats.request(call.__name__.upper(), response.status_code, seconds, _wire_bytes(response))
    return response


def _wire_bytes(response: requests.Response) -> int:
    """Bytes of a response as sent: status line, headers, and the body as encoded."""
    header = 17 + len(response.reason or "") + sum(
        len(k) + len(v) + 4 for k, v in response.headers.items())
    length = response.headers.get("Content-Length")
    return header + (int(length) if length is not None else len(response.content))


def respondent(base: str, slug: str, stats: Stats, cache: FormCache,
               record: list | None = None) -> None:
    """One complete response through surveyapp's pages; failures are counted, never raised.

    ``record`` (optional) receives (url, fields posted) for every POST.
    """
    began = time.perf_counter()
    session = requests.Session()
    url = only_loopback(f"{base}/s/{slug}")
    token = None
    try:
        page = _timed(stats, session.get, url)
        if page.status_code != 200:
            raise FlowError(f"GET start page: {page.status_code}")
        action, data = cache.form_data("start", page.text)
        posted = _timed(stats, session.post, urljoin(url, action or url), data=data)
        if record is not None:
            record.append((url, data))
        if posted.status_code != 302:
            raise FlowError(f"POST consent: {posted.status_code}")
        url = urljoin(url, posted.headers["Location"])
        token = url.split("/r/", 1)[1].split("/", 1)[0]
        for _step in range(MAX_STEPS):
            page = _timed(stats, session.get, url)
            if page.status_code == 302:
                url = urljoin(url, page.headers["Location"])
                continue
            if page.status_code != 200:
                raise FlowError(f"GET {urlsplit(url).path}: {page.status_code}")
            if url.endswith("/done"):
                stats.finish(token, time.perf_counter() - began)
                return
            code = url.rsplit("/", 1)[1]
            action, data = cache.form_data(code, page.text)
            posted = _timed(stats, session.post, urljoin(url, action or url), data=data)
            if record is not None:
                record.append((url, data))
            if posted.status_code != 302:
                raise FlowError(f"POST {urlsplit(url).path}: {posted.status_code}")
            url = urljoin(url, posted.headers["Location"])
        raise FlowError(f"no thank-you page after {MAX_STEPS} steps")
    except (FlowError, requests.RequestException, KeyError, IndexError) as error:
        stats.fail(f"{type(error).__name__}: {error}")
    finally:
        session.close()


def bare_poster(base: str, payload: list[tuple[str, str]], stats: Stats) -> None:
    """One complete response through the bare endpoint: a single POST with every answer."""
    began = time.perf_counter()
    session = requests.Session()
    token = secrets.token_urlsafe(24)
    try:
        response = _timed(stats, session.post, only_loopback(f"{base}/submit"),
                          data=[*payload, ("token", token)])
        if response.status_code != 200:
            raise FlowError(f"POST /submit: {response.status_code}")
        stats.finish(token, time.perf_counter() - began)
    except (FlowError, requests.RequestException) as error:
        stats.fail(f"{type(error).__name__}: {error}")
    finally:
        session.close()


def run_load(one, concurrency: int, max_count: int, duration: float) -> tuple[Stats, float, float]:
    """Run ``one(stats)`` from ``concurrency`` threads until ``max_count`` or ``duration``.

    A respondent that has started finishes (each is bounded by MAX_STEPS and TIMEOUT).
    Returns the stats, the wall time and the client's own CPU seconds.
    """
    stats = Stats()
    claimed = 0
    claim_lock = threading.Lock()
    deadline = time.monotonic() + duration

    def worker():
        nonlocal claimed
        while time.monotonic() < deadline:
            with claim_lock:
                if claimed >= max_count:
                    return
                claimed += 1
            one(stats)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    cpu_before = time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return stats, time.perf_counter() - started, time.process_time() - cpu_before


class _Subresources(HTMLParser):
    """Stylesheets, scripts, images and icons a browser would fetch on first load."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        rel = set(attrs.get("rel", "").lower().split())
        if tag == "link" and rel & {"stylesheet", "icon", "shortcut", "apple-touch-icon",
                                     "preload", "modulepreload", "manifest"}:
            self._add("link " + " ".join(sorted(rel)), attrs.get("href", ""))
        elif tag in ("script", "img", "iframe", "source", "audio", "video"):
            self._add(tag, attrs.get("src", ""))

    def _add(self, kind: str, url: str):
        if url and not url.startswith("data:"):
            self.urls.append((kind, url))


def _wire(response: requests.Response) -> dict:
    """Bytes of one response as sent: status line + headers, and the body as encoded."""
    header = f"HTTP/1.1 {response.status_code} {response.reason}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in response.headers.items()
    ) + "\r\n"
    length = response.headers.get("Content-Length")
    body = int(length) if length is not None else len(response.content)
    return {"header_bytes": len(header.encode("latin-1", "replace")), "body_bytes": body,
            "encoding": response.headers.get("Content-Encoding", "identity"),
            "gzip_estimate": len(gzip.compress(response.content, 6))}


def first_load(url: str, session: requests.Session | None = None) -> tuple[dict, str]:
    """Fetch a page and everything it references with an empty cache; sizes and counts.

    Cookies of ``session`` are used (a question page needs the respondent's session), but no
    HTTP cache: this is the weight of a first visit. Returns the report and the page's HTML.
    """
    only_loopback(url)
    session = session or requests.Session()
    headers = {"Accept-Encoding": "gzip, deflate", "Cache-Control": "no-cache"}
    page = session.get(url, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    if page.status_code != 200:
        raise FlowError(f"first load of {url}: {page.status_code}")
    parser = _Subresources()
    parser.feed(page.text)
    items = [{"kind": "html", "url": urlsplit(url).path, "status": page.status_code,
              **_wire(page)}]
    seen = set()
    for kind, ref in parser.urls:
        absolute = only_loopback(urljoin(url, ref))
        if absolute in seen:
            continue
        seen.add(absolute)
        sub = session.get(absolute, headers=headers, timeout=TIMEOUT)
        items.append({"kind": kind, "url": urlsplit(absolute).path, "status": sub.status_code,
                      **_wire(sub)})
    body = sum(i["body_bytes"] for i in items)
    headers_total = sum(i["header_bytes"] for i in items)
    scripts = [i for i in items if i["kind"] == "script"]
    return {
        "url": urlsplit(url).path,
        "page": urlsplit(url).path.rsplit("/", 1)[-1],
        "requests": len(items),
        "body_bytes": body,
        "header_bytes": headers_total,
        "total_bytes": body + headers_total,
        "gzip_estimate_bytes": sum(i["gzip_estimate"] for i in items) + headers_total,
        "compressed_by_server": any(i["encoding"] != "identity" for i in items),
        "script_bytes": sum(i["body_bytes"] for i in scripts),
        "items": items,
    }, page.text


def probe(base: str, slug: str) -> dict:
    """Walk one respondent slowly with a full form parse, weighing every page on the way.

    Returns the first-load weight of the start page and of each question page, the answers
    posted (the bare endpoint's payload), the resume token of the response it completed, and
    ``capture``: the HTML of every page as this respondent saw it (start page, question pages
    in the order visited, thank-you page) with the token and address it contains, which the
    bare-flow app (bare_flow.py) serves in place of rendering.
    """
    stats = Stats()
    session = requests.Session()
    url = only_loopback(f"{base}/s/{slug}")
    weights = []
    fetched = 1
    posted_by_page: dict[str, list[tuple[str, str]]] = {}
    weight, html = first_load(url, session)
    weights.append({**weight, "page": "start"})
    capture = {"base": base, "slug": slug, "start": html, "order": [], "pages": {}}
    form = next(f for f in parse_forms(html) if f.method == "post")
    posted = _timed(stats, session.post, urljoin(url, form.action or url), data=fill(form))
    if posted.status_code != 302:
        raise FlowError(f"probe: POST consent: {posted.status_code}")
    url = urljoin(url, posted.headers["Location"])
    token = url.split("/r/", 1)[1].split("/", 1)[0]
    for _step in range(MAX_STEPS):
        if url.endswith("/done"):
            weight, html = first_load(url, session)
            weights.append({**weight, "page": "done"})
            payload = [item for items in posted_by_page.values() for item in items]
            capture.update(token=token, done=html)
            return {"token": token, "weights": weights, "payload": payload,
                    "requests": stats.requests + fetched + 1, "capture": capture}
        weight, html = first_load(url, session)
        fetched += 1
        code = url.rsplit("/", 1)[1]
        if not any(w["page"] == code for w in weights):
            weights.append(weight)
        if code not in capture["pages"]:
            capture["order"].append(code)
            capture["pages"][code] = html
        form = next(f for f in parse_forms(html) if f.method == "post")
        data = fill(form)
        posted = _timed(stats, session.post, urljoin(url, form.action or url), data=data)
        if posted.status_code != 302:
            raise FlowError(f"probe: POST {code}: {posted.status_code}")
        posted_by_page[code] = [(n, v) for n, v in data if n not in NOT_ANSWERS]
        url = urljoin(url, posted.headers["Location"])
    raise FlowError(f"probe: no thank-you page after {MAX_STEPS} steps")
