"""Application factory of the sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

from . import __version__
from .db import create_engine, create_schema, create_sessionmaker
from .failures import FailureSwitch, parse_mode
from .logmask import logging_config
from .problems import ProblemErrorHandler
from .routes import admin, cases, payout, sms_gateway
from .seed import seed
from .services import Notifier
from .settings import Settings, SettingsError

logger = logging.getLogger("municipal_sandbox.app")

_app_numbers = itertools.count(1)


def create_app(settings: Settings | None = None) -> Sanic:
    settings = settings or Settings.from_env()
    # Fail at creation, not on the first request, when the modes are wrong.
    try:
        initial_modes = {system: parse_mode(spec) for system, spec in settings.initial_failure_modes.items()}
    except ValueError as error:
        raise SettingsError(f"SANDBOX_FAILURE_MODES: {error}") from None

    # Sanic keeps a registry of apps by name; tests create several apps.
    app = Sanic(
        f"municipal_sandbox_{next(_app_numbers)}",
        log_config=logging_config(settings.log_level),
        error_handler=ProblemErrorHandler(),
    )
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.REQUEST_MAX_SIZE = 64 * 1024
    app.config.ACCESS_LOG = settings.access_log
    app.ctx.settings = settings
    app.ctx.failures = FailureSwitch()
    for system, mode in initial_modes.items():
        app.ctx.failures.set(system, mode)

    app.blueprint(payout.create_blueprint())
    app.blueprint(cases.create_blueprint())
    app.blueprint(sms_gateway.create_blueprint())
    app.blueprint(admin.create_blueprint())

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        """Readiness of the process; deliberately ignores the failure switch."""
        return json({"status": "ok", "version": __version__})

    @app.before_server_start
    async def open_resources(app: Sanic) -> None:
        app.ctx.engine = create_engine(settings.database_url)
        await create_schema(app.ctx.engine)
        app.ctx.sessionmaker = create_sessionmaker(app.ctx.engine)
        await seed(app.ctx.sessionmaker, settings.current_date())
        app.ctx.notifier = Notifier(
            app.ctx.sessionmaker,
            app.ctx.failures,
            settings.fingerprint_secret,
            settings.notifications_per_person_per_hour,
        )
        app.ctx.delivery_task = asyncio.create_task(_delivery_worker(app))
        logger.info("sandbox ready (environment %s, today %s)", settings.environment, settings.current_date())

    @app.before_server_stop
    async def stop_worker(app: Sanic) -> None:
        task = getattr(app.ctx, "delivery_task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @app.after_server_stop
    async def close_resources(app: Sanic) -> None:
        engine = getattr(app.ctx, "engine", None)
        if engine is not None:
            await engine.dispose()

    return app


async def _delivery_worker(app: Sanic) -> None:
    """Deliver notifications that waited while the SMS gateway was failing."""
    interval = app.ctx.settings.pending_retry_interval_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            delivered = await app.ctx.notifier.deliver_pending()
            if delivered:
                logger.info("delivered %d waiting notification(s)", delivered)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Keep the worker alive; the next round retries.
            logger.exception("delivery of waiting notifications failed")
