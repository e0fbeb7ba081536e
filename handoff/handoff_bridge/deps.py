"""Resources shared by routes and services, kept on app.ctx.deps (opened by resources.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from .clock import SYSTEM_CLOCK, Clock
from .config_files import QueueConfig
from .privacy import PhoneVault
from .rasa import RasaClient
from .settings import Settings


@dataclass
class Deps:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker
    bus: object  # LocalBus | RedisBus
    rasa: RasaClient
    vault: PhoneVault
    queues: dict[str, QueueConfig]
    hasher: PasswordHasher | None = None
    limiter: object = None  # rate_limit.RateLimiter
    writer: object = None  # services.message_writer.CitizenMessageWriter
    # What the rate limits count time with; tests pass a clock they drive.
    clock: Clock = SYSTEM_CLOCK
    # Serialises bot turns per conversation inside one process, so replies
    # come back in the order the citizen wrote. Entries are dropped when idle.
    _bot_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    # Pending coalesced queue-position broadcasts, one per queue.
    _queue_updates: dict[str, asyncio.Task] = field(default_factory=dict)
    # Newest message and escalation ids the insight outcome refresh has seen (services/outcomes.py).
    outcome_watermarks: tuple[int, int] | None = None

    def __post_init__(self):
        if self.hasher is None:
            self.hasher = PasswordHasher(time_cost=self.settings.password_time_cost,
                                         memory_cost=self.settings.password_memory_kib)

    @property
    def is_postgres(self) -> bool:
        return not self.settings.is_sqlite

    def bot_lock(self, conversation_id: str) -> asyncio.Lock:
        lock = self._bot_locks.get(conversation_id)
        if lock is None:
            lock = self._bot_locks[conversation_id] = asyncio.Lock()
        return lock

    def release_bot_lock(self, conversation_id: str) -> None:
        lock = self._bot_locks.get(conversation_id)
        if lock is not None and not lock.locked():
            self._bot_locks.pop(conversation_id, None)

    def queue_changed(self, queue_name: str) -> None:
        """Broadcast new queue positions soon. A burst of changes (200 escalations
        at once) becomes one broadcast instead of one per change, which would be
        quadratic in the queue length."""
        if queue_name in self._queue_updates:
            return
        self._queue_updates[queue_name] = asyncio.get_running_loop().create_task(self._broadcast_queue(queue_name))

    async def _broadcast_queue(self, queue_name: str) -> None:
        from .services.queue import publish_queue_positions

        try:
            await asyncio.sleep(self.settings.queue_update_delay_seconds)
        finally:
            # Dropped before the broadcast reads the queue, so a change during it schedules another.
            self._queue_updates.pop(queue_name, None)
        try:
            await publish_queue_positions(self, queue_name)
        except Exception:  # noqa: BLE001 - positions are refreshed by the next change
            logging.getLogger("handoff.queue").exception("queue broadcast for %s failed", queue_name)

    async def cancel_pending(self) -> None:
        tasks = list(self._queue_updates.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task

    def queue(self, name: str) -> QueueConfig | None:
        return self.queues.get(name)
