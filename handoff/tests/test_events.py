"""Fan-out: in-process bus, and Redis pub/sub between two bus instances."""

import asyncio
import secrets

from conftest import REDIS_URL

from handoff_bridge.events import LocalBus, RedisBus


async def test_local_bus_delivers_to_subscribers_of_the_channel():
    bus = LocalBus()
    with bus.subscribe("conv.a") as a, bus.subscribe("conv.b") as b:
        await bus.publish("conv.a", {"n": 1})
        assert await a.get(1) == ("conv.a", {"n": 1})
        assert await b.get(0.05) is None
    assert bus.hub._subs == {}


async def test_redis_bus_fans_out_between_instances():
    prefix = f"handoff_events_test_{secrets.token_hex(4)}"
    one, two = RedisBus(REDIS_URL, prefix), RedisBus(REDIS_URL, prefix)
    await one.start()
    await two.start()
    try:
        with two.subscribe("agents") as sub_two, one.subscribe("agents") as sub_one:
            await two.ready(sub_two)
            await one.ready(sub_one)
            for i in range(50):
                await one.publish("agents", {"n": i})
            got_two = [await sub_two.get(2) for _ in range(50)]
            got_one = [await sub_one.get(2) for _ in range(50)]
        assert [e["n"] for _, e in got_two] == list(range(50))
        assert [e["n"] for _, e in got_one] == list(range(50))
    finally:
        await one.stop()
        await two.stop()


async def test_slow_subscriber_is_marked_lagged_not_blocking():
    bus = LocalBus()
    with bus.subscribe("x") as sub:
        for i in range(sub.queue.maxsize + 5):
            await bus.publish("x", {"n": i})
        assert sub.lagged is True
    await asyncio.sleep(0)


async def test_redis_subscriptions_follow_the_local_subscribers():
    # An instance asks Redis only for the channels someone on it listens to,
    # so adding instances does not send every event to every instance.
    import redis.asyncio as redis_asyncio

    prefix = f"handoff_events_test_{secrets.token_hex(4)}"
    bus, other = RedisBus(REDIS_URL, prefix), RedisBus(REDIS_URL, prefix)
    probe = redis_asyncio.from_url(REDIS_URL)
    await bus.start()
    await other.start()

    async def subscribers(channel):
        return dict(await probe.pubsub_numsub(f"{prefix}:{channel}"))[f"{prefix}:{channel}".encode()]

    try:
        assert await subscribers("conv.a") == 0
        with bus.subscribe("conv.a") as a, bus.subscribe("conv.a") as a_again:
            await bus.ready(a)
            await bus.ready(a_again)
            assert await subscribers("conv.a") == 1  # one Redis subscription per channel and instance
            assert await subscribers("conv.b") == 0
            await other.publish("conv.b", {"n": 0})
            await other.publish("conv.a", {"n": 1})
            assert await a.get(2) == ("conv.a", {"n": 1})
            assert await a_again.get(2) == ("conv.a", {"n": 1})
        for _ in range(50):  # the last local subscriber left: so does the instance
            if await subscribers("conv.a") == 0:
                break
            await asyncio.sleep(0.05)
        assert await subscribers("conv.a") == 0
        # Subscribing again works (and waits for Redis before it counts as ready).
        with bus.subscribe("conv.a") as again:
            await bus.ready(again)
            await other.publish("conv.a", {"n": 2})
            assert await again.get(2) == ("conv.a", {"n": 2})
    finally:
        await probe.aclose()
        await bus.stop()
        await other.stop()


async def test_redis_bus_that_loses_redis_tells_its_subscribers_and_recovers():
    """Through a proxy that drops Redis: current subscribers are interrupted once,
    a subscriber that comes during the outage is not (it waits for the new
    connection), and after the restore events flow again."""
    from urllib.parse import urlsplit

    from helpers import CuttableProxy

    target = urlsplit(REDIS_URL)
    proxy = CuttableProxy(target.hostname, target.port or 6379)
    await proxy.start()
    prefix = f"handoff_events_test_{secrets.token_hex(4)}"
    bus = RedisBus(f"redis://127.0.0.1:{proxy.port}{target.path or '/0'}", prefix)
    await bus.start()
    try:
        with bus.subscribe("conv.x") as before:
            assert await bus.ready(before)
            proxy.cut()
            got = await before.get(5)
            assert got is not None and before.interrupted
            with bus.subscribe("conv.x") as during:
                assert not await bus.ready(during, timeout=0.5)  # nothing confirmed while Redis is away
                await asyncio.sleep(1.0)  # failed reconnection attempts meanwhile
                proxy.restore()
                assert await bus.ready(during, timeout=10)
                assert not during.interrupted
                await bus.publish("conv.x", {"n": 1})
                assert await during.get(5) == ("conv.x", {"n": 1})
    finally:
        await bus.stop()
        await proxy.stop()
