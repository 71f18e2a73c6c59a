"""Charts of results as standalone SVG text, for the results page (inline) and the PDF report.

Drawn with matplotlib's ``Figure`` (never pyplot: no global figure state in a server) at a
fixed size with fixed margins (no ``tight_layout``, which measures every text and costs about a
third of the time). Text stays text (``svg.fonttype: none``): whoever displays the SVG (a
browser, or typst for the PDF) shapes Arabic and Farsi, lays out right-to-left runs and picks
the Ethiopic font, so labels in every script come out right and stay searchable. Every value a
chart shows is also written next to it (bar labels), so no meaning rests on colour alone.
"""

from __future__ import annotations

import hashlib
import io
import re
import textwrap
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from functools import cache
from html import escape

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from surveyapp.analysis.summaries import RANGE_DASH, Cell, MatrixRow, QuestionSummary
from surveyapp.i18n import text_direction
from surveyapp.typesetting import FONTS_DIR

#: Our fonts (Noto Sans Ethiopic, derived by scripts/ethiopic_ttf.py), with their licence.
ETHIOPIC_FONT = FONTS_DIR / "NotoSansEthiopic-Regular.ttf"
#: DejaVu Sans (Latin, Cyrillic, Arabic) comes with matplotlib; Ethiopic falls back to Noto.
FAMILIES = ["DejaVu Sans", "Noto Sans Ethiopic"]
#: What the SVG asks a browser for: our fonts where installed, else the system's sans-serif.
CSS_FAMILIES = "'DejaVu Sans', 'Noto Sans Ethiopic', 'Noto Sans Ethiopic Subset', sans-serif"

#: Width of a chart in inches: the text width of the PDF report (A4, 2.2 cm margins).
WIDTH = 6.5
#: Label size in points; the results page scales the SVG, so it also passes a smaller width.
FONT_SIZE = 9.0
INK = "#1b1b1b"
MUTED = "#4a4a4a"
#: Bars: the interface's brand blue (8.6:1 on white); "other" and "prefer not" in grey (5.7:1).
BAR = "#0b5394"
BAR_ASIDE = "#5f6368"
#: Ordered scale of a matrix, light to dark; neighbours differ in lightness, and each segment
#: carries its percentage and a white gap, so the order never rests on hue alone.
SCALE_COLOURS = ["#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"]
#: Codes of answers that are not a point of the scale.
ASIDE_CODES = frozenset({"_other", "_pna"})

_ID = re.compile(r'\sid="([^"]+)"')


@cache
def _register_fonts() -> None:
    """Make the Ethiopic font known to matplotlib, once per process."""
    font_manager.fontManager.addfont(str(ETHIOPIC_FONT))


#: rcParams are global: one chart at a time, so that threads never see each other's settings
#: (drawing holds the GIL anyway, so this costs no throughput).
_DRAWING = threading.Lock()


@contextmanager
def _settings() -> Iterator[None]:
    """matplotlib settings for one chart, restored afterwards."""
    with _DRAWING, matplotlib.rc_context(_rc()):
        yield


def _rc() -> dict[str, object]:
    return {
        "svg.fonttype": "none",  # real <text>, shaped by the viewer
        "svg.hashsalt": "surveyapp",  # same input, same SVG
        "font.family": FAMILIES,
        "font.size": FONT_SIZE,
        "text.color": INK,
        "hatch.color": MUTED,
        "hatch.linewidth": 0.8,
    }


def _plain_percent(value: float) -> str:
    return f"{value:.0f}%"


def _wrap(label: str, width: int, lines: int = 3) -> str:
    """Break a label into at most ``lines`` lines of about ``width`` characters."""
    parts = textwrap.wrap(label, width, break_long_words=False) or [""]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][: width - 1].rstrip() + "…"
    return "\n".join(parts)


def _isolated(label: str, rtl: bool = False) -> str:
    """A label framed by right-to-left marks when it reads right to left.

    The SVG ``<text>`` has no ``direction``, so its paragraph is left-to-right; marks on both
    ends keep leading or trailing punctuation ("؟", "!") on the Arabic side of the label. In
    a right-to-left chart, labels without letters (age ranges) read right to left as well, like
    the report's tables.
    """
    own = text_direction(label)
    if own == "rtl" or (own is None and rtl):
        return "\u200f" + label.replace("\n", "\u200f\n\u200f") + "\u200f"
    return label


