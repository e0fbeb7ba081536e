"""Chat work of agents: claiming waiting chats, the transcript, replies and typing,
the agent's own chats and queues, transfer, close and hand-back."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from .. import i18n
from ..db.models import (
    ESC_ASSIGNED,
    ESC_DONE,
    ESC_WAITING,
    MODE_AGENT,
    MODE_BOT,
    MODE_CLOSED,
    MODE_QUEUED,
    Agent,
    Claim,
    Closure,
    ClosureTag,
    Conversation,
    Escalation,
    Tag,
    utcnow,
)
from ..errors import Conflict, Invalid, NotFound, forbidden, not_found, unauthorized
from ..events import conv_channel
from ..privacy import mask_personal_data
from . import audit as audit_svc
from . import queue as queue_svc
from .domain_events import (
    ChatClaimed,
    ChatClosed,
    ChatTransferredToAgent,
    ChatTransferredToQueue,
    HandedBack,
    MessageStored,
    unit_of_work,
)
from .messages import (
    DuplicateMessage,
    append_message,
    find_by_client_id,
    message_to_dict,
    messages_after,
    publish_messages,
)


async def _active_claim_count(session, agent_id: int) -> int:
    return int(await session.scalar(
        select(func.count()).select_from(Claim).where(Claim.agent_id == agent_id, Claim.ended_at.is_(None))
    ) or 0)


async def _lock_agent(deps, session, agent_id: int) -> Agent:
    # PostgreSQL: row lock so one agent's parallel claims respect capacity.
    # SQLite: the transaction already holds the database write lock.
    agent = await session.get(Agent, agent_id, with_for_update=deps.is_postgres, populate_existing=True)
    if agent is None or not agent.active:
        raise unauthorized()
    return agent


async def claim(deps, agent: Agent, *, escalation_id: int | None = None, queue_name: str | None = None) -> dict:
    """Atomically take a waiting chat: a conditional UPDATE (status='waiting') decides the winner.

    Two agents (on any instances) racing for one escalation: exactly one
    UPDATE matches a row; the other sees rowcount 0. The partial unique index
    on active claims backs this up in the database itself.
    """
    served = queue_svc.served_queue_names(deps, agent)
    if queue_name is not None and queue_name not in served:
        raise forbidden("you do not serve this queue")
    for _attempt in range(5):
        now = utcnow()
        async with unit_of_work(deps) as uow:
            session = uow.session
            me = await _lock_agent(deps, session, agent.id)
            if me.status != "available":
                raise Conflict("not_available", "set your status to available to take chats")
            if await _active_claim_count(session, me.id) >= me.capacity:
                raise Conflict("capacity_reached", "you already have as many chats as your capacity allows")
            if escalation_id is not None:
                esc = await session.get(Escalation, escalation_id)
                if esc is None:
                    raise not_found("escalation")
                if esc.queue_name not in served and agent.role != "supervisor":
                    raise forbidden("you do not serve this queue")
                target = esc.id
            else:
                stmt = (
                    select(Escalation.id)
                    .where(Escalation.status == ESC_WAITING,
                           Escalation.queue_name.in_([queue_name] if queue_name else served))
                    .order_by(Escalation.enqueued_at, Escalation.id)
                    .limit(1)
                )
                if deps.is_postgres:
                    stmt = stmt.with_for_update(skip_locked=True)
                target = await session.scalar(stmt)
                if target is None:
                    raise NotFound("queue_empty", "no chat is waiting in your queues")
            res = await session.execute(
                update(Escalation)
                .where(Escalation.id == target, Escalation.status == ESC_WAITING)
                .values(status=ESC_ASSIGNED, assigned_agent_id=me.id, assigned_at=now)
                .execution_options(synchronize_session=False)
            )
            if res.rowcount != 1:
                if escalation_id is not None:
                    raise Conflict("already_claimed", "another agent has taken this chat")
                continue  # lost a race for the oldest chat; try the next one
            esc = await session.get(Escalation, target, populate_existing=True)
            session.add(Claim(escalation_id=esc.id, conversation_id=esc.conversation_id, agent_id=me.id, started_at=now))
            conv = await session.get(Conversation, esc.conversation_id)
            conv.mode = MODE_AGENT
            msg, _ = await append_message(session, conv.id, "system",
                                          i18n.text("agent_joined", conv.language, name=me.display_name),
                                          payload={"agent": {"display_name": me.display_name}})
            result = {
                "escalation_id": esc.id,
                "conversation_id": conv.id,
                "queue": esc.queue_name,
                "language": conv.language,
                "municipality": conv.municipality,
                "reason": esc.reason,
                "summary": esc.summary,
            }
            uow.record(MessageStored(msg), ChatClaimed(
                conversation_id=conv.id, escalation_id=esc.id, queue=esc.queue_name, agent_id=me.id,
                agent_name=me.display_name, language=conv.language, municipality=conv.municipality,
                reason=esc.reason, summary=esc.summary))
        return result
    raise Conflict("busy", "too many agents are claiming at once; try again")


async def _held(session, deps, agent: Agent, conversation_id: str, *, lock: bool = False) -> tuple[Conversation, Escalation, Claim | None]:
    """The conversation with the caller's active claim (supervisors may act on any claimed chat)."""
    conv = await session.get(Conversation, conversation_id, with_for_update=lock and deps.is_postgres)
    if conv is None:
        raise not_found("conversation")
    claim_row = await session.scalar(select(Claim).where(Claim.conversation_id == conversation_id, Claim.ended_at.is_(None)))
    if claim_row is None or (claim_row.agent_id != agent.id and agent.role != "supervisor"):
        raise forbidden("you are not handling this chat")
    esc = await session.get(Escalation, claim_row.escalation_id)
    return conv, esc, claim_row


