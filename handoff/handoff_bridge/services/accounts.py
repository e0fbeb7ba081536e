"""Agent accounts: passwords, sign-in and sessions, the agent directory, status and presence."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import secrets
from typing import TYPE_CHECKING

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..db.models import Agent, AgentSession, utcnow
from ..errors import Conflict, RateLimited, forbidden, not_found, unauthorized
from . import throttle as throttle_svc
from .domain_events import AgentStatusChanged, unit_of_work

if TYPE_CHECKING:
    from ..api.models import AgentChangeBody, NewAgentBody

log = logging.getLogger("handoff.agents")

# Verified against when the login is unknown, so timing does not reveal valid logins.
_dummy_hashes: dict[tuple, str] = {}

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


async def create_agent(deps, new: NewAgentBody) -> dict:
    agent = Agent(
        login=new.login, display_name=new.display_name, role=new.role, capacity=new.capacity,
        languages=new.languages, municipalities=new.municipalities, active=new.active, status="offline",
        password_hash=await hash_password(deps, new.password),
    )
    try:
        async with deps.sessionmaker() as session:
            async with session.begin():
                session.add(agent)
    except IntegrityError as exc:
        raise Conflict("login_taken", "an agent with this login exists") from exc
    return agent_to_dict(agent)


async def update_agent(deps, agent_id: int, changes: AgentChangeBody) -> dict:
    """Only the fields the supervisor gave change; deactivating ends the agent's sessions."""
    fields = changes.model_dump(exclude_unset=True)
    if "password" in fields:
        fields["password_hash"] = await hash_password(deps, fields.pop("password"))
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


async def login(deps, login_name: str, password: str, address: str = "unknown",
                roles: tuple[str, ...] = CONSOLE_ROLES) -> tuple[str, dict]:
    """A new session for the account, if its role signs in here (`roles`)."""
    s = deps.settings
    by_login, by_address = throttle_svc.login_key(login_name), throttle_svc.address_key(address)
    locked = await throttle_svc.locked_for(deps, [by_login, by_address])
    if locked is not None:
        raise RateLimited("login_locked", f"too many failed logins; try again in {locked} s", retry_after=locked)
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


async def set_status(deps, agent: Agent, status: str) -> dict:
    async with unit_of_work(deps) as uow:
        await uow.session.execute(update(Agent).where(Agent.id == agent.id).values(status=status, last_seen_at=utcnow()))
        uow.record(AgentStatusChanged(agent_id=agent.id, status=status))
    agent.status = status
    return agent_to_dict(agent)


async def heartbeat(deps, agent_id: int) -> None:
    async with deps.sessionmaker() as session:
        async with session.begin():
            await session.execute(update(Agent).where(Agent.id == agent_id).values(last_seen_at=utcnow()))
