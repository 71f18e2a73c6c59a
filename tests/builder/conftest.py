"""Helpers for the builder tests: staff clients of each role and the editor's forms."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from surveyapp.accounts.models import Role
from surveyapp.accounts.services import create_user
from surveyapp.db import db
from surveyapp.questionnaires.services import get_by_slug
from tests.conftest import csrf_token


def login(app, email: str, role: Role):
    """A client logged in as a new account with ``role``; ``client.csrf`` holds a token."""
    user, _ = create_user(email, role, "a long enough password")
    user_id = user.id
    db.session.commit()
    client = app.test_client()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post("/staff/login", data={"csrf_token": token, "email": email,
                                                 "password": "a long enough password"})
    assert response.status_code == 302
    client.csrf = token
    client.user_id = user_id
    return client


@pytest.fixture
def builder(app):
    """A client logged in as a builder."""
    return login(app, "builder@example.org", Role.BUILDER)


def start_from_template(client, template: str = "exit-survey", slug: str = "my-exit"):
    """Start a questionnaire from a demo template; return it."""
    response = client.post("/staff/build/new", data={
        "csrf_token": client.csrf, "how": "template", "template-template": template,
        "template-slug": slug})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    db.session.commit()  # ends this session's read transaction: it sees the request's commit
    return get_by_slug(slug)


class _Forms(HTMLParser):
    """Every form of a page with what a browser would send (no button pressed)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, list[list[str]]]] = []
        self.select: str | None = None
        self.textarea: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append((attrs.get("action", ""), []))
        elif not self.forms:
            return
        fields = self.forms[-1][1]
        if tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            fields.append([attrs["name"], attrs.get("value", "" if kind not in (
                "checkbox", "radio") else "on")])
        elif tag == "select":
            self.select = attrs.get("name")
        elif tag == "option" and self.select and "selected" in attrs:
            fields.append([self.select, attrs.get("value", "")])
        elif tag == "textarea" and attrs.get("name"):
            self.textarea = [attrs["name"], ""]
            fields.append(self.textarea)

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        if tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data


def page_forms(html: str) -> list[tuple[str, dict]]:
    """``[(action, {name: value})]`` for every form of a page (last value of a name wins)."""
    parser = _Forms()
    parser.feed(html)
    result = []
    for action, fields in parser.forms:
        data: dict[str, str] = {}
        for name, value in fields:
            data[name] = value
        result.append((action, data))
    return result


def editor_form(client, slug: str, action_part: str, index: int = 0) -> tuple[str, dict]:
    """The editor's ``index``-th form whose action contains ``action_part``.

    A question's own form is on the page only while it is open: it is opened first.
    """
    opened = re.match(r"^/questions/(\d+)$", action_part)
    query = f"?open={opened.group(1)}" if opened else ""
    html = client.get(f"/staff/build/{slug}{query}").get_data(as_text=True)
    matches = [(a, d) for a, d in page_forms(html)
               if action_part in a and (not opened or a.endswith(action_part))]
    assert matches, f"no form posting to {action_part}"
    return matches[index]
