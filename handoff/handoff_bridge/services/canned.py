"""Canned responses: the agents' prepared answers per language (written by supervisors)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from ..db.models import Agent, CannedResponse
from ..errors import not_found

if TYPE_CHECKING:
    from ..api.models import CannedChangeBody, NewCannedBody


def _canned_dict(c: CannedResponse) -> dict:
    return {"id": c.id, "language": c.language, "title": c.title, "body": c.body}


async def list_canned(deps, language: str | None) -> list[dict]:
    async with deps.sessionmaker() as session:
        stmt = select(CannedResponse).order_by(CannedResponse.title)
        if language:
            stmt = stmt.where(CannedResponse.language == language)
        return [_canned_dict(c) for c in await session.scalars(stmt)]


async def create_canned(deps, agent: Agent, new: NewCannedBody) -> dict:
    c = CannedResponse(created_by=agent.id, language=new.language, title=new.title, body=new.body)
    async with deps.sessionmaker() as session:
        async with session.begin():
            session.add(c)
    return _canned_dict(c)


async def update_canned(deps, canned_id: int, changes: CannedChangeBody) -> dict:
    """Only the fields given change."""
    fields = changes.model_dump(exclude_unset=True)
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
