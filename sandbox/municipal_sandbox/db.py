"""Database engine and sessions (SQLAlchemy 2 asyncio over aiosqlite)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from .models import Base


def create_engine(database_url: str) -> AsyncEngine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)

    if url.get_backend_name() == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - driver hook
            # Let SQLAlchemy, not the driver, emit BEGIN (see _begin_immediate).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # Wait instead of failing when the delivery worker and a request
            # write at the same moment.
            cursor.execute("PRAGMA busy_timeout=5000")
            # A sandbox trades durability on power loss for fast starts and tests.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(connection):  # pragma: no cover - driver hook
            # A deferred transaction that reads and then writes fails at once
            # with "database is locked" when another writer committed in
            # between (the delivery worker and a request, say). Taking the
            # write lock at BEGIN makes concurrent writers wait their turn.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)


def as_utc(value: dt.datetime) -> dt.datetime:
    """SQLite drops the time zone; every stored timestamp is UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def isoformat_utc(value: dt.datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")
