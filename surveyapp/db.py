"""The SQLAlchemy handle, the declarative base and engine tuning for SQLite."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints the same way."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    """Current time in UTC, as a callable default for timestamp columns."""
    return datetime.now(UTC)


def start_of_day(moment: datetime) -> datetime:
    """Midnight UTC of ``moment``'s day: a timestamp coarsened so it no longer tells the hour."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def tune_sqlite(engine: sa.Engine) -> None:
    """Give SQLite real transactions, WAL, foreign keys, and a write lock taken up front.

    pysqlite starts transactions lazily and cannot nest SAVEPOINTs; we emit BEGIN ourselves.
    A request that may write (anything but GET/HEAD) begins IMMEDIATE, so two writers queue on
    the lock instead of failing when one upgrades a read transaction to a write.
    """

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection):
        writes = has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def tune_postgresql(engine: sa.Engine) -> None:
    """Turn PostgreSQL's JIT off: it spends about a second compiling each result aggregate."""

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        dbapi_connection.commit()
