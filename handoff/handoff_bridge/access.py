"""Access rules and CSRF protection for every route.

Every API route declares who may call it with `ctx_auth=` on its decorator:

* `public`     - anyone (conversation start, agent login, the API document)
* `citizen`    - the bearer token of the conversation named in the path, and only that one
* `agent`      - an agent or supervisor session (cookie or bearer)
* `supervisor` - a supervisor session
* `editor`     - an editor session (content editors: the answer editor and the
                 review inbox under /api/v1/editor/). Roles do not overlap: an
                 editor reaches no chat, queue, transcript, callback or
                 supervisor route, and agents and supervisors no editor route.
* `websocket`  - the handler authenticates the first frame or the cookie itself

`enforce_access` (request middleware) applies the rule before the handler
runs and refuses an API route that declares none, so a new route cannot be
open by mistake. The test `tests/api/test_access_rules.py` walks the router.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sanic import Request

from .errors import Forbidden, forbidden, unauthorized

AUTH_LEVELS = ("public", "citizen", "agent", "supervisor", "editor", "websocket")
# Which roles each staff level admits.
LEVEL_ROLES = {"agent": ("agent", "supervisor"), "supervisor": ("supervisor",), "editor": ("editor",)}
CSRF_HEADER = "X-Handoff-CSRF"
_UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def route_auth(request: Request) -> str | None:
    route = request.route
    return getattr(route.ctx, "auth", None) if route is not None else None


def check_csrf(request: Request, bearer_token: str | None, *, require_header: bool = True) -> None:
    """State-changing agent requests that rely on the session cookie must carry the
    custom header (a cross-site form or fetch cannot add it without a CORS preflight,
    which the agent API never grants) and must not come from another site.
    The login itself (no session yet) is checked for the site only: a browser
    always sends Origin on a cross-site POST."""
    if request.method not in _UNSAFE or bearer_token:
        return
    if require_header and request.headers.get(CSRF_HEADER) != "1":
        raise Forbidden("csrf_failed", f"the {CSRF_HEADER} header is required")
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise Forbidden("csrf_failed", "cross-site request refused")
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        raise Forbidden("csrf_failed", "cross-origin request refused")


def same_origin_websocket(request: Request) -> bool:
    """Agent websockets authenticated by cookie must be opened by the bridge's own pages."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.host


async def enforce_access(request: Request):
    from .api.common import bearer, check_request_text, deps
    from .services import accounts as accounts_svc
    from .services import citizen as citizen_svc

    if request.method == "OPTIONS" or request.route is None or not request.path.startswith("/api/"):
        return None
    check_request_text(request)
    level = route_auth(request)
    if level not in AUTH_LEVELS:
        raise forbidden("this route has no access rule")
    d = deps(request)
    token = bearer(request)
    if level == "public":
        if request.path.startswith(("/api/v1/agent/", "/api/v1/editor/")):
            check_csrf(request, token, require_header=False)  # login: no logging in a victim's browser from another site
        return None
    if level == "websocket":
        return None
    if level == "citizen":
        conversation_id = request.match_info.get("conversation_id")
        request.ctx.conversation = await citizen_svc.authenticate(d, conversation_id, token)
        return None
    # agent, supervisor, editor: each has its own session cookie (path).
    from .api.common import EDITOR_SESSION_COOKIE, SESSION_COOKIE

    session = token or request.cookies.get(EDITOR_SESSION_COOKIE if level == "editor" else SESSION_COOKIE)
    if not session:
        raise unauthorized()
    agent = await accounts_svc.agent_for_token(d, session)
    if agent.role not in LEVEL_ROLES[level]:
        raise forbidden({"supervisor": "supervisors only", "editor": "editors only"}.get(
            level, "editors have no access to chats, queues or callbacks"))
    check_csrf(request, token)
    request.ctx.agent = agent
    return None