def _svg(fig: Figure, description: str) -> str:
    """The figure as a standalone ``<svg>`` element: no prolog, labelled, ids unique to it."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    # A <style> inside inline SVG applies to the whole HTML page; its rules are not needed.
    text = re.sub(r'\s*<style type="text/css">.*?</style>', "", text, flags=re.S)
    text = text.replace("font-family: 'DejaVu Sans', 'Noto Sans Ethiopic'",
                        f"font-family: {CSS_FAMILIES}")
    prefix = "c" + hashlib.sha1((description + text).encode("utf-8")).hexdigest()[:10]
    referenced = set(re.findall(r"url\(#([^)]+)\)", text)) | set(
        re.findall(r'href="#([^"]+)"', text))

    def rename(match: re.Match[str]) -> str:
        # Ids of groups ("figure_1", "axes_1") would clash between charts on one page.
        name = match.group(1)
        return f' id="{prefix}-{name}"' if name in referenced else ""

    text = _ID.sub(rename, text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', text)
    label = escape(description, quote=True)
    text = text.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    head_end = text.index(">", text.index("<svg")) + 1
    return f"{text[:head_end]}\n<title>{escape(description)}</title>{text[head_end:]}"


class _Canvas:
    """A figure drawn on in inches from its top left corner, mirrored for right-to-left.

    Artists go straight onto the figure (no ``Axes``: its ticks and spines cost more than
    the whole chart), at places computed here, so margins are fixed and nothing is measured.
    """

    def __init__(self, width: float, height: float, rtl: bool = False):
        self.figure = Figure(figsize=(width, height))
        self.width, self.height, self.rtl = width, height, rtl
        self._inches = self.figure.dpi_scale_trans

    def _x(self, x: float, w: float = 0.0) -> float:
        return self.width - x - w if self.rtl else x

    def rect(self, x: float, top: float, w: float, h: float, **style) -> None:
        """A rectangle ``w`` wide from ``x`` (from the right edge when mirrored)."""
        self.figure.add_artist(Rectangle((self._x(x, w), self.height - top - h), w, h,
                                         transform=self._inches, **style))

    def text(self, x: float, top: float, text: str, align: str = "left", **style) -> None:
        """A text anchored at ``x``; ``align`` is the side it grows from (mirrored if rtl)."""
        if self.rtl and align != "center":
            align = "right" if align == "left" else "left"
        # parse_math off: a "$" in a label ("5 $ a month") is text, not TeX.
        self.figure.text(self._x(x), self.height - top, _isolated(text, self.rtl), ha=align,
                         transform=self._inches, linespacing=1.15, parse_math=False, **style)

    def line(self, x0: float, top0: float, x1: float, top1: float, **style) -> None:
        """A straight line between two points."""
        self.figure.add_artist(Line2D([self._x(x0), self._x(x1)],
                                      [self.height - top0, self.height - top1],
                                      transform=self._inches, **style))

    def svg(self, description: str) -> str:
        """The finished chart."""
        return _svg(self.figure, description)


def _chars(inches: float, size: float = FONT_SIZE) -> int:
    """About how many characters of a label fit in ``inches`` (DejaVu Sans averages 0.58 em)."""
    return max(8, int(inches * 72 / (size * 0.58)))


def _lines(text: str) -> int:
    return text.count("\n") + 1


#: Height of one line of chart text, in inches.
LINE = FONT_SIZE * 1.25 / 72
LEGEND_SIZE = FONT_SIZE - 0.5


def chart_for(summary: QuestionSummary, *, hidden_text: str,
              percent: Callable[[float], str] = _plain_percent,
              count: Callable[[int], str] = str, rtl: bool = False,
              width: float = WIDTH) -> str | None:
    """The chart of one question's summary, or None: one rule for the page and the PDF.

    Matrices and scales as rows get stacked bars, choices bars of percentages, numbers and
    dates columns of counts; a summary with nothing to draw gets no chart.
    """
    text = summary.question.text
    if summary.rows:
        return stacked_chart(summary.rows, text, hidden_text=hidden_text, percent=percent,
                             rtl=rtl, width=width)
    if summary.cells and summary.question.is_choice:
        return bar_chart(summary.cells, text, hidden_text=hidden_text, percent=percent,
                         rtl=rtl, width=width)
    if summary.bins:
        return histogram_chart(summary.bins, text, hidden_text=hidden_text, count=count,
                               width=width)
    return None


def bar_chart(cells: Sequence[Cell], description: str, *, hidden_text: str,
              percent: Callable[[float], str] = _plain_percent, rtl: bool = False,
              width: float = WIDTH) -> str:
    """Horizontal bars of the answers' percentages; a hidden cell shows ``hidden_text``."""
    _register_fonts()
    label_width = width * 0.38
    bar_space = width - label_width - 0.75  # room for the value after the longest bar
    labels = [_wrap(cell.label, _chars(label_width - 0.15)) for cell in cells]
    row = 0.1 + LINE * max((_lines(label) for label in labels), default=1)
    row = max(row, 0.27)
    height = 0.1 + row * max(len(cells), 1)
    top_value = max(max((c.percent or 0.0 for c in cells), default=0.0), 1.0)
    with _settings():
        canvas = _Canvas(width, height, rtl)
        for index, (cell, label) in enumerate(zip(cells, labels, strict=True)):
            middle = 0.05 + row * (index + 0.5)
            canvas.text(label_width - 0.1, middle, label, align="right", va="center")
            if cell.percent is None:
                canvas.text(label_width + 0.08, middle, hidden_text, va="center", color=MUTED)
                continue
            length = bar_space * cell.percent / top_value
            colour = BAR_ASIDE if cell.code in ASIDE_CODES else BAR
            canvas.rect(label_width, middle - row * 0.34, length, row * 0.68, color=colour,
                        linewidth=0)
            canvas.text(label_width + length + 0.06, middle, percent(cell.percent),
                        va="center")
        canvas.line(label_width, 0.05, label_width, height - 0.05, color=MUTED, linewidth=0.8)
        return canvas.svg(description)


