"""Agent side: accounts and sessions, claiming, replying, transfer, close, hand-back."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import secrets

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from .. import i18n
from ..db.models import (
    INT32_MAX,
    ESC_ASSIGNED,
    ESC_DONE,
    ESC_WAITING,
    MODE_AGENT,
    MODE_BOT,
    MODE_CLOSED,
    MODE_QUEUED,
    Agent,
    AgentSession,
    CallbackRequest,
    CannedResponse,
    Claim,
    Closure,
    ClosureTag,
    Conversation,
    Escalation,
    Tag,
    utcnow,
)
from ..errors import ApiError, bad_request, conflict, forbidden, not_found, unauthorized
from ..events import agent_channel, conv_channel
from ..privacy import mask_personal_data
from . import audit as audit_svc
from . import queue as queue_svc
from . import throttle as throttle_svc
from .messages import (
    DuplicateMessage,
    append_message,
    find_by_client_id,
    message_to_dict,
    messages_after,
    publish_agents,
    publish_messages,
    publish_status,
)

log = logging.getLogger("handoff.agents")

# Verified against when the login is unknown, so timing does not reveal valid logins.
_dummy_hashes: dict[tuple, str] = {}

STATUSES = ("available", "busy", "away", "offline")
ROLES = ("agent", "supervisor", "editor")
# Who signs in where: the console and supervisor pages, or the editor pages.
CONSOLE_ROLES = ("agent", "supervisor")
EDITOR_ROLES = ("editor",)


async def hash_password(deps, password: str) -> str:
    # argon2 takes a good part of a second by design: keep it off the event loop.
    return await asyncio.to_thread(deps.hasher.hash, password)


async def _verify(deps, stored_hash: str | None, password: str) -> bool:
    hasher = deps.hasher
    if stored_hash is None:
        key = (hasher.time_cost, hasher.memory_cost)
        if key not in _dummy_hashes:
            _dummy_hashes[key] = await asyncio.to_thread(hasher.hash, secrets.token_urlsafe(16))
        stored_hash = _dummy_hashes[key]
        real = False
    else:
        real = True
    try:
        await asyncio.to_thread(hasher.verify, stored_hash, password)
        return real
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def agent_to_dict(a: Agent) -> dict:
    return {
        "id": a.id,
        "login": a.login,
        "display_name": a.display_name,
        "role": a.role,
        "status": a.status,
        "capacity": a.capacity,
        "languages": a.languages,
        "municipalities": a.municipalities,
        "active": a.active,
    }


async def _validate_agent_fields(deps, data: dict, *, partial: bool) -> dict:
    out = {}
    if "display_name" in data or not partial:
        name = data.get("display_name") or data.get("login")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 128:
            raise bad_request("invalid_display_name", "display_name must be 1-128 characters")
        out["display_name"] = name.strip()
    if "role" in data:
        if data["role"] not in ROLES:
            raise bad_request("invalid_role", "role must be agent, supervisor or editor")
        out["role"] = data["role"]
    if "capacity" in data:
        cap = data["capacity"]
        if isinstance(cap, bool) or not isinstance(cap, int) or not 0 <= cap <= 20:
            raise bad_request("invalid_capacity", "capacity must be an integer from 0 to 20")
        out["capacity"] = cap
    if "languages" in data:
        langs = data["languages"]
        if not isinstance(langs, list) or any(lang not in ("da", "sv") for lang in langs):
            raise bad_request("invalid_languages", "languages must be a list of 'da'/'sv'")
        out["languages"] = sorted(set(langs))
    if "municipalities" in data:
        munis = data["municipalities"]
        if not isinstance(munis, list) or any(not isinstance(m, str) or not 1 <= len(m) <= 64 for m in munis):
            raise bad_request("invalid_municipalities", "municipalities must be a list of codes or '*'")
        out["municipalities"] = sorted(set(munis))
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise bad_request("invalid_active", "active must be true or false")
        out["active"] = data["active"]
    if "password" in data:
        pw = data["password"]
        if not isinstance(pw, str) or not 12 <= len(pw) <= 256:
            raise bad_request("weak_password", "password must be 12-256 characters")
        out["password_hash"] = await hash_password(deps, pw)
    return out


async def create_agent(deps, data: dict) -> dict:
    login = data.get("login")
    if not isinstance(login, str) or not 1 <= len(login.strip()) <= 128:
        raise bad_request("invalid_login", "login must be 1-128 characters")
    if "password" not in data:
        raise bad_request("weak_password", "password is required")
    fields = await _validate_agent_fields(deps, data, partial=False)
    agent = Agent(
        login=login.strip().lower(),
        role=fields.pop("role", "agent"),
        capacity=fields.pop("capacity", 3),
        languages=fields.pop("languages", ["da"]),
        municipalities=fields.pop("municipalities", ["*"]),
        status="offline",
        **fields,
    )
    try:
        async with deps.sessionmaker() as session:
            async with session.begin():
                session.add(agent)
    except IntegrityError as exc:
        raise conflict("login_taken", "an agent with this login exists") from exc
    return agent_to_dict(agent)


async def update_agent(deps, agent_id: int, data: dict) -> dict:
    fields = await _validate_agent_fields(deps, data, partial=True)
    async with deps.sessionmaker() as session:
        async with session.begin():
            agent = await session.get(Agent, agent_id)
            if agent is None:
                raise not_found("agent")
            for key, value in fields.items():
                setattr(agent, key, value)
            if fields.get("active") is False:
                await session.execute(delete(AgentSession).where(AgentSession.agent_id == agent_id))
    return agent_to_dict(agent)


async def list_agents(deps) -> list[dict]:
    async with deps.sessionmaker() as session:
        agents = await session.scalars(select(Agent).order_by(Agent.id))
        return [agent_to_dict(a) for a in agents]


async def login(deps, login_name, password, address: str = "unknown",
                roles: tuple[str, ...] = CONSOLE_ROLES) -> tuple[str, dict]:
    """A new session for the account, if its role signs in here (`roles`)."""
    if not isinstance(login_name, str) or not isinstance(password, str) or len(password) > 256 or len(login_name) > 256:
        raise bad_request("invalid_credentials_format", "login and password are required")
    s = deps.settings
    by_login, by_address = throttle_svc.login_key(login_name), throttle_svc.address_key(address)
    locked = await throttle_svc.locked_for(deps, [by_login, by_address])
    if locked is not None:
        raise ApiError("login_locked", f"too many failed logins; try again in {locked} s", 429, retry_after=locked)
    async with deps.sessionmaker() as session:
        agent = await session.scalar(select(Agent).where(Agent.login == login_name.strip().lower()))
    ok = await _verify(deps, agent.password_hash if agent else None, password)
    if not ok or not agent.active:
        await throttle_svc.record_failure(deps, [(by_login, s.login_max_failures),
                                                 (by_address, s.login_address_max_failures)])
        log.info("failed agent login")
        raise unauthorized("wrong login or password")
    await throttle_svc.reset(deps, by_login)
    if agent.role not in roles:
        # Only said after the right password: it reveals nothing to a guesser.
        raise forbidden("editor accounts sign in on the editor pages (/editor/)" if agent.role == "editor"
                        else "this account does not sign in here; use the agent console (/console/)")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    async with deps.sessionmaker() as session:
        async with session.begin():
            session.add(AgentSession(token_hash=_token_hash(token), agent_id=agent.id, created_at=now,
                                     expires_at=now + dt.timedelta(seconds=deps.settings.session_ttl_seconds)))
            if deps.hasher.check_needs_rehash(agent.password_hash):
                new_hash = await hash_password(deps, password)
                await session.execute(update(Agent).where(Agent.id == agent.id).values(password_hash=new_hash))
            # Drop this agent's expired sessions while we are here.
            await session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id, AgentSession.expires_at < now))
    return token, agent_to_dict(agent)


async def agent_for_token(deps, token: str | None) -> Agent:
    if not token:
        raise unauthorized()
    async with deps.sessionmaker() as session:
        row = (await session.execute(
            select(Agent, AgentSession.expires_at)
            .join(AgentSession, AgentSession.agent_id == Agent.id)
            .where(AgentSession.token_hash == _token_hash(token))
        )).first()
    if row is None or row[1] < utcnow() or not row[0].active:
        raise unauthorized("session expired or unknown")
    return row[0]


async def logout(deps, token: str) -> None:
    async with deps.sessionmaker() as session:
        async with session.begin():
            await session.execute(delete(AgentSession).where(AgentSession.token_hash == _token_hash(token)))


async def set_status(deps, agent: Agent, status) -> dict:
    if status not in STATUSES:
        raise bad_request("invalid_status", f"status must be one of {', '.join(STATUSES)}")
    async with deps.sessionmaker() as session:
        async with session.begin():
            await session.execute(update(Agent).where(Agent.id == agent.id).values(status=status, last_seen_at=utcnow()))
    agent.status = status
    await publish_agents(deps, {"type": "agent_status", "agent_id": agent.id, "status": status})
    return agent_to_dict(agent)


async def heartbeat(deps, agent_id: int) -> None:
    async with deps.sessionmaker() as session:
        async with session.begin():
            await session.execute(update(Agent).where(Agent.id == agent_id).values(last_seen_at=utcnow()))


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
        async with deps.sessionmaker() as session:
            async with session.begin():
                me = await _lock_agent(deps, session, agent.id)
                if me.status != "available":
                    raise conflict("not_available", "set your status to available to take chats")
                if await _active_claim_count(session, me.id) >= me.capacity:
                    raise conflict("capacity_reached", "you already have as many chats as your capacity allows")
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
                        raise ApiError("queue_empty", "no chat is waiting in your queues", 404)
                res = await session.execute(
                    update(Escalation)
                    .where(Escalation.id == target, Escalation.status == ESC_WAITING)
                    .values(status=ESC_ASSIGNED, assigned_agent_id=me.id, assigned_at=now)
                    .execution_options(synchronize_session=False)
                )
                if res.rowcount != 1:
                    if escalation_id is not None:
                        raise conflict("already_claimed", "another agent has taken this chat")
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
            await publish_messages(deps, [msg])
            await publish_status(deps, conv.id, MODE_AGENT, agent={"display_name": me.display_name})
            await deps.bus.publish(agent_channel(me.id), {"type": "chat_assigned", **result})
            await publish_agents(deps, {"type": "chat_claimed", "escalation_id": esc.id, "conversation_id": conv.id,
                                        "queue": esc.queue_name, "agent_id": me.id})
            deps.queue_changed(esc.queue_name)
            return result
    raise conflict("busy", "too many agents are claiming at once; try again")


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


async def reply(deps, agent: Agent, conversation_id: str, text, client_msg_id=None) -> dict:
    from .citizen import validate_text

    text = validate_text(deps, text)
    if client_msg_id is not None and (not isinstance(client_msg_id, str) or not 1 <= len(client_msg_id) <= 64):
        raise bad_request("invalid_client_msg_id", "client_msg_id must be 1-64 characters")
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


async def transfer(deps, agent: Agent, conversation_id: str, *, queue_name=None, agent_id=None) -> dict:
    if (queue_name is None) == (agent_id is None):
        raise bad_request("invalid_transfer", "give exactly one of queue or agent_id")
    now = utcnow()
    async with deps.sessionmaker() as session:
        async with session.begin():
            conv, esc, claim_row = await _held(session, deps, agent, conversation_id, lock=True)
            old_agent = claim_row.agent_id
            if queue_name is not None:
                if queue_name not in deps.queues:
                    raise not_found("queue")
                if deps.queues[queue_name].language != conv.language:
                    raise bad_request("language_mismatch", "the queue serves another language")
                await _end_claim(session, claim_row, "transferred", now)
                await session.flush()  # free the one-active-claim slot before anything else
                esc.status = ESC_WAITING
                esc.queue_name = queue_name
                esc.assigned_agent_id = None
                esc.assigned_at = None
                esc.callback_offered_at = None
                conv.mode = MODE_QUEUED
                msg, _ = await append_message(session, conv.id, "system", i18n.text("transferred", conv.language))
                result = {"status": "queued", "queue": queue_name}
            else:
                if isinstance(agent_id, bool) or not isinstance(agent_id, int) or not 1 <= agent_id <= INT32_MAX:
                    raise bad_request("invalid_agent_id", "agent_id must be an agent's id (a positive integer)")
                if agent_id == old_agent:
                    raise bad_request("invalid_transfer", "the chat is already yours")
                target = await session.get(Agent, agent_id, with_for_update=deps.is_postgres, populate_existing=True)
                if target is None or not target.active:
                    raise not_found("agent")
                if target.status != "available" or conv.language not in (target.languages or []):
                    raise conflict("agent_unavailable", "that agent is not available for this chat")
                if await _active_claim_count(session, target.id) >= target.capacity:
                    raise conflict("capacity_reached", "that agent has no free capacity")
                await _end_claim(session, claim_row, "transferred", now)
                await session.flush()
                session.add(Claim(escalation_id=esc.id, conversation_id=conv.id, agent_id=target.id, started_at=now))
                esc.assigned_agent_id = target.id
                esc.assigned_at = now
                msg, _ = await append_message(session, conv.id, "system",
                                              i18n.text("agent_joined", conv.language, name=target.display_name),
                                              payload={"agent": {"display_name": target.display_name}})
                result = {"status": "assigned", "agent_id": target.id}
            esc_id, esc_queue = esc.id, esc.queue_name
    await publish_messages(deps, [msg])
    await deps.bus.publish(agent_channel(old_agent), {"type": "chat_released", "conversation_id": conversation_id, "reason": "transferred"})
    if queue_name is not None:
        await publish_status(deps, conversation_id, MODE_QUEUED)
        await publish_agents(deps, {"type": "chat_waiting", "escalation_id": esc_id, "conversation_id": conversation_id,
                                    "queue": esc_queue, "language": conv.language, "municipality": conv.municipality,
                                    "reason": esc.reason, "summary": esc.summary, "transferred": True})
        deps.queue_changed(esc_queue)
    else:
        await deps.bus.publish(agent_channel(agent_id), {"type": "chat_assigned", "escalation_id": esc_id,
                                                         "conversation_id": conversation_id, "queue": esc_queue,
                                                         "transferred_from": old_agent})
    return result


async def close(deps, agent: Agent, conversation_id: str, tags, note=None) -> dict:
    if not isinstance(tags, list) or not tags or any(not isinstance(t, str) for t in tags):
        raise bad_request("tags_required", "close needs at least one tag from the taxonomy")
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise bad_request("invalid_note", "note must be text of at most 2000 characters")
    tags = sorted(set(tags))
    now = utcnow()
    async with deps.sessionmaker() as session:
        async with session.begin():
            known = set((await session.execute(select(Tag.code).where(Tag.code.in_(tags), Tag.active.is_(True)))).scalars())
            unknown = [t for t in tags if t not in known]
            if unknown:
                raise bad_request("unknown_tags", "tags are not in the taxonomy", tags=unknown)
            conv, esc, claim_row = await _held(session, deps, agent, conversation_id, lock=True)
            await _end_claim(session, claim_row, "closed", now)
            esc.status = ESC_DONE
            esc.ended_at = now
            closure = Closure(conversation_id=conv.id, agent_id=claim_row.agent_id, reason="agent_closed",
                              note=mask_personal_data(note.strip()) if note else None, created_at=now)
            session.add(closure)
            await session.flush()
            for t in tags:
                session.add(ClosureTag(closure_id=closure.id, tag_code=t))
            msg, _ = await append_message(session, conv.id, "system", i18n.text("closed_by_agent", conv.language),
                                          payload={"rating_request": {"min": 1, "max": 9}})
            conv.mode = MODE_CLOSED
            conv.close_reason = "agent_closed"
            conv.closed_at = now
            holder = claim_row.agent_id
    await publish_messages(deps, [msg])
    await publish_status(deps, conversation_id, MODE_CLOSED, reason="agent_closed", rating_requested=True)
    await deps.bus.publish(agent_channel(holder), {"type": "chat_released", "conversation_id": conversation_id, "reason": "closed"})
    return {"status": "closed", "tags": tags}


async def hand_back(deps, agent: Agent, conversation_id: str) -> dict:
    now = utcnow()
    async with deps.sessionmaker() as session:
        async with session.begin():
            conv, esc, claim_row = await _held(session, deps, agent, conversation_id, lock=True)
            if conv.timed_out_at is not None:
                raise conflict("citizen_gone", "the citizen has left; close the chat with a tag instead")
            await _end_claim(session, claim_row, "handed_back", now)
            esc.status = ESC_DONE
            esc.ended_at = now
            conv.mode = MODE_BOT
            conv.consecutive_fallbacks = 0
            msg, _ = await append_message(session, conv.id, "system", i18n.text("handed_back", conv.language))
            holder = claim_row.agent_id
    # Resume after commit: from here on the bridge forwards to Rasa again.
    resumed = await deps.rasa.resume(conversation_id)
    await publish_messages(deps, [msg])
    await publish_status(deps, conversation_id, MODE_BOT)
    await deps.bus.publish(agent_channel(holder), {"type": "chat_released", "conversation_id": conversation_id, "reason": "handed_back"})
    return {"status": "bot", "rasa_resumed": resumed}


# --- tags, canned responses, callbacks --------------------------------------------------

async def list_tags(deps) -> list[dict]:
    async with deps.sessionmaker() as session:
        tags = await session.scalars(select(Tag).where(Tag.active.is_(True)).order_by(Tag.code))
        return [{"code": t.code, "labels": t.labels} for t in tags]


def _canned_dict(c: CannedResponse) -> dict:
    return {"id": c.id, "language": c.language, "title": c.title, "body": c.body}


def _validate_canned(data: dict, partial: bool) -> dict:
    out = {}
    for key, limit in (("title", 200), ("body", 4000)):
        if key in data or not partial:
            value = data.get(key)
            if not isinstance(value, str) or not 1 <= len(value.strip()) <= limit:
                raise bad_request(f"invalid_{key}", f"{key} must be 1-{limit} characters")
            out[key] = value.strip()
    if "language" in data or not partial:
        if data.get("language") not in ("da", "sv"):
            raise bad_request("invalid_language", "language must be 'da' or 'sv'")
        out["language"] = data["language"]
    return out


async def list_canned(deps, language: str | None) -> list[dict]:
    async with deps.sessionmaker() as session:
        stmt = select(CannedResponse).order_by(CannedResponse.title)
        if language:
            stmt = stmt.where(CannedResponse.language == language)
        return [_canned_dict(c) for c in await session.scalars(stmt)]


async def create_canned(deps, agent: Agent, data: dict) -> dict:
    fields = _validate_canned(data, partial=False)
    c = CannedResponse(created_by=agent.id, **fields)
    async with deps.sessionmaker() as session:
        async with session.begin():
            session.add(c)
    return _canned_dict(c)


async def update_canned(deps, canned_id: int, data: dict) -> dict:
    fields = _validate_canned(data, partial=True)
    async with deps.sessionmaker() as session:
        async with session.begin():
            c = await session.get(CannedResponse, canned_id)
            if c is None:
                raise not_found("canned response")
            for k, v in fields.items():
                setattr(c, k, v)
    return _canned_dict(c)


async def delete_canned(deps, canned_id: int) -> None:
    async with deps.sessionmaker() as session:
        async with session.begin():
            res = await session.execute(delete(CannedResponse).where(CannedResponse.id == canned_id))
            if res.rowcount != 1:
                raise not_found("canned response")


def phone_hint(phone: str) -> str:
    """Enough of a phone number to tell callbacks apart, not to call: the last 4 digits."""
    return "•••• " + phone[-4:]


def _callback_dict(deps, cb: CallbackRequest, viewer: Agent) -> dict:
    """The full number only for the agent who took the callback (the taking is
    audited) and for supervisors once it is taken; everyone else sees a hint."""
    phone = deps.vault.decrypt(cb.phone_encrypted)
    revealed = cb.status != "open" and (cb.agent_id == viewer.id or viewer.role == "supervisor")
    return {
        "id": cb.id, "conversation_id": cb.conversation_id, "queue": cb.queue_name, "language": cb.language,
        "municipality": cb.municipality, "phone": phone if revealed else None, "phone_hint": phone_hint(phone),
        "description": cb.description, "status": cb.status, "agent_id": cb.agent_id, "outcome": cb.outcome,
        "created_at": cb.created_at.isoformat(),
    }


async def list_callbacks(deps, agent: Agent, status: str | None) -> list[dict]:
    if status is not None and status not in ("open", "in_progress", "done"):
        raise bad_request("invalid_status", "status must be open, in_progress or done")
    names = queue_svc.served_queue_names(deps, agent)
    async with deps.sessionmaker() as session:
        stmt = select(CallbackRequest).where(CallbackRequest.queue_name.in_(names)).order_by(
            CallbackRequest.created_at, CallbackRequest.id).limit(500)
        if status:
            stmt = stmt.where(CallbackRequest.status == status)
        return [_callback_dict(deps, cb, agent) for cb in await session.scalars(stmt)]


async def take_callback(deps, agent: Agent, callback_id: int) -> dict:
    async with deps.sessionmaker() as session:
        async with session.begin():
            res = await session.execute(
                update(CallbackRequest)
                .where(CallbackRequest.id == callback_id, CallbackRequest.status == "open",
                       CallbackRequest.queue_name.in_(queue_svc.served_queue_names(deps, agent)))
                .values(status="in_progress", agent_id=agent.id, updated_at=utcnow())
            )
            cb = await session.get(CallbackRequest, callback_id)
            if cb is None:
                raise not_found("callback request")
            if res.rowcount != 1:
                raise conflict("already_taken", "this callback is taken or done")
    await publish_agents(deps, {"type": "callback_taken", "callback_id": callback_id, "agent_id": agent.id})
    return _callback_dict(deps, cb, agent)


async def complete_callback(deps, agent: Agent, callback_id: int, outcome) -> dict:
    if outcome is not None and (not isinstance(outcome, str) or len(outcome) > 2000):
        raise bad_request("invalid_outcome", "outcome must be text of at most 2000 characters")
    async with deps.sessionmaker() as session:
        async with session.begin():
            cb = await session.get(CallbackRequest, callback_id)
            if cb is None:
                raise not_found("callback request")
            if cb.status != "in_progress" or (cb.agent_id != agent.id and agent.role != "supervisor"):
                raise conflict("not_yours", "take the callback before completing it")
            cb.status = "done"
            cb.outcome = mask_personal_data(outcome.strip()) if outcome else None
    await publish_agents(deps, {"type": "callback_done", "callback_id": callback_id})
    return _callback_dict(deps, cb, agent)

