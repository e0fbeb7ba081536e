"""Agent accounts: passwords, sign-in and sessions, the agent directory, status and presence."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import secrets

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..db.models import Agent, AgentSession, utcnow
from ..errors import Conflict, Invalid, RateLimited, forbidden, not_found, unauthorized
from . import throttle as throttle_svc
from .domain_events import AgentStatusChanged, unit_of_work

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
            raise Invalid("invalid_display_name", "display_name must be 1-128 characters")
        out["display_name"] = name.strip()
    if "role" in data:
        if data["role"] not in ROLES:
            raise Invalid("invalid_role", "role must be agent, supervisor or editor")
        out["role"] = data["role"]
    if "capacity" in data:
        cap = data["capacity"]
        if isinstance(cap, bool) or not isinstance(cap, int) or not 0 <= cap <= 20:
            raise Invalid("invalid_capacity", "capacity must be an integer from 0 to 20")
        out["capacity"] = cap
    if "languages" in data:
        langs = data["languages"]
        if not isinstance(langs, list) or any(lang not in ("da", "sv") for lang in langs):
            raise Invalid("invalid_languages", "languages must be a list of 'da'/'sv'")
        out["languages"] = sorted(set(langs))
    if "municipalities" in data:
        munis = data["municipalities"]
        if not isinstance(munis, list) or any(not isinstance(m, str) or not 1 <= len(m) <= 64 for m in munis):
            raise Invalid("invalid_municipalities", "municipalities must be a list of codes or '*'")
        out["municipalities"] = sorted(set(munis))
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise Invalid("invalid_active", "active must be true or false")
        out["active"] = data["active"]
    if "password" in data:
        pw = data["password"]
        if not isinstance(pw, str) or not 12 <= len(pw) <= 256:
            raise Invalid("weak_password", "password must be 12-256 characters")
        out["password_hash"] = await hash_password(deps, pw)
    return out


async def create_agent(deps, data: dict) -> dict:
    login = data.get("login")
    if not isinstance(login, str) or not 1 <= len(login.strip()) <= 128:
        raise Invalid("invalid_login", "login must be 1-128 characters")
    if "password" not in data:
        raise Invalid("weak_password", "password is required")
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
        raise Conflict("login_taken", "an agent with this login exists") from exc
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
        raise Invalid("invalid_credentials_format", "login and password are required")
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


async def set_status(deps, agent: Agent, status) -> dict:
    if status not in STATUSES:
        raise Invalid("invalid_status", f"status must be one of {', '.join(STATUSES)}")
    async with unit_of_work(deps) as uow:
        await uow.session.execute(update(Agent).where(Agent.id == agent.id).values(status=status, last_seen_at=utcnow()))
        uow.record(AgentStatusChanged(agent_id=agent.id, status=status))
    agent.status = status
    return agent_to_dict(agent)


async def heartbeat(deps, agent_id: int) -> None:
    async with deps.sessionmaker() as session:
        async with session.begin():
            await session.execute(update(Agent).where(Agent.id == agent_id).values(last_seen_at=utcnow()))