async def _check_holder(conn, agent: Agent, conversation_id: str) -> None:
    holder = await conn.scalar(
        select(Claim.agent_id).where(Claim.conversation_id == conversation_id, Claim.ended_at.is_(None)))
    if holder is None or (holder != agent.id and agent.role != "supervisor"):
        raise forbidden("you are not handling this chat")


async def access_kind(deps, agent: Agent, conversation_id: str) -> str | None:
    """'view' (the agent's own chat; supervisors: any), 'preview' (a waiting chat in
    a queue the agent serves) or None (no access)."""
    if agent.role == "supervisor":
        return "view"
    async with deps.sessionmaker() as session:
        claim_row = await session.scalar(
            select(Claim).where(Claim.conversation_id == conversation_id, Claim.ended_at.is_(None)))
        if claim_row is not None:
            return "view" if claim_row.agent_id == agent.id else None
        esc = await queue_svc.open_escalation(session, conversation_id)
    # Waiting chats may be previewed by agents who serve the queue.
    if esc is not None and esc.queue_name in queue_svc.served_queue_names(deps, agent):
        return "preview"
    return None


async def can_view(deps, agent: Agent, conversation_id: str) -> bool:
    return await access_kind(deps, agent, conversation_id) is not None


async def transcript(deps, agent: Agent, conversation_id: str, after_seq: int = 0) -> dict:
    kind = await access_kind(deps, agent, conversation_id)
    if kind is None:
        raise forbidden("you cannot see this chat")
    async with deps.sessionmaker() as session:
        conv = await session.get(Conversation, conversation_id)
        if conv is None:
            raise not_found("conversation")
        msgs = await messages_after(session, conversation_id, after_seq, limit=2000)
        esc = await queue_svc.latest_escalation(session, conversation_id)
    await audit_svc.record(deps, conversation_id, kind, agent=agent)
    return {
        "conversation_id": conv.id,
        "mode": conv.mode,
        "language": conv.language,
        "municipality": conv.municipality,
        "timed_out": conv.timed_out_at is not None,
        "escalation": None if esc is None else {
            "id": esc.id, "queue": esc.queue_name, "reason": esc.reason, "summary": esc.summary,
            "topic": esc.topic, "confidence": esc.confidence, "status": esc.status,
            "enqueued_at": esc.enqueued_at.isoformat(),
        },
        "messages": [message_to_dict(m, for_agent=True) for m in msgs],
    }


