"""Deleting conversations: by the citizen, and after the retention period.

A conversation is deleted with everything the bridge stored about it
(messages, queue entries, claims, closures with notes, ratings, callback
requests with the encrypted phone number, timeouts, outcome rows and review
inbox items: the foreign keys cascade). The editors' actions on the inbox
(no citizen text) are deleted after `audit_retention_days`, as the audit log. What stays is the audit log (who opened it, when; no content) and,
until Rasa confirms, a row in `rasa_deletions` so the assistant's tracker is
deleted too: each retention run retries the calls Rasa did not answer.

The retention job runs on every instance (`retention_loop`); on PostgreSQL
an advisory lock lets one instance at a time purge, and every step is a
conditional delete, so runs that overlap anyway delete each row once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..db.models import (
    ESC_WAITING,
    AuditEntry,
    Claim,
    Conversation,
    Escalation,
    RasaDeletion,
    utcnow,
)
from ..events import agent_channel, conv_channel
from . import audit as audit_svc
from . import review_inbox as review_inbox_svc
from . import throttle as throttle_svc

log = logging.getLogger("handoff.retention")

BATCH = 500
# pg_try_advisory_lock key of the retention job ("ddh-retention").
ADVISORY_LOCK_KEY = 0x646468_726574
_INSERTS = {"postgresql": pg_insert, "sqlite": sqlite_insert}


async def delete_conversations(deps, conversation_ids: list[str], *, actor_type: str, action: str) -> list[str]:
    """Delete the conversations that still exist; returns the ids actually deleted.

    Agents holding one of them and the queues they waited in are told after commit.
    """
    if not conversation_ids:
        return []
    now = utcnow()
    async with deps.engine.begin() as conn:
        holders = (await conn.execute(
            select(Claim.agent_id, Claim.conversation_id)
            .where(Claim.conversation_id.in_(conversation_ids), Claim.ended_at.is_(None)))).all()
        queues = set((await conn.execute(
            select(Escalation.queue_name)
            .where(Escalation.conversation_id.in_(conversation_ids), Escalation.status == ESC_WAITING))).scalars())
        deleted = list((await conn.execute(
            delete(Conversation).where(Conversation.id.in_(conversation_ids)).returning(Conversation.id)
        )).scalars())
        if deleted:
            insert = _INSERTS[conn.dialect.name]
            await conn.execute(
                insert(RasaDeletion).on_conflict_do_nothing(index_elements=["conversation_id"]),
                [{"conversation_id": cid, "requested_at": now, "attempts": 0} for cid in deleted])
            await conn.execute(AuditEntry.__table__.insert(), [
                {"conversation_id": cid, "actor_type": actor_type, "actor_id": None, "actor_login": None,
                 "action": action, "detail": None, "created_at": now} for cid in deleted])
    gone = set(deleted)
    for agent_id, cid in holders:
        if cid in gone:
            await deps.bus.publish(agent_channel(agent_id),
                                   {"type": "chat_released", "conversation_id": cid, "reason": "deleted"})
    for cid in deleted:
        await deps.bus.publish(conv_channel(cid), {"type": "status", "conversation_id": cid, "mode": "deleted"})
    for name in queues:
        deps.queue_changed(name)
    return deleted


async def delete_rasa_trackers(deps, conversation_ids: list[str] | None = None) -> dict:
    """Ask Rasa to delete the trackers of deleted conversations (the given ones, or
    every pending one). Confirmed deletions (204, or 404: Rasa never knew it) leave
    the table; failures are counted and retried by the next retention run."""
    async with deps.sessionmaker() as session:
        stmt = select(RasaDeletion.conversation_id).order_by(RasaDeletion.requested_at).limit(BATCH)
        if conversation_ids is not None:
            stmt = stmt.where(RasaDeletion.conversation_id.in_(conversation_ids))
        pending = list(await session.scalars(stmt))
    done = failed = 0
    for cid in pending:
        ok, error = await deps.rasa.delete_tracker(cid)
        async with deps.engine.begin() as conn:
            if ok:
                await conn.execute(delete(RasaDeletion).where(RasaDeletion.conversation_id == cid))
                done += 1
            else:
                await conn.execute(update(RasaDeletion).where(RasaDeletion.conversation_id == cid).values(
                    attempts=RasaDeletion.attempts + 1, last_attempt_at=utcnow(), last_error=(error or "error")[:64]))
                failed += 1
    if failed:
        log.warning("rasa tracker deletion failed for %d conversations; retried next run", failed)
    return {"rasa_deleted": done, "rasa_failed": failed}


def _expired(cutoff: dt.datetime):
    # Nothing has happened in the conversation since the cutoff: no message, no change.
    return select(Conversation.id).where(
        Conversation.last_message_at < cutoff, Conversation.updated_at < cutoff, Conversation.created_at < cutoff,
    ).order_by(Conversation.last_message_at).limit(BATCH)


async def _purge(deps, now: dt.datetime) -> dict:
    cutoff = now - dt.timedelta(days=deps.settings.retention_days)
    purged = 0
    while True:
        async with deps.engine.connect() as conn:
            ids = list((await conn.execute(_expired(cutoff))).scalars())
        if not ids:
            break
        purged += len(await delete_conversations(deps, ids, actor_type="system", action="purge"))
        if len(ids) < BATCH:
            break
    result = {"conversations_deleted": purged,
              "audit_entries_deleted": await audit_svc.purge_old(deps, now),
              "login_throttle_deleted": await throttle_svc.purge_old(deps, now),
              "inbox_actions_deleted": await review_inbox_svc.purge_old_actions(deps, now)}
    result.update(await delete_rasa_trackers(deps))
    return result


async def purge_expired(deps, now: dt.datetime | None = None) -> dict:
    """One retention run. On PostgreSQL only one instance runs it at a time; the
    others skip (`{"skipped": true}`)."""
    now = now or utcnow()
    if not deps.is_postgres:
        return await _purge(deps, now)
    async with deps.engine.connect() as lock_conn:
        got = await lock_conn.scalar(select(func.pg_try_advisory_lock(ADVISORY_LOCK_KEY)))
        await lock_conn.commit()
        if not got:
            return {"skipped": True}
        try:
            return await _purge(deps, now)
        finally:
            await lock_conn.execute(select(func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))
            await lock_conn.commit()


async def retention_loop(deps) -> None:
    """The scheduled retention job of a running instance. The jittered interval
    spreads instances that started together."""
    interval = deps.settings.retention_interval_seconds
    while True:
        await asyncio.sleep(interval * random.uniform(0.8, 1.0))
        try:
            result = await purge_expired(deps)
            if result.get("conversations_deleted"):
                log.info("retention: %s", result)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - try again next interval
            log.exception("retention run failed")
