"""Script payloads typed into every text field of the builder stay inert everywhere.

A builder plants markup and script in the title, introduction, thank-you text, page titles,
question texts and help, option, row and scale labels, the consent text and a consent box;
the questionnaire is published and answered; then every page, export and the PDF report that
shows those texts is checked: in HTML only escaped, in files only as plain text, never as
markup or a live link.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import zipfile

import pytest

from surveyapp.accounts.models import Role
from surveyapp.builder.services import draft_version
from surveyapp.db import db
from surveyapp.questionnaires.services import get_by_slug
from tests.builder.conftest import editor_form, login, page_forms
from tests.conftest import hidden_values
from tests.respondent import Respondent

SLUG = "payloads"
SCRIPT = "<script>alert(1)</script>"
IMAGE = '<img src=x onerror="alert(2)">'
LINK = "javascript:alert(3)"
TYPST = '#place(dx: 0pt)[#text("typst-ran")]'
ALL = f"{SCRIPT} {IMAGE} {LINK} {TYPST}"
#: What must never reach an HTML page unescaped.
RAW = ("<script>alert", "<img src=x", 'onerror="alert', "onerror=alert")
LIVE_LINK = re.compile(r"""(href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)


def assert_inert_html(html: str, where: str) -> None:
    """No payload as markup, no script link; the escaped payload itself is fine."""
    for raw in RAW:
        assert raw not in html, f"{where}: {raw!r} unescaped"
    assert not LIVE_LINK.search(html), f"{where}: a javascript: link"


def field_text(n: str) -> str:
    return f"{n} {ALL}"