def stacked_chart(rows: Sequence[MatrixRow], description: str, *, hidden_text: str,
                  percent: Callable[[float], str] = _plain_percent, rtl: bool = False,
                  width: float = WIDTH) -> str:
    """One 100% bar per matrix row over the shared scale, with a legend in scale order."""
    _register_fonts()
    label_width = width * 0.34
    bar_space = width - label_width - 0.1
    labels = [_wrap(r.label, _chars(label_width - 0.15)) for r in rows]
    row = max(0.1 + LINE * max((_lines(label) for label in labels), default=1), 0.3)
    scale = list(rows[0].cells) if rows else []
    colours = _scale_colours(scale)
    entries: list[tuple[str, dict]] = [
        (cell.label, {"facecolor": colour}) for cell, colour in zip(scale, colours, strict=True)]
    if any(cell.percent is None for r in rows for cell in r.cells):
        entries.append((hidden_text, HIDDEN_STYLE))
    places, legend_height = _legend_layout([label for label, _style in entries], width)
    bars_height = row * max(len(rows), 1)
    height = 0.05 + bars_height + 0.15 + legend_height + 0.05
    with _settings():
        canvas = _Canvas(width, height, rtl)
        for index, (matrix_row, label) in enumerate(zip(rows, labels, strict=True)):
            middle = 0.05 + row * (index + 0.5)
            canvas.text(label_width - 0.1, middle, label, align="right", va="center")
            start = 0.0
            for cell, colour in zip(matrix_row.cells, colours, strict=True):
                if not cell.percent:
                    continue
                x, length = label_width + bar_space * start / 100, bar_space * cell.percent / 100
                canvas.rect(x, middle - row * 0.34, length, row * 0.68, facecolor=colour,
                            edgecolor="white", linewidth=1.0)
                if length >= 0.36:  # room for "100 %"
                    canvas.text(x + length / 2, middle, percent(cell.percent), align="center",
                                va="center", fontsize=FONT_SIZE - 1, color=_text_on(colour))
                start += cell.percent
            if any(cell.percent is None for cell in matrix_row.cells) and start < 99.5:
                # What is hidden is one hatched remainder: its sum, never its parts.
                canvas.rect(label_width + bar_space * start / 100, middle - row * 0.34,
                            bar_space * (100 - start) / 100, row * 0.68, **HIDDEN_STYLE)
        _legend(canvas, places, [style for _label, style in entries], 0.05 + bars_height + 0.15)
        return canvas.svg(description)


#: How a hidden share is drawn: hatched, outlined, no fill colour.
HIDDEN_STYLE: dict = {"facecolor": "white", "edgecolor": MUTED, "hatch": "////",
                      "linewidth": 0.6}


