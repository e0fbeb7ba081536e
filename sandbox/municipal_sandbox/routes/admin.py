"""Sandbox administration: failure switch and reset. Not part of any system."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json
from sqlalchemy import delete

from ..failures import build_mode
from ..models import Notification, SmsMessage
from ..problems import ProblemError, invalid_request
from ..seed import seed
from ..settings import SYSTEMS
from .common import json_object, protect, reject_unknown_fields


def create_blueprint() -> Blueprint:
    bp = Blueprint("sandbox_admin", url_prefix="/admin/v1")
    # The admin API must keep working while the systems are "down".
    protect(bp, "admin", failure_switch=False)

    @bp.get("/failure-modes")
    async def get_failure_modes(request: Request) -> HTTPResponse:
        return json(request.app.ctx.failures.snapshot())

    @bp.put("/failure-modes/<system:str>")
    async def set_failure_mode(request: Request, system: str) -> HTTPResponse:
        if system not in SYSTEMS:
            raise ProblemError(404, "unknown_system", "Unknown system", f"Systems: {', '.join(SYSTEMS)}.")
        body = json_object(request)
        reject_unknown_fields(body, {"mode", "delay_ms", "failures"})
        try:
            mode = build_mode(body)
        except ValueError as error:
            raise invalid_request(str(error)) from None
        request.app.ctx.failures.set(system, mode)
        return json(mode.as_dict())

    @bp.delete("/failure-modes")
    async def reset_failure_modes(request: Request) -> HTTPResponse:
        request.app.ctx.failures.reset()
        return empty()

    @bp.post("/reset")
    async def reset_sandbox(request: Request) -> HTTPResponse:
        """Back to the seeded state: normal modes, empty outbox, no notifications."""
        request.app.ctx.failures.reset()
        async with request.app.ctx.sessionmaker() as session, session.begin():
            await session.execute(delete(SmsMessage))
            await session.execute(delete(Notification))
        await seed(request.app.ctx.sessionmaker, request.app.ctx.settings.current_date())
        return empty()

    return bp
