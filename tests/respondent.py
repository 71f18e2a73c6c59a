"""A scripted respondent for tests: starts a questionnaire and answers pages by code."""

from __future__ import annotations

from tests.conftest import hidden_values
from tests.formfiller import fill, parse_forms


class Respondent:
    """Drives the respondent pages through a Flask test client."""

    def __init__(self, client, slug: str, lang: str = "en"):
        self.client = client
        self.slug = slug
        self.lang = lang
        self.url: str | None = None

    def start(self, consent: bool = True, **override):
        """Open the start page and post the consent form; return the response."""
        page = self.client.get(f"/s/{self.slug}?lang={self.lang}")
        assert page.status_code == 200, page.status_code
        data = hidden_values(page.get_data(as_text=True))
        if consent:
            data["consent"] = "y"
        data.update(override)
        from werkzeug.datastructures import MultiDict

        items = [(k, x) for k, v in data.items() for x in (v if isinstance(v, list) else [v])]
        response = self.client.post(f"/s/{self.slug}?lang={self.lang}", data=MultiDict(items))
        if response.status_code == 302:
            self.url = response.headers["Location"]
        return response

    def page(self):
        """GET the current page."""
        return self.client.get(self.url)

    def post(self, answers: dict | list, nav: str = "next", follow: bool = True):
        """Post answers to the current page (hidden fields are taken from the page)."""
        html = self.page().get_data(as_text=True)
        data = hidden_values(html)
        data["nav"] = nav
        if isinstance(answers, dict):
            answers = list(answers.items())
        items = list(data.items())
        for name, value in answers:
            if isinstance(value, list | tuple):
                items.extend((name, v) for v in value)
            else:
                items.append((name, value))
        response = self.client.post(self.url, data=_multidict(items))
        if response.status_code == 302 and follow:
            self.url = response.headers["Location"]
        return response

    def fill_current(self):
        """Fill the current page as the generic form filler would and press its first button."""
        html = self.page().get_data(as_text=True)
        form = next(f for f in parse_forms(html) if f.method == "post")
        response = self.client.post(self.url, data=_multidict(fill(form)))
        if response.status_code == 302:
            self.url = response.headers["Location"]
        return response

    def last_page_data(self, max_pages: int = 30):
        """Walk to the last page and return what a browser with the page script would send."""
        for _ in range(max_pages):
            html = self.page().get_data(as_text=True)
            if "Send answers" in html:
                form = next(f for f in parse_forms(html) if f.method == "post")
                return _multidict([(k, "1" if k == "js" else v) for k, v in fill(form)])
            self.fill_current()
        raise AssertionError("did not reach the last page")

    def complete(self, max_pages: int = 30):
        """Fill every page until the thank-you page; return its HTML."""
        for _ in range(max_pages):
            if self.url.endswith(("/done", "/thanks")):
                return self.page().get_data(as_text=True)
            response = self.fill_current()
            if response.status_code not in (200, 302):
                raise AssertionError(
                    f"{self.url}: {response.status_code}\n{response.get_data(as_text=True)}"
                )
        raise AssertionError("did not reach the end")


def _multidict(items):
    from werkzeug.datastructures import MultiDict

    return MultiDict(items)
