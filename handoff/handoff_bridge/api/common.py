"""Helpers shared by the route modules."""

from __future__ import annotations

import json as jsonlib
import re

from sanic import Request

from ..db.models import INT32_MAX
from ..errors import Invalid, NotFound, forbidden
from ..services import accounts as accounts_svc

SESSION_COOKIE = "handoff_session"
# Editors sign in on the editor pages; their cookie is only sent to /api/v1/editor.
EDITOR_SESSION_COOKIE = "handoff_editor_session"
# Sequence numbers (and every other integer the API hands to the database) are
# 32-bit integer columns: larger values are refused before they reach a query.


class InvalidHello(Exception):
    """A websocket's first frame is not a valid hello (error frame, then close 4400).

    Not a ValueError: the hello models (api/models.py) raise it from their checks
    and pydantic would turn a ValueError into its own validation error."""


async def refuse_hello(ws, message: str) -> None:
    import contextlib

    with contextlib.suppress(Exception):
        await ws.send(jsonlib.dumps({"type": "error", "error": {"code": "invalid_hello", "message": message}}))
    await ws.close(code=4400, reason="invalid hello")


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


# NUL cannot be stored in a PostgreSQL text column and an unpaired surrogate is not
# text at all (no UTF-8 form): both are refused wherever they come in.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(value, depth: int = 0) -> bool:
    """True when a JSON value holds a string (or key) that cannot be stored as text."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if depth > 64:
        return True
    if isinstance(value, list):
        return any(unstorable(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(unstorable(k, depth + 1) or unstorable(v, depth + 1) for k, v in value.items())
    return False


def _unstorable_error():
    return Invalid("invalid_text", "text must not contain NUL characters or unpaired surrogates")


# No API object nests deeper than a few levels. Refusing deeper input before
# parsing keeps the JSON decoder from ever reaching Python's recursion limit
# (a RecursionError also corrupts CPython 3.11.7's AST state, gh-106905).
MAX_JSON_DEPTH = 32
_JSON_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')


def too_deep(raw) -> bool:
    """Whether JSON text nests arrays/objects more than MAX_JSON_DEPTH deep."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    depth = 0
    for byte in _JSON_STRINGS.sub(b'""', raw):
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def loads(raw):
    """json.loads without NaN and Infinity (Python's decoder accepts them; no
    column or client can use them)."""
    return jsonlib.loads(raw, parse_constant=_refuse_constant)


def json_body(request: Request) -> dict:
    """The request's JSON object, or a 400 that says what is wrong."""
    if not request.body:
        raise Invalid("missing_body", "a JSON object body is required")
    if too_deep(request.body):
        raise Invalid("invalid_json", f"the body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = loads(request.body)
    except (ValueError, RecursionError) as exc:  # includes invalid UTF-8, NaN and Infinity
        raise Invalid("invalid_json", "the body is not valid JSON (UTF-8, finite numbers)") from exc
    if not isinstance(data, dict):
        raise Invalid("invalid_json", "the body must be a JSON object")
    if unstorable(data):
        raise _unstorable_error()
    return data


def optional_json_body(request: Request) -> dict:
    return json_body(request) if request.body else {}


def parse_frame(raw) -> dict:
    """A websocket frame as a JSON object; ValueError when it is not one (or not storable)."""
    if too_deep(raw):
        raise ValueError("too deeply nested")
    try:
        frame = loads(raw)
    except RecursionError as exc:
        raise ValueError("too deeply nested") from exc
    if not isinstance(frame, dict) or unstorable(frame):
        raise ValueError("frames must be JSON objects of text")
    return frame


async def json_frames(ws, send):
    """The websocket's frames as JSON objects until it closes. A frame that is
    not one gets an error frame back and is skipped."""
    while True:
        raw = await ws.recv()
        if raw is None:
            return
        try:
            frame = parse_frame(raw)
        except ValueError:
            await send({"type": "error", "error": {"code": "invalid_json", "message": "frames must be JSON objects"}})
            continue
        yield frame


def check_request_text(request: Request) -> None:
    """Path parameters and query arguments must be storable text too, and an id
    in the path must fit its column (no row has an id outside 1..INT32_MAX)."""
    for value in request.match_info.values():
        if isinstance(value, str) and _UNSTORABLE.search(value):
            raise _unstorable_error()
        if isinstance(value, int) and not 1 <= value <= INT32_MAX:
            raise NotFound("not_found", "no such id")
    for values in request.args.values():
        if any(_UNSTORABLE.search(v) for v in values):
            raise _unstorable_error()


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def session_token(request: Request) -> str | None:
    # An explicit Authorization header wins over a cookie the client may also hold.
    return bearer(request) or request.cookies.get(SESSION_COOKIE)


async def current_agent(request: Request):
    # Set by access.enforce_access for every agent and supervisor route.
    agent = getattr(request.ctx, "agent", None)
    if agent is None:
        agent = await accounts_svc.agent_for_token(deps(request), session_token(request))
    return agent


async def require_supervisor(request: Request):
    from ..errors import forbidden

    agent = await current_agent(request)
    if agent.role != "supervisor":
        raise forbidden("supervisors only")
    return agent


async def require_editor(request: Request):
    from ..errors import forbidden

    agent = getattr(request.ctx, "agent", None)
    if agent is None:
        agent = await accounts_svc.agent_for_token(deps(request), bearer(request) or request.cookies.get(EDITOR_SESSION_COOKIE))
    if agent.role != "editor":
        raise forbidden("editors only")
    return agent
