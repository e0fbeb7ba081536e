"""Escalations, queue positions and waiting-time estimates."""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .. import i18n
from ..config_files import QueueConfig, route
from ..db.models import (
    ESC_ASSIGNED,
    ESC_CLOSED_HOURS,
    ESC_WAITING,
    MODE_CLOSED,
    MODE_QUEUED,
    OPEN_ESCALATION_STATES,
    Agent,
    Claim,
    Conversation,
    Escalation,
    utcnow,
)
from ..errors import Conflict, Unprocessable, not_found
from ..events import conv_channel
from ..privacy import mask_personal_data
from .domain_events import Escalated, MessageStored, unit_of_work
from .messages import append_message, publish_agents, publish_messages

REASONS = ("citizen_request", "repeated_fallback", "not_helpful", "system_unavailable")
REASON_CITIZEN_REQUEST = "citizen_request"
REASON_SYSTEM_UNAVAILABLE = "system_unavailable"

# Widget actions carried in button payloads; handled by the bridge, never sent to Rasa.
ACTION_HANDOFF = "bridge:handoff"
# The person offered when the assistant could not answer: the reason stays for the statistics.
ACTION_HANDOFF_AFTER_FAILURE = "bridge:handoff:system_unavailable"
HANDOFF_ACTIONS = {ACTION_HANDOFF: REASON_CITIZEN_REQUEST, ACTION_HANDOFF_AFTER_FAILURE: REASON_SYSTEM_UNAVAILABLE}
ACTION_CALLBACK = "bridge:callback"
ACTION_KEEP_WAITING = "bridge:keep_waiting"


def callback_buttons(language: str, *, keep_waiting: bool) -> list[dict]:
    buttons = [{"title": i18n.text("button_callback", language), "payload": ACTION_CALLBACK}]
    if keep_waiting:
        buttons.append({"title": i18n.text("button_keep_waiting", language), "payload": ACTION_KEEP_WAITING})
    return buttons


def agent_serves(agent: Agent, queue: QueueConfig) -> bool:
    if queue.language not in (agent.languages or []):
        return False
    municipalities = set(agent.municipalities or [])
    return "*" in municipalities or "*" in queue.municipalities or bool(municipalities & set(queue.municipalities))


def served_queue_names(deps, agent: Agent) -> list[str]:
    if agent.role == "supervisor" and not agent.languages:
        return list(deps.queues)
    return [name for name, q in deps.queues.items() if agent_serves(agent, q)]


async def open_escalation(session: AsyncSession, conversation_id: str, *, for_update: bool = False) -> Escalation | None:
    stmt = select(Escalation).where(
        Escalation.conversation_id == conversation_id, Escalation.status.in_(OPEN_ESCALATION_STATES)
    )
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def latest_escalation(session: AsyncSession, conversation_id: str) -> Escalation | None:
    return await session.scalar(
        select(Escalation)
        .where(Escalation.conversation_id == conversation_id)
        .order_by(Escalation.created_at.desc(), Escalation.id.desc())
        .limit(1)
    )


async def queue_position(session: AsyncSession, esc: Escalation) -> int:
    """1-based place among the waiting entries of the queue (FCFS by enqueued_at, id)."""
    ahead = await session.scalar(
        select(func.count())
        .select_from(Escalation)
        .where(
            Escalation.queue_name == esc.queue_name,
            Escalation.status == ESC_WAITING,
            or_(
                Escalation.enqueued_at < esc.enqueued_at,
                and_(Escalation.enqueued_at == esc.enqueued_at, Escalation.id < esc.id),
            ),
        )
    )
    return int(ahead or 0) + 1


async def _handle_seconds(session: AsyncSession, queue: QueueConfig) -> float:
    """Mean handling time of the queue's last 50 finished claims, or the configured default."""
    rows = (
        await session.execute(
            select(Claim.started_at, Claim.ended_at)
            .join(Escalation, Escalation.id == Claim.escalation_id)
            .where(Escalation.queue_name == queue.name, Claim.ended_at.is_not(None))
            .order_by(Claim.ended_at.desc())
            .limit(50)
        )
    ).all()
    durations = [(e - s).total_seconds() for s, e in rows if e and s and e > s]
    if len(durations) < 5:
        return float(queue.default_handle_seconds)
    return sum(durations) / len(durations)


