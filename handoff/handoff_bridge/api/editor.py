"""Editor API: sign-in, the answer editor, the publish gate, history and rollback.

Every route but the login is for editors only (`ctx_auth="editor"`); editors
reach no chat, queue or supervisor route (security.py). Request bodies are
pydantic models, validated here at the edge: a bad body is a 400 naming the
field and what is wrong.
"""

from __future__ import annotations

from sanic import Blueprint, Request, json
from sanic.response import empty

from ..errors import bad_request
from ..services import agents as agent_svc
from ..services import answers as answers_svc
from ..security import client_address
from .common import EDITOR_SESSION_COOKIE, deps, require_editor, session_token
from .models import LoginBody, parse_body

bp = Blueprint("editor", url_prefix="/api/v1/editor")
COOKIE_PATH = "/api/v1/editor"


@bp.post("/login", ctx_auth="public")
async def login(request: Request):
    body = parse_body(request, LoginBody)
    d = deps(request)
    token, agent = await agent_svc.login(d, body.login, body.password, client_address(request),
                                         roles=agent_svc.EDITOR_ROLES)
    resp = json({"editor": agent, "token": token})
    resp.add_cookie(EDITOR_SESSION_COOKIE, token, httponly=True, secure=d.settings.cookie_secure,
                    samesite="Strict", max_age=d.settings.session_ttl_seconds, path=COOKIE_PATH)
    return resp


@bp.post("/logout", ctx_auth="editor")
async def logout(request: Request):
    token = session_token(request) or request.cookies.get(EDITOR_SESSION_COOKIE)
    if token:
        await agent_svc.logout(deps(request), token)
    resp = empty()
    resp.delete_cookie(EDITOR_SESSION_COOKIE, path=COOKIE_PATH)
    return resp


@bp.get("/me", ctx_auth="editor")
async def me(request: Request):
    return json(agent_svc.agent_to_dict(await require_editor(request)))


@bp.get("/answers", ctx_auth="editor")
async def list_answers(request: Request):
    """Summaries of every answer (id, category, titles, status), optionally of one language
    and matching a search text (id, category or title)."""
    await require_editor(request)
    language = request.args.get("language")
    if language is not None and language not in ("da", "sv"):
        raise bad_request("invalid_language", "language must be 'da' or 'sv'")
    query = (request.args.get("q") or "").strip().casefold()
    if len(query) > 200:
        raise bad_request("invalid_query", "q must be at most 200 characters")
    async with deps(request).sessionmaker() as session:
        answers = await answers_svc.list_answers(session, language=language)
    if query:
        answers = [a for a in answers if query in a["id"] or query in (a["category"] or "")
                   or any(query in t.casefold() for t in a["titles"].values())]
    return json({"answers": answers})