@pytest.fixture
def planted(app):
    """A published one-language questionnaire with payloads in every builder text, answered."""
    client = login(app, "payload-builder@example.org", Role.BUILDER)
    response = client.post("/staff/build/new", data={
        "csrf_token": client.csrf, "how": "blank", "blank-title": "Titel", "blank-slug": SLUG,
        "blank-base_language": "de"})
    assert response.status_code == 302
    action, data = editor_form(client, SLUG, "/texts")
    client.post(action, data={**data, "texts-title": field_text("T"),
                              "texts-intro": field_text("I"),
                              "texts-thank_you": field_text("D")})
    version = draft_version(get_by_slug(SLUG))
    page_id = version.pages[0].id
    action, data = editor_form(client, SLUG, f"/pages/{page_id}")
    client.post(action, data={**data, "title": field_text("P"), "action": "rename"})
    for type_name in ("single_choice", "multiple_choice", "dropdown", "matrix", "rating",
                      "short_text"):
        action, data = editor_form(client, SLUG, f"/pages/{page_id}/questions")
        client.post(action, data={**data, "type": type_name, "text": field_text(type_name)})
    db.session.expire_all()
    for question in draft_version(get_by_slug(SLUG)).questions:
        action, data = editor_form(client, SLUG, f"/questions/{question.id}")
        for option in question.choices:
            kind = "row" if option.is_row else "option"
            data[f"{kind}-{option.id}-label"] = field_text(f"{kind}{option.id}")
        data["help"] = field_text("H")
        if question.type == "rating":
            data["setting-min_label"] = field_text("min")
            data["setting-max_label"] = field_text("max")
        response = client.post(action, data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    # The consent text and a further consent box, in the consent editor (settings).
    consent_url = f"/staff/questionnaires/{SLUG}/consent"
    consent_page = client.get(consent_url)
    assert consent_page.status_code == 200
    data = next(d for _a, d in page_forms(consent_page.get_data(as_text=True)) if "body" in d)
    data.update({"body": field_text("C"), "new-code": "news",
                 "new-label": field_text("purpose")})
    assert client.post(consent_url, data=data).status_code in (200, 302)
    response = client.post(f"/staff/build/{SLUG}/publish", data={"csrf_token": client.csrf})
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    questionnaire = get_by_slug(SLUG)
    questionnaire.min_group_size = 1
    db.session.commit()

    pages = {}
    codes = {q.type: q for q in questionnaire.published_version.questions}
    for number in range(2):
        respondent = Respondent(app.test_client(), SLUG, "de")
        start = respondent.client.get(f"/s/{SLUG}")
        pages["start"] = start.get_data(as_text=True)
        assert respondent.start().status_code == 302
        pages["page"] = respondent.page().get_data(as_text=True)
        choice, multiple, dropdown, matrix, rating, text = (
            codes[t] for t in ("single_choice", "multiple_choice", "dropdown", "matrix",
                               "rating", "short_text"))
        answers = {
            choice.code: choice.options[0].code, multiple.code: [multiple.options[1].code],
            dropdown.code: dropdown.options[0].code,
            f"{matrix.code}__{matrix.rows[0].code}": matrix.options[number].code,
            rating.code: "7", text.code: f"typed {ALL}"}
        sent = respondent.post(answers, follow=False)
        assert sent.status_code == 302, sent.get_data(as_text=True)[-2000:]
        pages["done"] = respondent.client.get(sent.headers["Location"]).get_data(as_text=True)
    pages["editor"] = client.get(f"/staff/build/{SLUG}").get_data(as_text=True)
    preview_start = client.get(f"/s/{SLUG}?preview=1")
    pages["preview"] = preview_start.get_data(as_text=True)
    started = client.post(f"/s/{SLUG}?preview=1",
                          data={**hidden_values(pages["preview"]), "consent": "y"})
    pages["preview page"] = client.get(started.headers["Location"]).get_data(as_text=True)
    pages["list"] = client.get("/staff/questionnaires/").get_data(as_text=True)
    pages["preview frame"] = client.get(f"/staff/build/{SLUG}/preview").get_data(as_text=True)
    return client, questionnaire, pages, codes


def test_respondent_builder_and_preview_pages_escape_every_text(app, planted):
    _client, _questionnaire, pages, _codes = planted
    for where, html in pages.items():
        assert_inert_html(html, where)
    # The texts are there, escaped, not dropped.
    assert "T &lt;script&gt;alert(1)&lt;/script&gt;" in pages["start"]
    assert "&lt;img src=x onerror=" in pages["page"]
    assert "D &lt;script&gt;" in pages["done"]
    assert "single_choice &lt;script&gt;" in pages["page"]
    assert "min &lt;script&gt;" in pages["page"]
    assert "C &lt;script&gt;" in pages["start"]  # the consent text
    assert "purpose &lt;script&gt;" in pages["start"]  # a further consent box


def test_results_and_texts_pages_escape_every_text(app, planted):
    client, _questionnaire, _pages, codes = planted
    results = client.get(f"/staff/results/{SLUG}")
    assert results.status_code == 200
    html = results.get_data(as_text=True)
    assert_inert_html(html, "results")
    assert "&lt;script&gt;" in html
    texts = client.get(f"/staff/results/{SLUG}/texts/{codes['short_text'].code}")
    assert texts.status_code == 200
    assert_inert_html(texts.get_data(as_text=True), "texts page")
    assert "typed &lt;script&gt;" in texts.get_data(as_text=True)
    crosstab = client.get(f"/staff/results/{SLUG}/crosstab?row={codes['single_choice'].code}"
                          f"&col={codes['dropdown'].code}")
    assert_inert_html(crosstab.get_data(as_text=True), "crosstab")


def test_exports_hold_the_texts_only_as_plain_data(app, planted):
    client, _questionnaire, _pages, _codes = planted
    for fmt, kind in (("csv", "text/csv"), ("json", "application/json"),
                      ("xlsx", "application/vnd.openxmlformats")):
        response = client.get(f"/staff/results/{SLUG}/export.{fmt}?labels=1&free_text=1")
        assert response.status_code == 200, fmt
        assert response.headers["Content-Type"].startswith(kind), fmt
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "attachment" in response.headers["Content-Disposition"]
        body = response.get_data()
        response.close()
        if fmt == "xlsx":
            with zipfile.ZipFile(io.BytesIO(body)) as book:
                body = b"".join(book.read(n) for n in book.namelist() if n.endswith(".xml"))
            assert b"<script>" not in body  # XML-escaped inside the sheet
            assert b"&lt;script&gt;" in body
        elif fmt == "json":
            data = json.loads(body)
            assert SCRIPT in json.dumps(data, ensure_ascii=False)  # plain data, as typed
        else:
            text = body.decode("utf-8-sig")
            # No cell starts a formula; the payload is a plain value.
            assert not re.search(r'(^|,)"?[=+@]', text, re.M)
            assert "typed <script>" in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_pdf_report_prints_the_texts_as_text(app, planted, tmp_path):
    client, _questionnaire, _pages, _codes = planted
    response = client.get(f"/staff/results/{SLUG}/report.pdf?free_text=1")
    assert response.status_code == 200
    path = tmp_path / "report.pdf"
    path.write_bytes(response.get_data())
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          check=True, text=True).stdout
    flat = re.sub(r"\s+", " ", text)
    assert "<script>alert(1)</script>" in flat  # printed as the letters typed
    assert 'text("typst-ran")' in flat  # Typst markup is printed, not run
    assert flat.count("typst-ran") == flat.count('text("typst-ran")')
