"""Engine and session factory for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import re

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from ..settings import Settings

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_schema_name(schema: str) -> str:
    # The schema name ends up in SQL text (search_path), so allow only identifiers.
    if not _SCHEMA_RE.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    return schema


def make_engine(settings: Settings, *, pool_size: int | None = None) -> AsyncEngine:
    """hide_parameters: a statement's parameters hold what citizens typed (the
    first part of a number sent in two messages cannot be masked yet), so they
    are in no log line and no database error's text, which the bridge logs."""
    url = settings.database_url
    if settings.is_sqlite:
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        _configure_sqlite(engine)
        return engine
    connect_args: dict = {"command_timeout": 30}
    if settings.db_schema:
        connect_args["server_settings"] = {"search_path": check_schema_name(settings.db_schema)}
    return create_async_engine(
        url,
        pool_size=pool_size or settings.db_pool_size,
        max_overflow=pool_size or settings.db_pool_size,
        # No pre-ping: it costs a round trip per checkout on the relay path;
        # recycling bounds connection age and errors surface as 5xx, not data loss.
        pool_recycle=1800,
        pool_timeout=10,
        connect_args=connect_args,
        hide_parameters=True,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy issue BEGIN itself (below) instead of the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):
        # Take the write lock up front: a deferred transaction that later
        # writes can fail with SQLITE_BUSY without waiting on busy_timeout.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)
