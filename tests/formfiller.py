"""A form-filling client that knows nothing of surveyapp: it reads HTML as a browser would.

It finds the first POST form on a page, fills every visible field it finds with a value that
respects the field's own HTML constraints, and presses the form's first submit button. Tests
use it to walk questionnaires end to end, the way an outside checker would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser


@dataclass
class Control:
    """One form control as parsed from HTML."""

    tag: str
    attrs: dict[str, str]
    hidden: bool
    options: list[str] = field(default_factory=list)
    text: str = ""

    @property
    def name(self) -> str:
        return self.attrs.get("name", "")

    @property
    def type(self) -> str:
        return self.attrs.get("type", "text" if self.tag == "input" else self.tag).lower()


@dataclass
class Form:
    """A parsed form: where it posts and its controls in document order."""

    action: str | None
    method: str
    controls: list[Control] = field(default_factory=list)
    group_bounds: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)


class _FormParser(HTMLParser):
    VOID = {"input", "br", "img", "meta", "link", "hr", "col", "area", "base", "source", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.stack: list[tuple[str, bool, dict]] = []  # (tag, hidden, attrs)
        self.current: Form | None = None
        self.select: Control | None = None
        self.textarea: Control | None = None

    def _hidden(self) -> bool:
        return any(h for _t, h, _a in self.stack)

    def _bounds(self) -> tuple[int | None, int | None]:
        for _tag, _h, attrs in reversed(self.stack):
            if "data-min-selections" in attrs or "data-max-selections" in attrs:
                low, high = attrs.get("data-min-selections"), attrs.get("data-max-selections")
                return (int(low) if low else None, int(high) if high else None)
        return (None, None)

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        hidden = "hidden" in attrs
        if tag == "form":
            self.current = Form(attrs.get("action"), attrs.get("method", "get").lower())
            self.forms.append(self.current)
        elif self.current is not None and tag in ("input", "button", "select", "textarea"):
            control = Control(tag, attrs, self._hidden() or hidden)
            self.current.controls.append(control)
            if tag == "select":
                self.select = control
            if tag == "textarea":
                self.textarea = control
            bounds = self._bounds()
            if bounds != (None, None) and control.name:
                self.current.group_bounds[control.name] = bounds
        elif tag == "option" and self.select is not None:
            self.select.options.append(attrs.get("value", ""))
        if tag not in self.VOID:
            self.stack.append((tag, hidden, attrs))

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        if tag == "select":
            self.select = None
        if tag == "textarea":
            self.textarea = None
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea.text += data


def parse_forms(html: str) -> list[Form]:
    """Every form of a page."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def _number_for(attrs: dict[str, str]) -> str:
    low = float(attrs["min"]) if attrs.get("min") else None
    high = float(attrs["max"]) if attrs.get("max") else None
    value = 3.0
    if low is not None and value < low:
        value = low
    if high is not None and value > high:
        value = high
    if attrs.get("step") == "any":
        return f"{value:.1f}"
    return str(int(value))


def _date_for(attrs: dict[str, str]) -> str:
    low, high = attrs.get("min"), attrs.get("max")
    if low:
        return low
    if high:
        return high
    return date(2024, 5, 17).isoformat()


def fill(form: Form, text: str = "Beispieltext") -> list[tuple[str, str]]:
    """Values for every control, as a browser would send them after a person filled them in.

    Visible radio groups get their first choice that is not a reserved code, checkbox groups
    their first allowed number of boxes, text inputs a value matching their type and bounds.
    Hidden inputs keep their value; "prefer not to answer"-style boxes are left alone.
    """
    data: list[tuple[str, str]] = []
    done_groups: set[str] = set()
    for control in form.controls:
        name, kind = control.name, control.type
        if not name or kind in ("submit", "button", "reset", "image"):
            continue
        if kind == "hidden":
            data.append((name, control.attrs.get("value", "")))
            continue
        if control.hidden:
            continue
        if kind == "radio":
            if name in done_groups:
                continue
            group = [c for c in form.controls if c.name == name and c.type == "radio"]
            preferred = [c for c in group if not c.attrs.get("value", "").startswith("_")]
            data.append((name, (preferred or group)[0].attrs.get("value", "")))
            done_groups.add(name)
        elif kind == "checkbox":
            if name in done_groups:
                continue
            group = [c for c in form.controls if c.name == name and c.type == "checkbox"]
            if name.endswith("__pna"):
                done_groups.add(name)
                continue
            low, high = form.group_bounds.get(name, (None, None))
            preferred = [c for c in group if not c.attrs.get("value", "").startswith("_")]
            count = max(low or 1, 1)
            if high is not None:
                count = min(count, high)
            if len(group) == 1 and not preferred:
                preferred = group
            data.extend((name, c.attrs.get("value", "on")) for c in preferred[:count])
            done_groups.add(name)
        elif control.tag == "select":
            options = [o for o in control.options if o and not o.startswith("_")]
            data.append((name, options[0] if options else ""))
        elif control.tag == "textarea":
            data.append((name, text))
        elif kind == "number":
            data.append((name, _number_for(control.attrs)))
        elif kind == "date":
            data.append((name, _date_for(control.attrs)))
        elif kind == "email":
            data.append((name, "person@example.org"))
        else:
            limit = int(control.attrs.get("maxlength") or 200)
            data.append((name, text[:limit]))
    button = next(
        (c for c in form.controls if c.type == "submit" and not c.hidden and c.name), None
    )
    if button is not None:
        data.append((button.name, button.attrs.get("value", "")))
    return data
