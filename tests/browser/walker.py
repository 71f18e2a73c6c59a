"""Helpers that drive the respondent pages in a real browser the way a person on a phone would.

``fill_visible`` knows nothing about a particular questionnaire: it reads the page's questions
(``.question`` boxes that are not hidden) and answers each by its ``data-type`` within the
constraints the markup states (``min``/``max``, ``data-min-selections``/``data-max-selections``,
reserved ``_`` codes such as "prefer not to answer" are avoided). With the page script on, an
answer can reveal another question at once, so it repeats until nothing new appears.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from playwright.sync_api import Page, expect

PHONE_WIDTH = 390
RECEIPT = re.compile(r"^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$")
TEXT = {"ar": "نص تجريبي للاختبار", "de": "Beispieltext zum Testen"}
ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


# --------------------------------------------------------------------------------------------
# Looking at a page


def page_code(page: Page) -> str:
    """The last path segment: a page code, ``done``/``thanks``, or the slug on the start page."""
    return page.url.split("?")[0].split("#")[0].rstrip("/").rsplit("/", 1)[-1]


def is_done(page: Page) -> bool:
    return page_code(page) in ("done", "thanks")


def token_of(page: Page) -> str:
    match = re.search(r"/r/([^/]+)/", page.url)
    assert match, f"no response token in {page.url}"
    return match.group(1)


def assert_language(page: Page, lang: str, direction: str) -> None:
    expect(page.locator(f"html[lang='{lang}'][dir='{direction}']")).to_have_count(1)


_OUTSIDE = """(limit) => {
    const skip = e => e.closest('.skip-link, .visually-hidden');
    return Array.from(document.querySelectorAll('body *'))
        .filter(e => { const r = e.getBoundingClientRect();
                       return r.width > 0 && r.height > 0 && !skip(e)
                              && (r.right > limit + 0.5 || r.left < -0.5); })
        .slice(0, 8)
        .map(e => { const r = e.getBoundingClientRect();
                    const cls = typeof e.className === 'string' && e.className.trim()
                                ? '.' + e.className.trim().split(/\\s+/).join('.') : '';
                    return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + cls
                           + ' [' + Math.round(r.left) + ', ' + Math.round(r.right) + ']'; });
}"""


def assert_fits_phone(page: Page) -> None:
    """No horizontal scrolling at 390 px, and nothing cut off at either edge.

    In right-to-left pages content sticking out on the right cannot be scrolled to at all, so
    besides the scroll width every laid-out element must lie within the viewport (the skip link
    and visually hidden texts are off-screen on purpose).
    """
    page.evaluate("window.scrollTo(0, window.scrollY)")
    width = page.evaluate("document.scrollingElement.scrollWidth")
    outside = page.evaluate(_OUTSIDE, PHONE_WIDTH)
    if width > PHONE_WIDTH or outside:
        raise AssertionError(
            f"{page.url}: page is {width}px wide at a {PHONE_WIDTH}px viewport; "
            f"outside the screen: {outside}"
        )


@dataclass
class Progress:
    value: int
    total: int
    label: str


def progress(page: Page) -> Progress:
    bar = page.locator(".progress progress")
    expect(bar).to_have_count(1)
    value, total = bar.evaluate("p => [p.value, p.max]")
    label = page.locator("#progress-label").inner_text().strip()
    return Progress(int(value), int(total), label)


def assert_progress_consistent(state: Progress) -> None:
    assert 1 <= state.value <= state.total, state
    for number in (state.value, state.total):
        written = {str(number), str(number).translate(ARABIC_DIGITS)}
        assert any(w in state.label for w in written), (
            f"progress label {state.label!r} does not name {number}"
        )


def visible_codes(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "#page-form .question:not([hidden])", "boxes => boxes.map(b => b.dataset.code)"
    )


def nav_button(page: Page, nav: str):
    return page.locator(f"#page-form .nav-buttons button[name='nav'][value='{nav}']")


def screenshot(page: Page, folder, name: str) -> None:
    if folder is not None:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


# --------------------------------------------------------------------------------------------
# Acting on a page


def start(page: Page, base: str, slug: str, lang: str, direction: str, *, shots=None,
          shot_name: str | None = None) -> None:
    """Open the start page in ``lang``, tick the consent box and press Start."""
    page.goto(f"{base}/s/{slug}?lang={lang}")
    assert_language(page, lang, direction)
    assert_fits_phone(page)
    consent = page.locator("#consent")
    expect(consent).not_to_be_checked()
    screenshot(page, shots, shot_name or f"{lang}-{slug}-00-start")
    consent.check()
    with page.expect_navigation():
        page.locator("form.stack button[type='submit'].primary").click()
    assert "/r/" in page.url, f"Start did not lead to a question page: {page.url}"
    assert_language(page, lang, direction)


def press(page: Page, nav: str = "next") -> None:
    """Press Next/Send (``next``) or Back (``back``) and wait for the next page to load."""
    with page.expect_navigation():
        nav_button(page, nav).click()


def _first_real(values: list[str]) -> list[int]:
    return [i for i, v in enumerate(values) if not v.startswith("_")]


def fill_question(page: Page, code: str, text: str) -> None:
    """Answer one visible question by its type, within the limits its markup states."""
    box = page.locator(f"#q-{code}")
    kind = box.get_attribute("data-type")
    if kind in ("single_choice", "yes_no", "rating"):
        radios = box.locator(f"input[type='radio'][name='{code}']")
        values = [radios.nth(i).get_attribute("value") for i in range(radios.count())]
        radios.nth(_first_real(values)[0]).check()
    elif kind == "matrix":
        names = box.locator("input[type='radio']").evaluate_all(
            "els => [...new Set(els.map(e => e.name))]"
        )
        for name in names:
            radios = box.locator(f"input[type='radio'][name='{name}']")
            values = [radios.nth(i).get_attribute("value") for i in range(radios.count())]
            radios.nth(_first_real(values)[0]).check()
    elif kind == "multiple_choice":
        fieldset = box.locator("fieldset").first
        low = int(fieldset.get_attribute("data-min-selections") or 1)
        high = fieldset.get_attribute("data-max-selections")
        count = max(low, 1) if high is None else min(max(low, 1), int(high))
        boxes = box.locator(f"input[type='checkbox'][name='{code}']")
        values = [boxes.nth(i).get_attribute("value") for i in range(boxes.count())]
        for index in _first_real(values)[:count]:
            boxes.nth(index).check()
    elif kind == "dropdown":
        select = box.locator("select")
        options = select.locator("option").evaluate_all("os => os.map(o => o.value)")
        select.select_option(next(v for v in options if v and not v.startswith("_")))
    elif kind in ("integer", "decimal"):
        field_ = box.locator(f"#f-{code}")
        low, high = field_.get_attribute("min"), field_.get_attribute("max")
        value = 3.0
        if low is not None:
            value = max(value, float(low))
        if high is not None:
            value = min(value, float(high))
        field_.fill(f"{value:g}")
    elif kind == "date":
        field_ = box.locator(f"#f-{code}")
        field_.fill(field_.get_attribute("min") or field_.get_attribute("max") or "2024-05-17")
    elif kind == "email":
        box.locator(f"#f-{code}").fill("person@example.org")
    elif kind in ("short_text", "long_text"):
        field_ = box.locator(f"#f-{code}")
        limit = int(field_.get_attribute("maxlength") or 200)
        field_.fill(text[:limit])
    else:
        raise AssertionError(f"unknown question type {kind!r} of {code}")


def fill_visible(page: Page, text: str | None = None) -> list[str]:
    """Answer every visible question; return the codes answered, in order."""
    lang = page.locator("html").get_attribute("lang") or "de"
    text = text or TEXT.get(lang, TEXT["de"])
    answered: list[str] = []
    for _ in range(10):
        todo = [c for c in visible_codes(page) if c not in answered]
        if not todo:
            return answered
        for code in todo:
            fill_question(page, code, text)
            answered.append(code)
    raise AssertionError("questions kept appearing")


# --------------------------------------------------------------------------------------------
# A whole questionnaire


@dataclass
class Walk:
    """What happened on the way through a questionnaire."""

    pages: list[str] = field(default_factory=list)
    progress: list[Progress] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    receipt: str | None = None


def complete(page: Page, *, lang: str, direction: str, javascript: bool, shots=None,
             prefix: str = "", max_steps: int = 20) -> Walk:
    """Fill every page until the thank-you page, checking each page on the way.

    Checks: language and direction, no horizontal scrolling, progress moving forward by one
    page per Next and ending at the last page, no error summary for a generically filled page.
    With the page script off, conditional questions appear after Next with a notice: they are
    then filled and Next pressed again (with the script on that must never happen).
    """
    walk = Walk()
    for _ in range(max_steps):
        if is_done(page):
            break
        assert_language(page, lang, direction)
        assert_fits_phone(page)
        expect(page.locator("#error-summary")).to_have_count(0)
        state = progress(page)
        assert_progress_consistent(state)
        code = page_code(page)
        revisit = bool(walk.pages) and walk.pages[-1] == code
        if not revisit:
            if walk.progress:
                assert state.value == walk.progress[-1].value + 1, (walk.progress, state)
            walk.pages.append(code)
            walk.progress.append(state)
        fill_visible(page)
        number = len(walk.pages)
        suffix = "-notice" if revisit else ""
        screenshot(page, shots, f"{prefix}-{number:02d}-{code}{suffix}")
        press(page, "next")
        if not is_done(page) and page_code(page) == code:
            notice = page.locator(".notice[role='status']")
            assert not javascript, (
                f"{code}: with the page script on, Next stayed on the page "
                f"({notice.all_inner_texts()} / errors: "
                f"{page.locator('#error-summary').all_inner_texts()})"
            )
            expect(notice).to_be_visible()
            walk.notices.append(code)
    else:
        raise AssertionError(f"did not reach the thank-you page: {walk.pages}")
    assert walk.progress, "no question page was shown"
    last = walk.progress[-1]
    assert last.value == last.total, f"the last page said {last.label!r}"
    assert_language(page, lang, direction)
    assert_fits_phone(page)
    code = page.locator(".receipt-code code")
    expect(code).to_be_visible()
    walk.receipt = code.inner_text().strip()
    assert RECEIPT.match(walk.receipt), walk.receipt
    screenshot(page, shots, f"{prefix}-{len(walk.pages) + 1:02d}-done")
    return walk


def advance_until(page: Page, reached, max_steps: int = 12) -> None:
    """Fill and press Next until ``reached(page)`` is true (checking each page fits)."""
    for _ in range(max_steps):
        assert_fits_phone(page)
        if reached(page):
            return
        assert not is_done(page), "reached the end before the wanted page"
        fill_visible(page)
        press(page, "next")
    raise AssertionError(f"never reached the wanted page; stuck at {page.url}")
