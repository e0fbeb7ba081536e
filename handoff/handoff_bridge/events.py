"""Live event fan-out: in-process for the embedded mode, Redis pub/sub between instances.

Events are hints for live delivery only. Everything a client must not lose
(messages, queue state) is in the database first; clients resync from there
using sequence numbers, so a dropped event costs latency, never data.

When events may have been lost for a subscriber (its buffer overflowed, or the
instance lost its Redis connection) the subscription says so (`lagged`,
`interrupted`) and its websocket tells the client to reconnect and resume
from its cursor (close code 4408).
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
        # Set when the instance lost its fan-out (Redis connection): events
        # published meanwhile never reach this subscription.
        self.interrupted = False
        for channel in channels:
            self.add(channel)

    def add(self, channel: str) -> None:
        if channel not in self.channels:
            self.channels.add(channel)
            subs = self._hub._subs.get(channel)
            if subs is None:
                subs = self._hub._subs[channel] = set()
                self._hub.channels_changed()
            subs.add(self)

    def remove(self, channel: str) -> None:
        if channel in self.channels:
            self.channels.discard(channel)
            subs = self._hub._subs.get(channel)
            if subs is not None:
                subs.discard(self)
                if not subs:
                    del self._hub._subs[channel]
                    self._hub.channels_changed()

    def close(self) -> None:
        for channel in list(self.channels):
            self.remove(channel)

    def _offer(self, channel: str, event: dict) -> None:
        try:
            self.queue.put_nowait((channel, event))
        except asyncio.QueueFull:
            self.lagged = True

    def _interrupt(self) -> None:
        self.interrupted = True
        # Wake a consumer waiting in get(); a full queue wakes it anyway.
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait((INTERRUPTED, {"type": INTERRUPTED}))

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

    def __init__(self, on_channels_changed=None):
        self._subs: dict[str, set[Subscription]] = {}
        # Called when a channel gets its first local subscriber or loses its last.
        self._on_channels_changed = on_channels_changed

    def channels(self) -> set[str]:
        return set(self._subs)

    def channels_changed(self) -> None:
        if self._on_channels_changed is not None:
            self._on_channels_changed()

    def subscribe(self, *channels: str) -> Subscription:
        return Subscription(self, set(channels))

    def deliver(self, channel: str, event: dict) -> None:
        for sub in list(self._subs.get(channel, ())):
            sub._offer(channel, event)

    def interrupt_all(self) -> int:
        """Marks every current subscription as having missed events; returns how many."""
        subs = {sub for channel_subs in self._subs.values() for sub in channel_subs}
        for sub in subs:
            sub._interrupt()
        return len(subs)


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

    async def ready(self, sub: Subscription, timeout: float = 5.0) -> bool:
        """Local delivery is live from the moment of subscribing."""
        return True


class RedisBus:
    """Production: every instance publishes to Redis and delivers what Redis sends back.

    Each instance subscribes in Redis to exactly the channels its own
    websockets listen to (one SUBSCRIBE when a channel gets its first local
    subscriber, UNSUBSCRIBE when it loses its last), so an event reaches only
    the instances that have someone for it, however many instances run.
    Local delivery happens only on the way back from Redis, so every instance
    (this one included) sees events in the same order Redis does.
    """

    READY_TIMEOUT = 5.0

    def __init__(self, url: str, prefix: str):
        import redis.asyncio as redis_asyncio

        self.hub = EventHub(on_channels_changed=self._channels_changed)
        self._prefix = prefix + ":"
        # Always subscribed, so the subscriber connection exists from start-up on.
        self._control = self._prefix + "_bus"
        self._redis = redis_asyncio.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)
        self._pubsub = None
        self._task: asyncio.Task | None = None
        self._sync_task: asyncio.Task | None = None
        self._ready = asyncio.Event()
        self._changed = asyncio.Event()
        # Channels asked of Redis on the current connection, and those it confirmed.
        self._requested: set[str] = set()
        self._confirmed: set[str] = set()
        # True while the subscriber connection is up (set after it subscribed).
        self._connected = False
        self._waiters: dict[str, list[asyncio.Future]] = {}

    async def start(self) -> None:
        await self._redis.ping()
        self._task = asyncio.create_task(self._run(), name="redis-bus")
        self._sync_task = asyncio.create_task(self._sync_subscriptions(), name="redis-bus-subscriptions")
        await asyncio.wait_for(self._ready.wait(), 10)

    def _channels_changed(self) -> None:
        self._changed.set()

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                self._pubsub = self._redis.pubsub()
                self._requested, self._confirmed = set(), set()
                await self._pubsub.subscribe(self._control)
                self._connected = True
                self._changed.set()  # (re)subscribe whatever the websockets here listen to
                backoff = 0.1
                while True:
                    msg = await self._pubsub.get_message(timeout=1.0)
                    if msg is not None:
                        self._handle(msg)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect on any Redis failure
                if self._connected:
                    self._lost_fanout(f"redis subscription lost ({exc})")
                else:
                    # Still down: websockets opened since the loss wait for the new connection.
                    log.debug("redis still unreachable (%s)", exc)
                with contextlib.suppress(Exception):
                    await self._pubsub.aclose()
                self._pubsub = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    def _lost_fanout(self, why: str) -> None:
        """Whatever was published from now until the resubscription is confirmed
        never reaches this instance: nothing counts as confirmed any more (so new
        websockets wait for the new connection), and every current subscriber is
        told it missed events."""
        self._connected = False
        self._requested, self._confirmed = set(), set()
        told = self.hub.interrupt_all()
        log.warning("%s; %d subscribers told to resync; reconnecting", why, told)

    def _handle(self, msg: dict) -> None:
        channel = msg["channel"]
        if isinstance(channel, bytes):
            channel = channel.decode()
        kind = msg.get("type")
        if kind == "subscribe":
            if channel == self._control:
                self._ready.set()
                return
            name = channel[len(self._prefix):]
            self._confirmed.add(name)
            for future in self._waiters.pop(name, ()):
                if not future.done():
                    future.set_result(None)
        elif kind == "unsubscribe":
            self._confirmed.discard(channel[len(self._prefix):])
        elif kind == "message" and channel != self._control:
            try:
                event = json.loads(msg["data"])
            except (ValueError, TypeError):
                log.warning("dropping malformed event on %s", channel)
                return
            self.hub.deliver(channel[len(self._prefix):], event)

    async def _sync_subscriptions(self) -> None:
        """Brings the Redis subscriptions in line with the local subscribers; a
        burst of changes (200 websockets opening) becomes one SUBSCRIBE."""
        while True:
            await self._changed.wait()
            self._changed.clear()
            pubsub = self._pubsub
            if pubsub is None:
                continue  # reconnecting; _run sets _changed again
            wanted = self.hub.channels()
            new, gone = wanted - self._requested, self._requested - wanted
            try:
                if gone:
                    self._requested -= gone
                    # Not live from here on, even before Redis confirms.
                    self._confirmed -= gone
                    await pubsub.unsubscribe(*(self._prefix + c for c in gone))
                if new:
                    self._requested |= new
                    await pubsub.subscribe(*(self._prefix + c for c in new))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - _run reconnects and resubscribes
                log.warning("redis subscribe/unsubscribe failed (%s)", exc)

    async def ready(self, sub: Subscription, timeout: float = READY_TIMEOUT) -> bool:
        """Wait until Redis delivers the subscription's channels to this instance,
        so nothing published from now on is missed. Bounded: False when Redis
        did not confirm within the timeout (a websocket then tells its client to
        reconnect; a long poll reads the database)."""
        loop = asyncio.get_running_loop()
        futures = []
        for channel in sub.channels:
            if channel not in self._confirmed:
                future = loop.create_future()
                self._waiters.setdefault(channel, []).append(future)
                futures.append(future)
        if not futures:
            return True
        try:
            await asyncio.wait_for(asyncio.gather(*futures), timeout)
            return True
        except asyncio.TimeoutError:
            log.warning("redis did not confirm %d subscriptions within %.0f s", len(futures), timeout)
            return False
        finally:
            for channel in list(self._waiters):
                pending = [f for f in self._waiters[channel] if not f.done()]
                if pending:
                    self._waiters[channel] = pending
                else:
                    del self._waiters[channel]

    async def stop(self) -> None:
        for task in (self._sync_task, self._task):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        await self._redis.aclose()

    async def publish(self, channel: str, event: dict) -> None:
        try:
            await self._redis.publish(self._prefix + channel, json.dumps(event, separators=(",", ":")))
        except Exception:
            self._publish_failed()
            raise

    async def publish_many(self, events: list[tuple[str, dict]]) -> None:
        """One round trip for a batch of events (in order)."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for channel, event in events:
                    pipe.publish(self._prefix + channel, json.dumps(event, separators=(",", ":")))
                await pipe.execute()
        except Exception:
            self._publish_failed()
            raise

    def _publish_failed(self) -> None:
        """An event that Redis did not take reaches nobody, this instance's own
        websockets included (local delivery comes back through Redis): they
        resync. (While the subscriber connection is down they were told
        already, and newer ones wait for the new connection.) Websockets on
        other instances catch up from the database on their own (see
        api/agent.py, CATCH_UP_SECONDS)."""
        if not self._connected:
            return
        told = self.hub.interrupt_all()
        log.warning("publishing to redis failed; %d subscribers told to resync", told)

    def subscribe(self, *channels: str) -> Subscription:
        return self.hub.subscribe(*channels)


# The pseudo channel of the wake-up an interrupted subscription gets.
INTERRUPTED = "_interrupted"


def conv_channel(conversation_id: str) -> str:
    return f"conv.{conversation_id}"


def agent_channel(agent_id: int) -> str:
    return f"agent.{agent_id}"


AGENTS_CHANNEL = "agents"