def _legend_layout(labels: Sequence[str], width: float
                   ) -> tuple[list[tuple[float, float, str]], float]:
    """Where each legend entry goes (x, y from the legend's top, wrapped label), and the height.

    Entries flow in reading order onto as many lines as they need. Label widths are estimated
    from their length, not measured (measuring every text is what makes ``tight_layout`` slow).
    """
    places, x, y, line_height = [], 0.1, 0.0, 0.0
    for label in labels:
        text = _wrap(label, 24, 2)
        item = 0.24 + max(len(part) for part in text.split("\n")) * LEGEND_SIZE * 0.6 / 72
        if x > 0.1 and x + item > width - 0.1:
            x, y, line_height = 0.1, y + line_height, 0.0
        places.append((x, y, text))
        x += item + 0.25
        line_height = max(line_height, 0.1 + LINE * _lines(text))
    return places, y + line_height


def _legend(canvas: _Canvas, places: Sequence[tuple[float, float, str]],
            styles: Sequence[dict], top: float) -> None:
    """Swatches with their labels where ``_legend_layout`` put them (mirrored if rtl)."""
    for (x, y, text), style in zip(places, styles, strict=True):
        canvas.rect(x, top + y + 0.02, 0.16, 0.12,
                    **({"edgecolor": MUTED, "linewidth": 0.5} | style))
        canvas.text(x + 0.24, top + y + 0.01, text, va="top", fontsize=LEGEND_SIZE)


def _scale_colours(scale: Sequence[Cell]) -> list[str]:
    """Light to dark blues for the points of a scale, grey for "other" and "prefer not"."""
    points = [cell for cell in scale if cell.code not in ASIDE_CODES]
    colours, index = [], 0
    for cell in scale:
        if cell.code in ASIDE_CODES:
            colours.append(BAR_ASIDE)
            continue
        if len(points) <= len(SCALE_COLOURS):
            # Spread few points over the palette, so that neighbours differ clearly.
            step = (len(SCALE_COLOURS) - 1) / max(len(points) - 1, 1)
            colours.append(SCALE_COLOURS[int(index * step + 0.5)])
        else:
            colours.append(_blend(index / (len(points) - 1)))
        index += 1
    return colours


def _blend(share: float) -> str:
    """A blue between the lightest and the darkest scale colour."""
    low, high = SCALE_COLOURS[0], SCALE_COLOURS[-1]
    channels = [round(int(low[i:i + 2], 16) * (1 - share) + int(high[i:i + 2], 16) * share)
                for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in channels)


def _text_on(colour: str) -> str:
    """Ink or white, whichever contrasts more with ``colour`` (WCAG relative luminance)."""
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(colour[i:i + 2], 16)) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return INK if luminance > 0.18 else "white"


def histogram_chart(bins: Sequence[tuple[str, int | None]], description: str, *,
                    hidden_text: str, count: Callable[[int], str] = str,
                    width: float = WIDTH) -> str:
    """Columns of counts per range (numbers, months); a hidden range shows ``hidden_text``.

    Ranges read left to right in every language, like a number line.
    """
    _register_fonts()
    slot = (width - 0.4) / max(len(bins), 1)
    labels = [_bin_label(label, _chars(slot - 0.05)) for label, _count in bins]
    label_height = LINE * max((_lines(label) for label in labels), default=1)
    plot_height = 1.5
    height = 0.25 + plot_height + 0.08 + label_height + 0.05
    top_value = max(max((c or 0 for _l, c in bins), default=0), 1)
    baseline = 0.25 + plot_height
    with _settings():
        canvas = _Canvas(width, height)
        for index, ((_label, value), label) in enumerate(zip(bins, labels, strict=True)):
            middle = 0.2 + slot * (index + 0.5)
            bar = plot_height * (value or 0) / top_value
            if value:
                canvas.rect(middle - slot * 0.4, baseline - bar, slot * 0.8, bar, color=BAR,
                            linewidth=0)
            canvas.text(middle, baseline - bar - 0.05,
                        hidden_text if value is None else count(value), align="center",
                        va="bottom", color=MUTED if value is None else INK)
            canvas.text(middle, baseline + 0.08, label, align="center", va="top")
        canvas.line(0.2, baseline, width - 0.2, baseline, color=MUTED, linewidth=0.8)
        return canvas.svg(description)


def _bin_label(label: str, chars: int) -> str:
    """A range label that fits its column: broken after its dash if need be."""
    if len(label) > chars and RANGE_DASH in label and " " not in label:
        low, _dash, high = label.partition(RANGE_DASH)
        return f"{low}{RANGE_DASH}\n{high}"
    return _wrap(label, chars, 2)


