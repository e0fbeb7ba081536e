"""Canned responses: the agents' prepared answers per language (written by supervisors)."""

from __future__ import annotations

from sqlalchemy import delete, select

from ..db.models import Agent, CannedResponse
from ..errors import Invalid, not_found


def _canned_dict(c: CannedResponse) -> dict:
    return {"id": c.id, "language": c.language, "title": c.title, "body": c.body}


def _validate_canned(data: dict, partial: bool) -> dict:
    out = {}
    for key, limit in (("title", 200), ("body", 4000)):
        if key in data or not partial:
            value = data.get(key)
            if not isinstance(value, str) or not 1 <= len(value.strip()) <= limit:
                raise Invalid(f"invalid_{key}", f"{key} must be 1-{limit} characters")
            out[key] = value.strip()
    if "language" in data or not partial:
        if data.get("language") not in ("da", "sv"):
            raise Invalid("invalid_language", "language must be 'da' or 'sv'")
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
