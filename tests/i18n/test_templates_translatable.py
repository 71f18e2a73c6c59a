"""Every word a template shows goes through gettext: no literal text in templates."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

TEMPLATES = sorted(Path(__file__).parents[2].joinpath("surveyapp").glob("**/templates/**/*.html"))
#: Words that are names, not language, and attribute names that macros print as text.
ALLOWED = {"surveyapp", "required", "checked", "selected", "hidden", "aria", "describedby"}
SHOWN_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label"}
SHOWN_VALUE_TYPES = {"submit", "button", "reset"}
JINJA = re.compile(r"{#.*?#}|{%.*?%}|{{.*?}}", re.S)


class _TextFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        shown = set(SHOWN_ATTRIBUTES)
        if tag == "input" and dict(attrs).get("type") in SHOWN_VALUE_TYPES:
            shown.add("value")
        for name, value in attrs:
            if name in shown and value and _words(value):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip and _words(data):
            self.found.append(data.strip())


def _words(text: str) -> list[str]:
    text = re.sub(r'[\w-]+="[^"]*"', " ", text)
    return [w for w in re.findall(r"[^\W\d_]{2,}", text) if w.lower() not in ALLOWED]


def test_templates_exist():
    assert len(TEMPLATES) > 10


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_no_untranslated_literal_text(path):
    # Replace Jinja by a neutral marker so that text inside {{ _("...") }} is not seen.
    source = JINJA.sub(" 0 ", path.read_text(encoding="utf-8"))
    finder = _TextFinder()
    finder.feed(source)
    assert finder.found == [], f"{path.name}: literal text {finder.found}"
