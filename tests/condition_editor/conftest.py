"""A draft questionnaire to put conditions on, and a browser-like way to use the editor form."""

from __future__ import annotations

import copy
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from surveyapp.accounts.models import Role
from surveyapp.accounts.services import create_user
from surveyapp.db import db
from surveyapp.questionnaires.models import Page, Question
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.transfer import import_questionnaire
from tests.conftest import csrf_token


def _t(de: str, en: str) -> dict:
    return {"de": de, "en": en}


def _options(*pairs):
    return [{"code": code, "label": _t(de, en)} for code, de, en in pairs]


DRAFT = {
    "format": "surveyapp/1",
    "slug": "cond-draft",
    "base_language": "de",
    "languages": ["de", "en"],
    "title": _t("Bedingungen", "Conditions"),
    "consent": {"text": _t("Einverstanden?", "Agreed?")},
    "pages": [
        {"code": "p1", "title": _t("Mitgliedschaft", "Membership"), "questions": [
            {"code": "member", "type": "single_choice", "other": True, "prefer_not": True,
             "text": _t("Wie lange waren Sie Mitglied?", "How long were you a member?"),
             "options": _options(("short", "weniger als ein Jahr", "less than a year"),
                                 ("mid", "1\u20133 Jahre", "1\u20133 years"),
                                 ("long", "länger", "longer"))},
            {"code": "age", "type": "integer", "text": _t("Wie alt sind Sie?", "How old are you?")},
            {"code": "grid", "type": "matrix", "text": _t("Wie zufrieden?", "How satisfied?"),
             "options": _options(("lo", "wenig", "little"), ("hi", "sehr", "very")),
             "rows": _options(("r1", "Treffen", "Meetings"))},
            {"code": "note", "type": "short_text", "text": _t("Anmerkung?", "Remark?")},
        ]},
        {"code": "p2", "title": _t("Gründe", "Reasons"), "questions": [
            {"code": "topics", "type": "multiple_choice",
             "text": _t("Welche Themen?", "Which topics?"),
             "options": _options(("sport", "Sport", "Sport"), ("art", "Kunst", "Art"))},
            {"code": "why", "type": "long_text", "text": _t("Warum?", "Why?")},
        ]},
        {"code": "p3", "title": _t("Schluss", "End"), "questions": [
            {"code": "again", "type": "yes_no", "text": _t("Wieder?", "Again?")},
        ]},
    ],
}


@pytest.fixture
def draft(app):
    """A draft (never published) questionnaire; its slug."""
    import_questionnaire(copy.deepcopy(DRAFT))
    db.session.commit()
    return DRAFT["slug"]


def question(slug: str, code: str) -> Question:
    """A question of the questionnaire's latest version."""
    version = get_by_slug(slug).latest_version
    return db.session.scalars(sa.select(Question).filter_by(version_id=version.id, code=code)).one()


def page(slug: str, code: str) -> Page:
    """A page of the questionnaire's latest version."""
    version = get_by_slug(slug).latest_version
    return db.session.scalars(sa.select(Page).filter_by(version_id=version.id, code=code)).one()


def question_url(slug: str, code: str) -> str:
    return f"/staff/build/{slug}/questions/{question(slug, code).id}/condition"


def page_url(slug: str, code: str) -> str:
    return f"/staff/build/{slug}/pages/{page(slug, code).id}/condition"


def stored(slug: str, code: str, kind: str = "question"):
    """The condition in the database now (not the session's copy)."""
    db.session.expire_all()
    return (question(slug, code) if kind == "question" else page(slug, code)).show_if


def log_in(app, role: Role, email: str):
    """A client logged in as a new user with ``role`` (its CSRF token in ``client.csrf``)."""
    client = app.test_client()
    user, _ = create_user(email, role, "a long enough password")
    db.session.commit()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post("/staff/login", data={
        "csrf_token": token, "email": email, "password": "a long enough password"})
    assert response.status_code == 302
    client.csrf = token
    return client, user.id


class _EditorForm(HTMLParser):
    """What a browser would send from ``#condition-form``: (name, value) in document order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.inside = False
        self.fields: list[list] = []  # [name, value, kind]
        self.select: list | None = None
        self.selects: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form" and attrs.get("id") == "condition-form":
            self.inside = True
        if not self.inside:
            return
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append([attrs["name"], attrs.get("value", "on"), kind])
            else:
                self.fields.append([attrs["name"], attrs.get("value", ""), kind])
        elif tag == "select":
            self.select = [attrs["name"], None, "select"]
            self.fields.append(self.select)
            self.selects[attrs["name"]] = []
        elif tag == "option" and self.select is not None:
            self.selects[self.select[0]].append(attrs.get("value", ""))
            if self.select[1] is None or "selected" in attrs:
                self.select[1] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        if tag == "select":
            self.select = None


def editor_state(html: str) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """The editor form's values as a browser would send them, and every menu's offered values."""
    parser = _EditorForm()
    parser.feed(html)
    return [(name, value) for name, value, _kind in parser.fields], parser.selects


def press(client, url: str, html: str, button: tuple[str, str] = ("action", "save"),
          **changes):
    """Change fields (``rule_0_question="member"``, lists for checkboxes) and press a button."""
    fields, _ = editor_state(html)
    changes = {name.replace("_", "-", 2): value for name, value in changes.items()}
    kept = [(n, v) for n, v in fields if n not in changes]
    for name, value in changes.items():
        for one in value if isinstance(value, list) else [value]:
            kept.append((name, one))
    kept.append(button)
    return client.post(url, data=MultiDict(kept))