async def reply(deps, agent: Agent, conversation_id: str, text: str, client_msg_id: str | None = None) -> dict:
    """The agent's message, its text and client_msg_id checked (citizen.check_text, check_client_msg_id)."""
    try:
        # Core connection: the relay's hot path in the agent direction.
        async with deps.engine.begin() as conn:
            await _check_holder(conn, agent, conversation_id)
            msg, _ = await append_message(conn, conversation_id, "agent", text, agent_id=agent.id,
                                          client_msg_id=client_msg_id,
                                          payload={"agent": {"display_name": agent.display_name}})
    except DuplicateMessage:
        async with deps.sessionmaker() as session:
            existing = await find_by_client_id(session, conversation_id, client_msg_id)
        return {**message_to_dict(existing, for_agent=True), "duplicate": True}
    await publish_messages(deps, [msg])
    return message_to_dict(msg, for_agent=True)


async def agent_typing(deps, agent: Agent, conversation_id: str) -> None:
    async with deps.engine.connect() as conn:
        await _check_holder(conn, agent, conversation_id)
    await deps.bus.publish(conv_channel(conversation_id), {"type": "typing", "conversation_id": conversation_id, "sender": "agent"})


async def my_chats(deps, agent: Agent) -> list[dict]:
    async with deps.sessionmaker() as session:
        rows = (await session.execute(
            select(Claim, Conversation, Escalation)
            .join(Conversation, Conversation.id == Claim.conversation_id)
            .join(Escalation, Escalation.id == Claim.escalation_id)
            .where(Claim.agent_id == agent.id, Claim.ended_at.is_(None))
            .order_by(Claim.started_at)
        )).all()
    return [{
        "conversation_id": conv.id, "escalation_id": esc.id, "queue": esc.queue_name, "language": conv.language,
        "municipality": conv.municipality, "mode": conv.mode, "claimed_at": c.started_at.isoformat(),
        "timed_out": conv.timed_out_at is not None, "last_seq": conv.last_seq,
    } for c, conv, esc in rows]


async def queue_overview(deps, agent: Agent) -> list[dict]:
    names = queue_svc.served_queue_names(deps, agent)
    now = utcnow()
    out = []
    async with deps.sessionmaker() as session:
        for name in names:
            q = deps.queues[name]
            waiting = (await session.execute(
                select(Escalation, Conversation)
                .join(Conversation, Conversation.id == Escalation.conversation_id)
                .where(Escalation.queue_name == name, Escalation.status == ESC_WAITING)
                .order_by(Escalation.enqueued_at, Escalation.id).limit(200)
            )).all()
            nxt = None if q.is_open(now) else q.next_open(now)
            out.append({
                "queue": name, "language": q.language, "open": q.is_open(now),
                "next_open": nxt.isoformat() if nxt else None,
                "waiting": [{
                    "escalation_id": e.id, "conversation_id": e.conversation_id, "position": i,
                    "reason": e.reason, "summary": e.summary, "topic": e.topic, "confidence": e.confidence,
                    "municipality": c.municipality, "enqueued_at": e.enqueued_at.isoformat(),
                    "waited_seconds": int((now - e.enqueued_at).total_seconds()),
                } for i, (e, c) in enumerate(waiting, start=1)],
            })
    return out


async def _end_claim(session, claim_row: Claim, reason: str, now: dt.datetime) -> None:
    claim_row.ended_at = now
    claim_row.end_reason = reason