async def _available_agents(deps, session: AsyncSession, queue: QueueConfig) -> int:
    cutoff = utcnow() - dt.timedelta(seconds=deps.settings.agent_presence_ttl_seconds)
    agents = await session.scalars(
        select(Agent).where(Agent.active.is_(True), Agent.status == "available", Agent.last_seen_at >= cutoff)
    )
    return sum(max(1, a.capacity) for a in agents if agent_serves(a, queue))


async def estimate_wait(deps, session: AsyncSession, queue: QueueConfig, position: int) -> int:
    handle = await _handle_seconds(session, queue)
    slots = await _available_agents(deps, session, queue)
    return int(math.ceil(position * handle / max(1, slots)))


async def queue_snapshot(deps, session: AsyncSession, esc: Escalation) -> dict:
    queue = deps.queue(esc.queue_name)
    position = await queue_position(session, esc)
    wait = await estimate_wait(deps, session, queue, position) if queue else None
    return {"queue": esc.queue_name, "position": position, "estimated_wait_seconds": wait}


async def publish_queue_positions(deps, queue_name: str) -> None:
    """Tell every citizen waiting in the queue their new place (one query, one event each)."""
    queue = deps.queue(queue_name)
    async with deps.sessionmaker() as session:
        waiting = (
            await session.execute(
                select(Escalation.conversation_id)
                .where(Escalation.queue_name == queue_name, Escalation.status == ESC_WAITING)
                .order_by(Escalation.enqueued_at, Escalation.id)
            )
        ).scalars().all()
        handle = await _handle_seconds(session, queue) if queue else 0
        slots = max(1, await _available_agents(deps, session, queue)) if queue else 1
    for index, conversation_id in enumerate(waiting, start=1):
        await deps.bus.publish(
            conv_channel(conversation_id),
            {
                "type": "queue",
                "conversation_id": conversation_id,
                "queue": queue_name,
                "position": index,
                "estimated_wait_seconds": int(math.ceil(index * handle / slots)),
            },
        )
    await publish_agents(deps, {"type": "queue_changed", "queue": queue_name, "waiting": len(waiting)})


