"""Browser tests: the respondent pages in Debian's Chromium, driven by Playwright on a phone.

Every test in this folder is marked ``browser``. Without /usr/bin/chromium (or without the
Playwright package) the folder is skipped, unless SURVEYAPP_REQUIRE_BROWSER is set: then the
tests fail instead, so a CI machine cannot silently lose them. No browser is ever downloaded.

The app runs on a fresh SQLite file database (the rest of the suite covers PostgreSQL), served
by Werkzeug in a daemon thread, with the demo questionnaires loaded.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from pathlib import Path

import pytest

#: Debian's Chromium; never downloaded. SURVEYAPP_CHROMIUM may point elsewhere (same rules).
CHROMIUM = Path(os.environ.get("SURVEYAPP_CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Generous: the machine has two cores and other work runs beside the tests.
TIMEOUT_MS = 15_000
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent.parent
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"


def _missing_browser() -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    if not CHROMIUM.exists():
        return f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the Playwright package is not installed (pip install -e '.[test]')"
    return None


def _in_this_folder(item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(config, items):
    """Mark every test here ``browser``; skip them all when there is no browser to drive."""
    missing = _missing_browser()
    for item in items:
        if not _in_this_folder(item):
            continue
        item.add_marker(pytest.mark.browser)
        if missing and not os.environ.get("SURVEYAPP_REQUIRE_BROWSER"):
            item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {missing}"))


def _require_browser() -> None:
    missing = _missing_browser()
    if missing:
        pytest.fail(f"{missing}, but SURVEYAPP_REQUIRE_BROWSER is set")


# --------------------------------------------------------------------------------------------
# The application, served for real


def _compile_catalogues(target: Path) -> Path:
    """Compile translations/*.po into ``target`` so the pages show what an install would.

    The .mo files are build products (``make translations``); compiling our own copy keeps these
    tests independent of whether that step ran, and leaves the working tree alone.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in sorted((PROJECT_ROOT / "translations").glob("*/LC_MESSAGES/messages.po")):
        out = target / po.relative_to(PROJECT_ROOT / "translations").with_suffix(".mo")
        out.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as source:
            catalogue = read_po(source)
        with out.open("wb") as sink:
            write_mo(sink, catalogue)
    return target


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The application on a fresh, migrated SQLite file holding the demo content."""
    _require_browser()
    from tests.conftest import demo_app

    workdir = tmp_path_factory.mktemp("browser-app")
    catalogues = _compile_catalogues(workdir / "translations")
    yield from demo_app("sqlite", None, workdir, url=f"sqlite:///{workdir / 'browser.sqlite'}",
                        BABEL_TRANSLATION_DIRECTORIES=str(catalogues))


class Network:
    """WSGI middleware standing for the phone's network: POSTs can be made slow on purpose.

    ``post_delay`` seconds pass before the app sees a POST, the way a form sent over a poor
    mobile connection arrives late, so that a second tap can happen while the first is on its way.
    """

    def __init__(self, app):
        self.app = app
        self.post_delay = 0.0
        self.posts: list[str] = []

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST":
            self.posts.append(environ.get("PATH_INFO", ""))
            if self.post_delay:
                time.sleep(self.post_delay)
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def _network(live_app):
    return Network(live_app.wsgi_app)


@pytest.fixture(scope="session")
def live_server(live_app, _network):
    """Base URL of the app served by Werkzeug in a daemon thread (``http://127.0.0.1:PORT``)."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, code="-", size="-"):
            """Errors are still logged; the access log of every request is not."""

    live_app.wsgi_app = _network
    server = make_server("127.0.0.1", 0, live_app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="surveyapp-live", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture
def network(_network):
    """The server's network: set ``post_delay`` to slow POSTs down; ``posts`` lists them."""
    _network.post_delay = 0.0
    _network.posts.clear()
    yield _network
    _network.post_delay = 0.0


# --------------------------------------------------------------------------------------------
# Chromium and phone-sized contexts


@pytest.fixture(scope="session")
def chromium():
    """One headless Debian Chromium for the whole run."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def locale():
    """The phone's language; override with ``@pytest.mark.parametrize("locale", ["ar"])``."""
    return "de-DE"


class PhoneFactory:
    """Makes phone-sized browser contexts and checks afterwards that no page script failed."""

    def __init__(self, browser):
        self.browser = browser
        self.contexts = []
        self.page_errors: list[str] = []

    def __call__(self, locale: str, javascript: bool = True):
        context = self.browser.new_context(
            **PHONE, locale=locale, java_script_enabled=javascript
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        context.on("page", self._watch)
        self.contexts.append(context)
        return context

    def _watch(self, page):
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: self._console(page, message))

    def _console(self, page, message):
        # A page with answers to correct is sent with status 422 on purpose; Chromium logs it.
        if message.type == "error" and "status of 422" not in message.text:
            self.page_errors.append(f"{page.url}: console: {message.text}")

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def new_phone(chromium):
    """A factory: ``new_phone(locale, javascript=True)`` gives a fresh phone context."""
    factory = PhoneFactory(chromium)
    yield factory
    factory.close()
    assert not factory.page_errors, "errors in the browser console:\n" + "\n".join(
        factory.page_errors
    )


@pytest.fixture
def phone(new_phone, locale):
    """A page in a fresh phone context (390x844, touch, scripts on) in ``locale``."""
    return new_phone(locale).new_page()


@pytest.fixture
def phone_nojs(new_phone, locale):
    """The same phone with JavaScript switched off."""
    return new_phone(locale, javascript=False).new_page()


@pytest.fixture(scope="session")
def screenshots():
    """Folder for full-page screenshots (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
