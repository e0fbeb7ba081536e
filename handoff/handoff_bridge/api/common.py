"""Helpers shared by the route modules."""

from __future__ import annotations

import hmac

from sanic import Request

from ..errors import bad_request, unauthorized
from ..services import agents as agent_svc

SESSION_COOKIE = "handoff_session"


class tracked_websocket:
    """Registers the running websocket handler so shutdown can end it before the database closes."""

    def __init__(self, request: Request):
        self.app = request.app
        self.task = None

    def __enter__(self):
        import asyncio

        self.task = asyncio.current_task()
        self.app.ctx.websockets.add(self.task)
        return self

    def __exit__(self, *exc):
        self.app.ctx.websockets.discard(self.task)

    @property
    def stopping(self) -> bool:
        return self.app.ctx.stopping


def deps(request: Request):
    return request.app.ctx.deps


def json_body(request: Request) -> dict:
    """The request's JSON object, or a 400 that says what is wrong."""
    if not request.body:
        raise bad_request("missing_body", "a JSON object body is required")
    try:
        data = request.json
    except Exception as exc:  # noqa: BLE001 - Sanic raises its own BadRequest for bad JSON
        raise bad_request("invalid_json", "the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise bad_request("invalid_json", "the body must be a JSON object")
    return data


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def int_arg(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise bad_request("invalid_query", f"{name} must be an integer") from exc
    if not lo <= value <= hi:
        raise bad_request("invalid_query", f"{name} must be between {lo} and {hi}")
    return value


def float_arg(request: Request, name: str, default: float, lo: float, hi: float) -> float:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise bad_request("invalid_query", f"{name} must be a number") from exc
    return max(lo, min(hi, value))


def require_service(request: Request) -> None:
    token = bearer(request)
    expected = deps(request).settings.service_token
    if not token or not hmac.compare_digest(token.encode(), expected.encode()):
        raise unauthorized("invalid service token")


def session_token(request: Request) -> str | None:
    # An explicit Authorization header wins over a cookie the client may also hold.
    return bearer(request) or request.cookies.get(SESSION_COOKIE)


async def current_agent(request: Request):
    return await agent_svc.agent_for_token(deps(request), session_token(request))


async def require_supervisor(request: Request):
    from ..errors import forbidden

    agent = await current_agent(request)
    if agent.role != "supervisor":
        raise forbidden("supervisors only")
    return agent