async def escalate(
    deps,
    conversation_id: str,
    reason: str,
    *,
    summary: str | None = None,
    topic: str | None = None,
    confidence: float | None = None,
    language: str | None = None,
    pause_bot: bool,
) -> dict:
    """Put a conversation in the queue, or offer a callback when the queue is closed.

    The one way into the queue: the widget's button, a bot turn that asked for
    a person (the bot paused itself: `pause_bot=False`) and a request for a
    person the assistant could not act on all come here. The citizen gets
    exactly one system line about it: their place and wait, or the closed
    contact centre with a callback offer. Idempotent while an escalation is
    open: a second call returns the same queue entry and says nothing new.
    """
    if reason not in REASONS:
        raise Unprocessable("invalid_reason", f"reason must be one of {', '.join(REASONS)}")
    summary = mask_personal_data((summary or "").strip())[: deps.settings.max_summary_chars] or None
    now = utcnow()
    async with unit_of_work(deps) as uow:
        session = uow.session
        conv = await session.get(Conversation, conversation_id, with_for_update=True)
        if conv is None:
            raise not_found("conversation")
        if conv.mode == MODE_CLOSED:
            raise Conflict("conversation_closed", "the conversation is closed")
        existing = await open_escalation(session, conversation_id)
        if existing is not None:
            if existing.status == ESC_ASSIGNED:
                return {"status": "assigned", "queue": existing.queue_name, "position": 0, "estimated_wait_seconds": 0}
            snap = await queue_snapshot(deps, session, existing)
            return {"status": "queued", **snap}
        if language in ("da", "sv") and language != conv.language:
            conv.language = language
        queue = route(list(deps.queues.values()), conv.language, conv.municipality)
        if queue is None:
            raise Unprocessable("no_queue", "no queue serves this language and municipality")
        lang = conv.language
        closed = not queue.is_open(now)
        # Outside opening hours the request is recorded as ended, with a callback offered.
        esc = Escalation(conversation_id=conversation_id, queue_name=queue.name, reason=reason, summary=summary,
                         topic=topic, confidence=confidence, enqueued_at=now,
                         status=ESC_CLOSED_HOURS if closed else ESC_WAITING,
                         ended_at=now if closed else None, callback_offered_at=now if closed else None)
        session.add(esc)
        if closed:
            next_open = queue.next_open(now)
            when = i18n.format_opening(next_open, queue.timezone, lang) if next_open else "-"
            msg, _ = await append_message(
                session,
                conversation_id,
                "system",
                i18n.text("closed_hours", lang, next_open=when),
                payload={"buttons": callback_buttons(lang, keep_waiting=False), "callback_offer": True},
            )
            uow.record(MessageStored(msg))
            result = {
                "status": "closed",
                "queue": queue.name,
                "next_open": next_open.isoformat() if next_open else None,
                "callback_offered": True,
            }
        else:
            await session.flush()
            conv.mode = MODE_QUEUED
            snap = await queue_snapshot(deps, session, esc)
            msg, _ = await append_message(
                session,
                conversation_id,
                "system",
                i18n.text("queued", lang, position=snap["position"],
                          minutes=max(1, math.ceil((snap["estimated_wait_seconds"] or 0) / 60))),
                payload={"queue": snap},
            )
            uow.record(MessageStored(msg))
            result = {"status": "queued", **snap}
            uow.record(Escalated(
                conversation_id=conversation_id, escalation_id=esc.id, queue=queue.name, language=lang,
                municipality=conv.municipality, reason=reason, summary=summary, topic=topic,
                confidence=confidence, enqueued_at=now))
    # Published on leaving the unit of work; then the bot is paused.
    if result["status"] == "queued" and pause_bot:
        await deps.rasa.pause(conversation_id)
    return result


async def offer_callbacks_after_wait(deps) -> int:
    """Offer a callback to citizens who have waited longer than their queue allows."""
    now = utcnow()
    offered = 0
    for queue in deps.queues.values():
        cutoff = now - dt.timedelta(seconds=queue.callback_offer_after_seconds)
        async with deps.sessionmaker() as session:
            ids = (
                await session.execute(
                    select(Escalation.id).where(
                        Escalation.queue_name == queue.name,
                        Escalation.status == ESC_WAITING,
                        Escalation.callback_offered_at.is_(None),
                        Escalation.enqueued_at < cutoff,
                    ).limit(200)
                )
            ).scalars().all()
        for esc_id in ids:
            async with deps.sessionmaker() as session:
                async with session.begin():
                    # Conditional update: with several instances sweeping, only one offers.
                    res = await session.execute(
                        update(Escalation)
                        .where(Escalation.id == esc_id, Escalation.callback_offered_at.is_(None), Escalation.status == ESC_WAITING)
                        .values(callback_offered_at=now)
                    )
                    if res.rowcount != 1:
                        continue
                    esc = await session.get(Escalation, esc_id)
                    conv = await session.get(Conversation, esc.conversation_id)
                    msg, _ = await append_message(
                        session,
                        conv.id,
                        "system",
                        i18n.text("callback_offer_wait", conv.language),
                        payload={"buttons": callback_buttons(conv.language, keep_waiting=True), "callback_offer": True},
                    )
            await publish_messages(deps, [msg])
            offered += 1
    return offered


async def callback_allowed(session: AsyncSession, conversation_id: str) -> Escalation | None:
    """The escalation a callback request may replace: a closed-hours offer or a wait in the queue."""
    esc = await latest_escalation(session, conversation_id)
    if esc is None or esc.status not in (ESC_WAITING, ESC_CLOSED_HOURS):
        return None
    return esc

