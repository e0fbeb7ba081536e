"""Live event fan-out: in-process for the embedded mode, Redis pub/sub between instances.

Events are hints for live delivery only. Everything a client must not lose
(messages, queue state) is in the database first; clients resync from there
using sequence numbers, so a dropped event costs latency, never data.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

log = logging.getLogger("handoff.events")

SUBSCRIBER_QUEUE_SIZE = 1000


class Subscription:
    def __init__(self, hub: "EventHub", channels: set[str]):
        self._hub = hub
        self.channels: set[str] = set()
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=SUBSCRIBER_QUEUE_SIZE)
        # Set when events were dropped because the consumer was too slow.
        self.lagged = False
        for channel in channels:
            self.add(channel)

    def add(self, channel: str) -> None:
        if channel not in self.channels:
            self.channels.add(channel)
            self._hub._subs.setdefault(channel, set()).add(self)

    def remove(self, channel: str) -> None:
        if channel in self.channels:
            self.channels.discard(channel)
            subs = self._hub._subs.get(channel)
            if subs is not None:
                subs.discard(self)
                if not subs:
                    del self._hub._subs[channel]

    def close(self) -> None:
        for channel in list(self.channels):
            self.remove(channel)

    def _offer(self, channel: str, event: dict) -> None:
        try:
            self.queue.put_nowait((channel, event))
        except asyncio.QueueFull:
            self.lagged = True

    async def get(self, timeout: float | None = None) -> tuple[str, dict] | None:
        if not self.queue.empty():
            return self.queue.get_nowait()
        try:
            # asyncio.timeout, unlike wait_for, does not create a task per call.
            async with asyncio.timeout(timeout):
                return await self.queue.get()
        except TimeoutError:
            return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class EventHub:
    """Delivers events to the subscribers inside this process."""

    def __init__(self):
        self._subs: dict[str, set[Subscription]] = {}

    def subscribe(self, *channels: str) -> Subscription:
        return Subscription(self, set(channels))

    def deliver(self, channel: str, event: dict) -> None:
        for sub in list(self._subs.get(channel, ())):
            sub._offer(channel, event)


class LocalBus:
    """Embedded mode: one process, so publishing is local delivery."""

    def __init__(self):
        self.hub = EventHub()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, channel: str, event: dict) -> None:
        self.hub.deliver(channel, event)

    async def publish_many(self, events: list[tuple[str, dict]]) -> None:
        for channel, event in events:
            self.hub.deliver(channel, event)

    def subscribe(self, *channels: str) -> Subscription:
        return self.hub.subscribe(*channels)


class RedisBus:
    """Production: every instance publishes to Redis and delivers what Redis sends back.

    One pattern subscription per instance; local delivery happens only on the
    way back from Redis, so every instance (this one included) sees events in
    the same order Redis does.
    """

    def __init__(self, url: str, prefix: str):
        import redis.asyncio as redis_asyncio

        self.hub = EventHub()
        self._prefix = prefix + ":"
        self._redis = redis_asyncio.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)
        self._pubsub = None
        self._task: asyncio.Task | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        await self._redis.ping()
        self._task = asyncio.create_task(self._run(), name="redis-bus")
        await asyncio.wait_for(self._ready.wait(), 10)

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                await self._pubsub.psubscribe(self._prefix + "*")
                self._ready.set()
                backoff = 0.1
                while True:
                    msg = await self._pubsub.get_message(timeout=1.0)
                    if msg is None or msg.get("type") != "pmessage":
                        continue
                    channel = msg["channel"]
                    if isinstance(channel, bytes):
                        channel = channel.decode()
                    try:
                        event = json.loads(msg["data"])
                    except (ValueError, TypeError):
                        log.warning("dropping malformed event on %s", channel)
                        continue
                    self.hub.deliver(channel[len(self._prefix):], event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect on any Redis failure
                log.warning("redis subscription lost (%s); reconnecting", exc)
                with contextlib.suppress(Exception):
                    await self._pubsub.aclose()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        await self._redis.aclose()

    async def publish(self, channel: str, event: dict) -> None:
        await self._redis.publish(self._prefix + channel, json.dumps(event, separators=(",", ":")))

    async def publish_many(self, events: list[tuple[str, dict]]) -> None:
        """One round trip for a batch of events (in order)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel, event in events:
                pipe.publish(self._prefix + channel, json.dumps(event, separators=(",", ":")))
            await pipe.execute()

    def subscribe(self, *channels: str) -> Subscription:
        return self.hub.subscribe(*channels)


def conv_channel(conversation_id: str) -> str:
    return f"conv.{conversation_id}"


def agent_channel(agent_id: int) -> str:
    return f"agent.{agent_id}"


AGENTS_CHANNEL = "agents"
