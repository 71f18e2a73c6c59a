"""Small-number protection: no figure shown to evaluators may single out fewer than k people.

A count between 1 and k-1 is suppressed (shown as "fewer than k"). Suppressing one cell of a
distribution alone is not enough when its total is shown (total minus the rest gives it back),
so if a line has exactly one suppressed cell, its next smallest non-zero cell is suppressed too
("secondary suppression", as statistical offices do). Zero stays visible: nobody to single out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

#: A suppressed count.
Hidden = None


def _secondary(cells: list[int | None], original: Sequence[int]) -> bool:
    """Hide one more cell if exactly one is hidden; return whether anything changed."""
    hidden = [i for i, c in enumerate(cells) if c is Hidden]
    if len(hidden) != 1:
        return False
    candidates = [i for i, c in enumerate(cells) if c is not Hidden and original[i] > 0]
    if not candidates:
        return False
    smallest = min(candidates, key=lambda i: original[i])
    cells[smallest] = Hidden
    return True


def protect_counts(counts: Sequence[int], k: int) -> list[int | None]:
    """Counts of one distribution with small ones (and a complement) hidden as ``None``."""
    cells: list[int | None] = [Hidden if 0 < c < k else c for c in counts]
    _secondary(cells, counts)
    return cells


def protect_table(table: Sequence[Sequence[int]], k: int) -> list[list[int | None]]:
    """A two-way table with small cells hidden, and complements in rows and columns.

    Repeats until no row or column has exactly one hidden cell, so no margin gives one back.
    """
    cells: list[list[int | None]] = [[Hidden if 0 < c < k else c for c in row] for row in table]
    changed = True
    while changed:
        changed = False
        for r, row in enumerate(cells):
            changed |= _secondary(row, table[r])
        for c in range(len(cells[0]) if cells else 0):
            column = [row[c] for row in cells]
            if _secondary(column, [row[c] for row in table]):
                for r, value in enumerate(column):
                    cells[r][c] = value
                changed = True
    return cells


def is_too_small(n: int, k: int) -> bool:
    """Whether a group of ``n`` respondents is too small to show anything about (n>0)."""
    return 0 < n < k


def protected_period(by_day: Sequence[tuple[date, int, int]], k: int) -> str | None:
    """The finest readable period in which no count of responses is below ``k`` (0 is fine).

    Daily counts of a small selection could single people out; weeks or months add them up.
    """
    # Imported here: charts draws summaries, and summaries use this module.
    from surveyapp.analysis.charts import PERIODS, timeline_period, timeline_periods

    if not by_day:
        return None
    for period in PERIODS[PERIODS.index(timeline_period(by_day)):]:
        counts = timeline_periods(by_day, period)
        if not any(is_too_small(c, k) or is_too_small(p, k) for _day, c, p in counts):
            return period
    return None


def protected_timeline(by_day: Sequence[tuple[date, int, int]], k: int
                       ) -> tuple[str, list[tuple[date, int, int]], bool] | None:
    """What a timeline may show: (period, rows, whether unfinished responses are shown).

    The finest period where both series are safe; else the finest where complete responses
    are, with the unfinished ones left out (few drafts must not hide the whole timeline).
    """
    period = protected_period(by_day, k)
    if period is not None:
        return period, list(by_day), True
    complete_only = [(day, complete, 0) for day, complete, _partial in by_day]
    period = protected_period(complete_only, k)
    return (period, complete_only, False) if period is not None else None
