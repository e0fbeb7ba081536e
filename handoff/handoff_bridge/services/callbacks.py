"""Callback requests on the agent side: the list, taking one and completing it.
(Citizens ask for a callback in services/citizen.py.)"""

from __future__ import annotations

from sqlalchemy import select, update

from ..db.models import Agent, CallbackRequest, utcnow
from ..errors import Conflict, not_found
from ..privacy import mask_personal_data
from . import queue as queue_svc
from .domain_events import CallbackDone, CallbackTaken, unit_of_work


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
    names = queue_svc.served_queue_names(deps, agent)
    async with deps.sessionmaker() as session:
        stmt = select(CallbackRequest).where(CallbackRequest.queue_name.in_(names)).order_by(
            CallbackRequest.created_at, CallbackRequest.id).limit(500)
        if status:
            stmt = stmt.where(CallbackRequest.status == status)
        return [_callback_dict(deps, cb, agent) for cb in await session.scalars(stmt)]


async def take_callback(deps, agent: Agent, callback_id: int) -> dict:
    async with unit_of_work(deps) as uow:
        session = uow.session
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
            raise Conflict("already_taken", "this callback is taken or done")
        uow.record(CallbackTaken(callback_id=callback_id, agent_id=agent.id))
    return _callback_dict(deps, cb, agent)


async def complete_callback(deps, agent: Agent, callback_id: int, outcome: str | None) -> dict:
    async with unit_of_work(deps) as uow:
        cb = await uow.session.get(CallbackRequest, callback_id)
        if cb is None:
            raise not_found("callback request")
        if cb.status != "in_progress" or (cb.agent_id != agent.id and agent.role != "supervisor"):
            raise Conflict("not_yours", "take the callback before completing it")
        cb.status = "done"
        cb.outcome = mask_personal_data(outcome) if outcome else None
        uow.record(CallbackDone(callback_id=callback_id))
    return _callback_dict(deps, cb, agent)
