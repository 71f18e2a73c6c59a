"""SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction


class day_of(GenericFunction):
    """The UTC calendar day of a timestamp, as a date (SQLite: its ISO text)."""

    type = sa.Date()
    inherit_cache = True


@compiles(day_of, "sqlite")
def _day_of_sqlite(element, compiler, **kw):
    # Stored as ISO text in UTC ("2026-11-21 08:14:13.000000"): the day is its first 10 chars.
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"


@compiles(day_of, "postgresql")
def _day_of_postgresql(element, compiler, **kw):
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC') AS DATE)"


class unindexed(sa.sql.functions.FunctionElement):
    """A column that SQLite must not use an index for (``+column``); plain elsewhere.

    SQLite's planner would otherwise look answers up through the response index once per
    response, which is several times slower than one scan of a covering index.
    """

    inherit_cache = True

    def __init__(self, column):
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _unindexed_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element, compiler, **kw):
    return f"+{compiler.process(element.clauses, **kw)}"