def timeline_chart(by_day: Sequence[tuple[date, int, int]], description: str, *,
                   complete_text: str, partial_text: str | None, period: str | None = None,
                   day_label: Callable[[date], str] = date.isoformat,
                   count: Callable[[int], str] = str, width: float = WIDTH) -> str:
    """Responses over time: complete (solid) and unfinished (hatched) per day, week or month.

    ``period`` as in ``timeline_periods``; ``day_label`` names a period by its first day.
    Without ``partial_text`` the legend names complete responses only.
    Time runs left to right in every language, like a number line.
    """
    _register_fonts()
    periods = timeline_periods(by_day, period)
    left, right, plot_top, plot_height = 0.7, width - 0.15, 0.1, 1.45
    baseline = plot_top + plot_height
    entries = [complete_text, partial_text] if partial_text else [complete_text]
    places, legend_height = _legend_layout(entries, width)
    height = baseline + 0.1 + LINE + 0.1 + legend_height + 0.05
    highest = max((c + p for _d, c, p in periods), default=0)
    ticks = _round_ticks(max(highest, 1))
    scale = plot_height / ticks[-1]
    slot = (right - left) / max(len(periods), 1)
    with _settings():
        canvas = _Canvas(width, height)
        for tick in ticks:
            y = baseline - tick * scale
            canvas.line(left, y, right, y, color="#d0d0d0" if tick else MUTED,
                        linewidth=0.5 if tick else 0.8)
            canvas.text(left - 0.08, y, count(tick), align="right", va="center")
        names = [day_label(day) for day, _c, _p in periods]
        # Every n-th period named, as many as fit side by side (widths estimated).
        name_width = max((len(name) for name in names), default=1) * FONT_SIZE * 0.6 / 72 + 0.2
        step = max(1, -(-len(periods) // max(1, int((right - left) // name_width))))
        for index, (_day, complete, partial) in enumerate(periods):
            x = left + slot * (index + 0.1)
            if complete:
                canvas.rect(x, baseline - complete * scale, slot * 0.8, complete * scale,
                            color=BAR, linewidth=0)
            if partial:
                canvas.rect(x, baseline - (complete + partial) * scale, slot * 0.8,
                            partial * scale, **HIDDEN_STYLE | {"linewidth": 0.4})
            if index % step == 0:
                canvas.text(x + slot * 0.4, baseline + 0.08, names[index], align="center",
                            va="top")
        _legend(canvas, places, [{"facecolor": BAR}, HIDDEN_STYLE][:len(entries)],
                baseline + 0.1 + LINE + 0.1)
        return canvas.svg(description)


def _round_ticks(top: int) -> list[int]:
    """Whole, round tick values from 0 to at least ``top``, at most five of them."""
    step = 1
    factors = iter([2, 2.5, 2] * 10)
    while -(-top // step) > 4:
        step = int(step * next(factors))
    return list(range(0, -(-top // step) * step + 1, step))


#: What a timeline can count by, finest first.
PERIODS = ("day", "week", "month")


def timeline_period(by_day: Sequence[tuple[date, int, int]]) -> str:
    """The finest period that keeps a timeline readable: days up to 45, weeks up to a year."""
    if not by_day:
        return "day"
    span = (by_day[-1][0] - by_day[0][0]).days
    return "month" if span > 366 else "week" if span > 45 else "day"


def timeline_periods(by_day: Sequence[tuple[date, int, int]], period: str | None = None
                     ) -> list[tuple[date, int, int]]:
    """(first day, complete, unfinished) per day, week (from Monday) or month, gaps as zeros.

    ``period`` is one of ``PERIODS``; by default the one ``timeline_period`` picks.
    """
    if not by_day:
        return []
    period = period or timeline_period(by_day)

    def key(day: date) -> date:
        if period == "month":
            return day.replace(day=1)
        if period == "week":
            return day - timedelta(days=day.weekday())
        return day

    step = {"day": 1, "week": 7, "month": 32}[period]
    totals: dict[date, list[int]] = {}
    cursor, last = key(by_day[0][0]), by_day[-1][0]
    while cursor <= last:
        totals[cursor] = [0, 0]
        cursor = key(cursor + timedelta(days=step))
    for day, complete, partial in by_day:
        totals[key(day)][0] += complete
        totals[key(day)][1] += partial
    return [(day, c, p) for day, (c, p) in sorted(totals.items())]
