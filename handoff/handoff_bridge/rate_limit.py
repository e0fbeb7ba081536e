"""Rate limits: fixed-window counters and concurrent-connection counts, per client address
or conversation, in Redis (shared by instances) or in this process."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections import defaultdict

from sanic import Request

from .clock import SYSTEM_CLOCK, Clock
from .errors import RateLimited


def client_address(request: Request) -> str:
    """The client's address: the forwarded one when trusted proxies are configured."""
    return request.remote_addr or request.ip or "unknown"


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


# Increments every key given and starts its expiry on the first count: one
# command for a whole batch of hits (KEYS: counters, ARGV: their TTLs).
_COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
    local count = redis.call('INCR', key)
    if count == 1 then redis.call('EXPIRE', key, ARGV[i]) end
    counts[i] = count
end
return counts
"""


class RateLimiter:
    """Fixed-window counters and concurrent-connection counts.

    With Redis (production, any number of instances) the counts live there;
    without it (development: SQLite, one process) in this process. Keys are
    hashes, so no address or conversation id is stored in Redis.
    """

    CONNECTION_TTL = 60.0  # a crashed instance's websockets stop counting after this
    MAX_HITS_PER_ROUND_TRIP = 1000

    def __init__(self, redis_url: str | None, prefix: str, clock: Clock = SYSTEM_CLOCK):
        self._prefix = f"{prefix}:limits"
        self._clock = clock
        self._redis = None
        if redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(redis_url)
            self._count_script = self._redis.register_script(_COUNT_SCRIPT)
        self._counts: dict[str, tuple[int, int]] = {}
        self._conns: dict[str, dict[str, float]] = defaultdict(dict)
        self._pending_hits: list[tuple[list[str], int, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    async def hit(self, name: str, subject: str, limit: int, window: int = 60) -> int | None:
        """Count one event; returns seconds to wait when over the limit, else None."""
        return await self.hit_many([(name, subject, limit)], window)

    async def hit_many(self, limits: list[tuple[str, str, int]], window: int = 60) -> int | None:
        """Count one event against several (name, subject, limit) counters at once
        (one Redis round trip); seconds to wait when any is over its limit, else None."""
        limits = [(name, subject, limit) for name, subject, limit in limits if limit > 0]
        if not limits:
            return None
        now = self._clock.time()
        slot = int(now // window)
        retry = int((slot + 1) * window - now) + 1
        keys = [f"{self._prefix}:{name}:{_key(subject)}:{slot}" for name, subject, _limit in limits]
        if self._redis is not None:
            counts = await self._count_in_redis(keys, window)
        else:
            counts = []
            for key in keys:
                _slot, count = self._counts.get(key, (slot, 0))
                self._counts[key] = (slot, count + 1)
                counts.append(count + 1)
            if len(self._counts) > 10000:
                self._counts = {k: v for k, v in self._counts.items() if v[0] >= slot}
        over = any(count > limit for count, (_name, _subject, limit) in zip(counts, limits))
        return retry if over else None

    async def _count_in_redis(self, keys: list[str], window: int) -> list[int]:
        """Counters are incremented in batches: every hit that comes in while one
        pipeline is on its way goes into the next, so a busy instance makes one
        round trip per batch, not one per message."""
        future = asyncio.get_running_loop().create_future()
        self._pending_hits.append((keys, window, future))
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_hits())
        return await future

    async def _flush_hits(self) -> None:
        try:
            while self._pending_hits:
                batch = self._pending_hits[:self.MAX_HITS_PER_ROUND_TRIP]
                del self._pending_hits[:self.MAX_HITS_PER_ROUND_TRIP]
                keys = [key for hit_keys, _window, _future in batch for key in hit_keys]
                ttls = [window * 2 for hit_keys, window, _future in batch for _key in hit_keys]
                try:
                    counts = await self._count_script(keys=keys, args=ttls)
                except Exception as exc:  # noqa: BLE001 - each caller gets the error
                    for _keys, _window, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                position = 0
                for hit_keys, _window, future in batch:
                    if not future.done():
                        future.set_result(counts[position:position + len(hit_keys)])
                    position += len(hit_keys)
        finally:
            self._flusher = None

    async def open_connection(self, subject: str, limit: int) -> str | None:
        """Register a websocket; returns its id, or None when the subject has `limit` open."""
        conn_id = uuid.uuid4().hex
        if limit <= 0:
            return conn_id
        key = f"{self._prefix}:ws:{_key(subject)}"
        now = self._clock.time()
        if self._redis is not None:
            pipe = self._redis.pipeline()
            pipe.zremrangebyscore(key, "-inf", now - self.CONNECTION_TTL)
            pipe.zadd(key, {conn_id: now})
            pipe.zcard(key)
            pipe.expire(key, int(self.CONNECTION_TTL) * 2)
            _, _, count, _ = await pipe.execute()
            if count > limit:
                await self._redis.zrem(key, conn_id)
                return None
            return conn_id
        conns = self._conns[key]
        for cid in [c for c, t in conns.items() if t < now - self.CONNECTION_TTL]:
            del conns[cid]
        if len(conns) >= limit:
            return None
        conns[conn_id] = now
        return conn_id

    async def refresh_connection(self, subject: str, conn_id: str) -> None:
        key = f"{self._prefix}:ws:{_key(subject)}"
        if self._redis is not None:
            await self._redis.zadd(key, {conn_id: self._clock.time()}, xx=True)
        elif conn_id in self._conns.get(key, {}):
            self._conns[key][conn_id] = self._clock.time()

    async def close_connection(self, subject: str, conn_id: str) -> None:
        key = f"{self._prefix}:ws:{_key(subject)}"
        if self._redis is not None:
            await self._redis.zrem(key, conn_id)
        else:
            self._conns.get(key, {}).pop(conn_id, None)
            if key in self._conns and not self._conns[key]:
                del self._conns[key]


def too_many(retry_after: int, what: str) -> RateLimited:
    return RateLimited("rate_limited", f"too many {what}; try again in {retry_after} s", retry_after=retry_after)
