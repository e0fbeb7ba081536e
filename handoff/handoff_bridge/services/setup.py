"""Start-up work: mirror the config files into the database, and the periodic sweeper."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import func, select, update

from ..config_files import QueueConfig, TagConfig, queue_from_db
from ..db.models import Queue, Tag
from . import citizen as citizen_svc
from . import queue as queue_svc

log = logging.getLogger("handoff.setup")

# pg_advisory_xact_lock key of the config sync ("ddh-config-sync").
CONFIG_SYNC_LOCK_KEY = 0x6464682D636667


async def sync_config(sessionmaker, queues: list[QueueConfig], tags: list[TagConfig]) -> None:
    """Upsert queues and tags from the files. Removed entries are deactivated, not
    deleted, because escalations and closures refer to them.

    Instances started together take turns (PostgreSQL advisory lock), so the
    second one updates the rows the first one inserted."""
    async with sessionmaker() as session:
        async with session.begin():
            if session.bind.dialect.name == "postgresql":
                await session.execute(select(func.pg_advisory_xact_lock(CONFIG_SYNC_LOCK_KEY)))
            existing = {q.name: q for q in await session.scalars(select(Queue))}
            for pos, q in enumerate(queues):
                row = existing.get(q.name) or Queue(name=q.name)
                row.language, row.municipalities, row.timezone = q.language, list(q.municipalities), q.timezone
                row.position, row.config, row.active = pos, q.to_db(), True
                session.add(row)
            gone = set(existing) - {q.name for q in queues}
            if gone:
                await session.execute(update(Queue).where(Queue.name.in_(gone)).values(active=False))
            existing_tags = {t.code: t for t in await session.scalars(select(Tag))}
            for t in tags:
                row = existing_tags.get(t.code) or Tag(code=t.code)
                row.labels, row.active = t.labels, t.active
                session.add(row)
            gone_tags = set(existing_tags) - {t.code for t in tags}
            if gone_tags:
                await session.execute(update(Tag).where(Tag.code.in_(gone_tags)).values(active=False))


async def load_active_queues(sessionmaker) -> dict[str, QueueConfig]:
    async with sessionmaker() as session:
        rows = await session.scalars(select(Queue).where(Queue.active.is_(True)).order_by(Queue.position))
        return {r.name: queue_from_db(r.name, r.language, r.municipalities, r.timezone, r.config) for r in rows}


async def sweeper(deps) -> None:
    """Periodic checks every instance runs; each action is a conditional update, so
    instances running it at the same time do every action once."""
    interval = deps.settings.sweeper_interval_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            await citizen_svc.sweep_timeouts(deps)
            await queue_svc.offer_callbacks_after_wait(deps)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep sweeping after a transient DB error
            log.exception("sweeper round failed")
