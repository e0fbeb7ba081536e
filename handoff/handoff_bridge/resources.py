"""Opening and closing everything the bridge works with, in one place.

`open_resources(settings)` opens the database engine and its sessions, the
live fan-out (Redis or in-process), the HTTP client to Rasa, the rate
limiter, the phone-number vault, the password hasher and the citizen message
writer, and gives them as one `Deps`; leaving it closes them in the reverse
order, also when opening failed half-way. The app's start and stop listeners
(app.py), the command-line commands (__main__.py) and tests use it, so every
one of them gets the same wiring.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from .clock import SYSTEM_CLOCK, Clock
from .db.engine import make_engine, make_sessionmaker
from .deps import Deps
from .events import LocalBus, RedisBus
from .privacy import PhoneVault
from .rasa import RasaClient
from .rate_limit import RateLimiter
from .services.message_writer import CitizenMessageWriter
from .services.messages import publish_masked_messages, publish_messages
from .services.setup import load_active_queues, sync_config
from .settings import Settings


@contextlib.asynccontextmanager
async def open_resources(settings: Settings, *, clock: Clock = SYSTEM_CLOCK, pool_size: int | None = None,
                         queue_configs: Sequence | None = None, tag_configs: Sequence | None = None,
                         fanout: bool = True) -> AsyncIterator[Deps]:
    """The bridge's resources as one `Deps`, closed on leaving.

    queue_configs, tag_configs: the configuration files' contents
    (config_files.load_queues / load_tags), mirrored into the database and
    the active queues loaded into `Deps.queues`; without them there are no
    queues (commands that do not route chats).

    fanout=False: live events stay in this process (an in-process bus)
    instead of going through the configured Redis: for commands whose changes
    no websocket needs to hear about, so that they do not need Redis.
    """
    async with contextlib.AsyncExitStack() as stack:
        engine = make_engine(settings, pool_size=pool_size)
        stack.push_async_callback(engine.dispose)
        sessionmaker = make_sessionmaker(engine)
        queues = {}
        if queue_configs is not None:
            await sync_config(sessionmaker, queue_configs, tag_configs or [])
            queues = await load_active_queues(sessionmaker)
        if fanout and settings.redis_url:
            bus = RedisBus(settings.redis_url, settings.redis_channel_prefix)
        else:
            bus = LocalBus()
        await bus.start()
        stack.push_async_callback(bus.stop)
        rasa = RasaClient(settings.rasa_url, settings.rasa_token, settings.rasa_timeout_seconds,
                          settings.rasa_delete_timeout_seconds, settings.rasa_health_interval_seconds)
        stack.push_async_callback(rasa.close)
        limiter = RateLimiter(settings.redis_url, settings.redis_channel_prefix, clock=clock)
        stack.push_async_callback(limiter.close)
        deps = Deps(settings=settings, engine=engine, sessionmaker=sessionmaker, bus=bus, rasa=rasa,
                    vault=PhoneVault(settings.fernet_key), queues=queues, limiter=limiter, clock=clock)
        # Coalesced queue-position broadcasts still pending when closing.
        stack.push_async_callback(deps.cancel_pending)
        deps.writer = CitizenMessageWriter(engine, lambda messages: publish_messages(deps, messages),
                                           publish_masked=lambda masked: publish_masked_messages(deps, masked),
                                           lanes=settings.writer_lanes)
        deps.writer.start()
        stack.push_async_callback(deps.writer.stop)
        yield deps
