"""Failed agent logins, counted per login name and per client address in the
database (so every instance sees the same counts). After too many failures in
the window, the login (or the address) is locked for the lockout period.
Keys are SHA-256 hashes: no login name or address is stored in the table."""

from __future__ import annotations

import datetime as dt
import hashlib
import math

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..db.models import LoginThrottle, utcnow

_INSERTS = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def login_key(login_name: str) -> str:
    return hashlib.sha256(f"login\x1f{login_name.strip().lower()}".encode()).hexdigest()


def address_key(address: str) -> str:
    return hashlib.sha256(f"address\x1f{address}".encode()).hexdigest()


async def locked_for(deps, keys: list[str]) -> int | None:
    """Seconds until the longest lock on any of the keys ends, or None when none is locked."""
    now = utcnow()
    async with deps.engine.connect() as conn:
        until = (await conn.execute(
            select(LoginThrottle.locked_until).where(LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now)
        )).scalars().all()
    if not until:
        return None
    return max(1, math.ceil((max(until) - now).total_seconds()))


async def record_failure(deps, limits: list[tuple[str, int]]) -> None:
    s = deps.settings
    now = utcnow()
    window_start_cutoff = now - dt.timedelta(seconds=s.login_window_seconds)
    async with deps.engine.begin() as conn:
        insert = _INSERTS[conn.dialect.name]
        for key, limit in limits:
            stmt = insert(LoginThrottle).values(key=key, window_start=now, failures=1, locked_until=None)
            expired = LoginThrottle.window_start < window_start_cutoff
            stmt = stmt.on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "failures": case((expired, 1), else_=LoginThrottle.failures + 1),
                    "window_start": case((expired, now), else_=LoginThrottle.window_start),
                },
            ).returning(LoginThrottle.failures)
            failures = await conn.scalar(stmt)
            if failures >= limit:
                await conn.execute(
                    update(LoginThrottle).where(LoginThrottle.key == key).values(
                        locked_until=now + dt.timedelta(seconds=s.login_lockout_seconds), failures=0, window_start=now))


async def reset(deps, key: str) -> None:
    async with deps.engine.begin() as conn:
        await conn.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


async def purge_old(deps, now: dt.datetime) -> int:
    """Rows whose window and lock are both over carry no information any more."""
    s = deps.settings
    cutoff = now - dt.timedelta(seconds=max(s.login_window_seconds, s.login_lockout_seconds))
    async with deps.engine.begin() as conn:
        res = await conn.execute(delete(LoginThrottle).where(
            LoginThrottle.window_start < cutoff,
            (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now)))
    return res.rowcount or 0
