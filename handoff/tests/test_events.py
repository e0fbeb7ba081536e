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