async def transfer(deps, agent: Agent, conversation_id: str, *, queue_name: str | None = None,
                   agent_id: int | None = None) -> dict:
    """To a queue of the chat's language or to an available agent with room: exactly one is given."""
    now = utcnow()
    async with unit_of_work(deps) as uow:
        session = uow.session
        conv, esc, claim_row = await _held(session, deps, agent, conversation_id, lock=True)
        old_agent = claim_row.agent_id
        if queue_name is not None:
            if queue_name not in deps.queues:
                raise not_found("queue")
            if deps.queues[queue_name].language != conv.language:
                raise Invalid("language_mismatch", "the queue serves another language")
            await _end_claim(session, claim_row, "transferred", now)
            await session.flush()  # free the one-active-claim slot before anything else
            esc.status = ESC_WAITING
            esc.queue_name = queue_name
            esc.assigned_agent_id = None
            esc.assigned_at = None
            esc.callback_offered_at = None
            conv.mode = MODE_QUEUED
            msg, _ = await append_message(session, conv.id, "system", i18n.text("transferred", conv.language))
            uow.record(MessageStored(msg), ChatTransferredToQueue(
                conversation_id=conversation_id, escalation_id=esc.id, queue=queue_name, from_agent_id=old_agent,
                language=conv.language, municipality=conv.municipality, reason=esc.reason, summary=esc.summary))
            result = {"status": "queued", "queue": queue_name}
        else:
            if agent_id == old_agent:
                raise Invalid("invalid_transfer", "the chat is already yours")
            target = await session.get(Agent, agent_id, with_for_update=deps.is_postgres, populate_existing=True)
            if target is None or not target.active:
                raise not_found("agent")
            if target.status != "available" or conv.language not in (target.languages or []):
                raise Conflict("agent_unavailable", "that agent is not available for this chat")
            if await _active_claim_count(session, target.id) >= target.capacity:
                raise Conflict("capacity_reached", "that agent has no free capacity")
            await _end_claim(session, claim_row, "transferred", now)
            await session.flush()
            session.add(Claim(escalation_id=esc.id, conversation_id=conv.id, agent_id=target.id, started_at=now))
            esc.assigned_agent_id = target.id
            esc.assigned_at = now
            msg, _ = await append_message(session, conv.id, "system",
                                          i18n.text("agent_joined", conv.language, name=target.display_name),
                                          payload={"agent": {"display_name": target.display_name}})
            uow.record(MessageStored(msg), ChatTransferredToAgent(
                conversation_id=conversation_id, escalation_id=esc.id, queue=esc.queue_name,
                from_agent_id=old_agent, to_agent_id=target.id))
            result = {"status": "assigned", "agent_id": target.id}
    return result


async def close(deps, agent: Agent, conversation_id: str, tags: list[str], note: str | None = None) -> dict:
    """Tags from the taxonomy (at least one); the note is stored masked."""
    now = utcnow()
    async with unit_of_work(deps) as uow:
        session = uow.session
        known = set((await session.execute(select(Tag.code).where(Tag.code.in_(tags), Tag.active.is_(True)))).scalars())
        unknown = [t for t in tags if t not in known]
        if unknown:
            raise Invalid("unknown_tags", "tags are not in the taxonomy", tags=unknown)
        conv, esc, claim_row = await _held(session, deps, agent, conversation_id, lock=True)
        await _end_claim(session, claim_row, "closed", now)
        esc.status = ESC_DONE
        esc.ended_at = now
        closure = Closure(conversation_id=conv.id, agent_id=claim_row.agent_id, reason="agent_closed",
                          note=mask_personal_data(note) if note else None, created_at=now)
        session.add(closure)
        await session.flush()
        for t in tags:
            session.add(ClosureTag(closure_id=closure.id, tag_code=t))
        msg, _ = await append_message(session, conv.id, "system", i18n.text("closed_by_agent", conv.language),
                                      payload={"rating_request": {"min": 1, "max": 9}})
        conv.mode = MODE_CLOSED
        conv.close_reason = "agent_closed"
        conv.closed_at = now
        uow.record(MessageStored(msg), ChatClosed(conversation_id=conversation_id, agent_id=claim_row.agent_id))
    return {"status": "closed", "tags": tags}


async def hand_back(deps, agent: Agent, conversation_id: str) -> dict:
    now = utcnow()
    async with unit_of_work(deps, publish=False) as uow:
        session = uow.session
        conv, esc, claim_row = await _held(session, deps, agent, conversation_id, lock=True)
        if conv.timed_out_at is not None:
            raise Conflict("citizen_gone", "the citizen has left; close the chat with a tag instead")
        await _end_claim(session, claim_row, "handed_back", now)
        esc.status = ESC_DONE
        esc.ended_at = now
        conv.mode = MODE_BOT
        conv.consecutive_fallbacks = 0
        msg, _ = await append_message(session, conv.id, "system", i18n.text("handed_back", conv.language))
        uow.record(MessageStored(msg), HandedBack(conversation_id=conversation_id, agent_id=claim_row.agent_id))
    # Resume after commit: from here on the bridge forwards to Rasa again.
    resumed = await deps.rasa.resume(conversation_id)
    await uow.publish()
    return {"status": "bot", "rasa_resumed": resumed}


async def list_tags(deps) -> list[dict]:
    async with deps.sessionmaker() as session:
        tags = await session.scalars(select(Tag).where(Tag.active.is_(True)).order_by(Tag.code))
        return [{"code": t.code, "labels": t.labels} for t in tags]
