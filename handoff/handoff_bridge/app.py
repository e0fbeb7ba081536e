"""Application factory."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging

from sanic import Request, Sanic, json
from sanic.exceptions import SanicException
from sanic.response import empty
from sqlalchemy import text

from .access import enforce_access
from .api import agent as agent_api
from .api import citizen as citizen_api
from .api import demo as demo_api
from .api import editor as editor_api
from .api import insight as insight_api
from .api import review_inbox as review_inbox_api
from .clock import SYSTEM_CLOCK, Clock
from .config_files import load_queues, load_tags
from .errors import ApiError
from .headers import install as install_headers
from .openapi import build_document
from .log_redaction import install_url_redaction
from .privacy import install_log_masking
from .resources import open_resources
from .services.outcomes import refresh_loop as outcomes_loop
from .services.publishing import import_if_empty
from .services.retention import retention_loop
from .services.setup import sweeper
from .settings import Settings
from .web import install as install_web
from .api.contract import Reply, operation

log = logging.getLogger("handoff.app")
_app_counter = itertools.count(1)


def create_app(settings: Settings | None = None, *, name: str | None = None, clock: Clock = SYSTEM_CLOCK) -> Sanic:
    settings = settings or Settings()
    # Fail at start-up, not on the first escalation, when the config files are wrong.
    queue_configs = load_queues(settings.queues_config)
    tag_configs = load_tags(settings.tags_config)

    # Unique names let tests run several apps in one process.
    app = Sanic(name or f"handoff_{next(_app_counter)}")
    app.config.REQUEST_MAX_SIZE = settings.request_max_size
    app.config.WEBSOCKET_MAX_SIZE = settings.websocket_max_size
    app.config.WEBSOCKET_PING_INTERVAL = 20
    app.config.WEBSOCKET_PING_TIMEOUT = 20
    app.config.REQUEST_TIMEOUT = 30
    app.config.RESPONSE_TIMEOUT = settings.long_poll_max_seconds + 15
    app.config.KEEP_ALIVE_TIMEOUT = 75
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.NOISY_EXCEPTIONS = False
    if settings.proxies_count:
        app.config.PROXIES_COUNT = settings.proxies_count
    app.ctx.settings = settings
    # What the rate limits count time with; tests pass a clock they drive.
    app.ctx.clock = clock
    app.ctx.background = set()
    app.ctx.websockets = set()
    app.ctx.stopping = False

    # Each app registers copies of the modules' blueprints: a blueprint keeps every app it
    # was registered with, and their routes, so a process that creates several apps (the
    # tests make one per test) would keep all of them alive.
    for blueprint in (citizen_api.bp, demo_api.bp, agent_api.bp, insight_api.bp, editor_api.bp, review_inbox_api.bp):
        app.blueprint(blueprint.copy(blueprint.name, with_registration=False))
    install_web(app)
    install_headers(app)
    app.on_request(enforce_access)

    @app.before_server_start
    async def start_bridge(app: Sanic):
        install_log_masking()
        install_url_redaction()
        app.ctx.resources = contextlib.AsyncExitStack()
        app.ctx.deps = await app.ctx.resources.enter_async_context(open_resources(
            settings, clock=app.ctx.clock, queue_configs=queue_configs, tag_configs=tag_configs))
        loop = asyncio.get_running_loop()
        app.ctx.sweeper = loop.create_task(sweeper(app.ctx.deps), name="sweeper")
        app.ctx.retention = loop.create_task(retention_loop(app.ctx.deps), name="retention")
        app.ctx.outcomes = loop.create_task(outcomes_loop(app.ctx.deps, settings.insight_refresh_seconds), name="outcomes")
        # First content for the editors: the repository's knowledge/*.yml when the store is empty.
        app.ctx.knowledge_import = loop.create_task(
            import_if_empty(app.ctx.deps) if settings.knowledge_import_on_start else asyncio.sleep(0),
            name="knowledge-import")

    @app.before_server_stop
    async def end_websockets(app: Sanic):
        # Websocket handlers use the database; end them while it is still open.
        app.ctx.stopping = True
        tasks = list(app.ctx.websockets)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    @app.after_server_stop
    async def stop_bridge(app: Sanic):
        tasks = [app.ctx.sweeper, app.ctx.retention, app.ctx.outcomes, app.ctx.knowledge_import, *app.ctx.background]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        await app.ctx.resources.aclose()

    @app.exception(ApiError)
    async def api_error(request: Request, exc: ApiError):
        headers = {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
        return json(exc.body(), status=exc.status, headers=headers)

    @app.exception(SanicException)
    async def sanic_error(request: Request, exc: SanicException):
        status = getattr(exc, "status_code", 500) or 500
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 408: "request_timeout",
                413: "payload_too_large"}.get(status, "error")
        message = str(exc) if status < 500 else "internal error"
        return json({"error": {"code": code, "message": message}}, status=status)

    @app.exception(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json({"error": {"code": "internal_error", "message": "internal error"}}, status=500)

    # Routes made per app say their error format: left to Sanic, it parses the
    # handler's source (ast.parse) at every app creation.
    @app.get("/healthz", error_format="json")
    @operation(
        tags=['operations'],
        summary='Liveness and database check',
        responses={
            200: Reply(None, 'Healthy'),
            503: Reply(None, 'Database unreachable'),
        },
    )
    async def health(request: Request):
        d = request.app.ctx.deps
        try:
            async with d.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), 5)
        except Exception:  # noqa: BLE001 - any failure means not healthy
            return json({"status": "unhealthy", "database": False}, status=503)
        return json({"status": "ok", "database": True, "fanout": "redis" if settings.redis_url else "in-process"})

    @app.get("/api/v1/openapi.json", ctx_auth="public", error_format="json")
    @operation(
        tags=['operations'],
        summary='This document as JSON',
        responses={
            200: Reply(None, 'The OpenAPI document'),
        },
    )
    async def openapi(request: Request):
        # Built from the route table on first use (the router is final by then).
        if getattr(request.app.ctx, "openapi", None) is None:
            request.app.ctx.openapi = build_document(request.app)
        return json(request.app.ctx.openapi)

    if settings.cors_origins:
        _install_cors(app, set(settings.cors_origins))

    return app


def _install_cors(app: Sanic, origins: set[str]) -> None:
    """CORS for the citizen API only: the chat widget runs on the municipalities' sites."""

    def allowed(request: Request) -> str | None:
        origin = request.headers.get("origin")
        if origin and request.path.startswith("/api/v1/citizen/") and (origin in origins or "*" in origins):
            return origin
        return None

    @app.on_request
    async def preflight(request: Request):
        if request.method == "OPTIONS" and allowed(request):
            resp = empty()
            _cors_headers(resp, allowed(request))
            return resp
        return None

    @app.on_response
    async def add_headers(request: Request, response):
        origin = allowed(request)
        if origin:
            _cors_headers(response, origin)

    def _cors_headers(response, origin: str) -> None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
