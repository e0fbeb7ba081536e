"""open_resources: everything the bridge works with, opened as one Deps and closed again."""

from __future__ import annotations

import pytest
from conftest import free_port
from helpers import ManualClock
from sqlalchemy import event, text

from handoff_bridge import resources
from handoff_bridge.config_files import load_queues, load_tags
from handoff_bridge.events import LocalBus, RedisBus
from handoff_bridge.resources import open_resources


@pytest.fixture
def disposed(monkeypatch) -> list:
    """Records each engine that open_resources disposes of."""
    seen = []
    make_engine = resources.make_engine

    def recording_make_engine(settings, **kwargs):
        engine = make_engine(settings, **kwargs)
        event.listen(engine.sync_engine, "engine_disposed", lambda _engine: seen.append(engine))
        return engine

    monkeypatch.setattr(resources, "make_engine", recording_make_engine)
    return seen


async def test_everything_is_opened_wired_and_closed(backend_settings, disposed):
    clock = ManualClock(start=60 * 16_667 + 30.0)
    async with open_resources(backend_settings, clock=clock,
                              queue_configs=load_queues(backend_settings.queues_config),
                              tag_configs=load_tags(backend_settings.tags_config)) as deps:
        async with deps.sessionmaker() as session:
            assert await session.scalar(text("SELECT 1")) == 1
        assert {"da-general", "sv-general"} <= set(deps.queues)
        assert isinstance(deps.bus, RedisBus if backend_settings.redis_url else LocalBus)
        with deps.bus.subscribe("resources-test") as sub:
            assert await deps.bus.ready(sub)
            await deps.bus.publish("resources-test", {"type": "ping"})
            assert await sub.get(5) == ("resources-test", {"type": "ping"})
        # The limiter counts windows with the clock given: 30 s into a minute, 31 s to wait.
        assert deps.clock is clock
        assert await deps.limiter.hit("resources-test", "subject", 1) is None
        assert await deps.limiter.hit("resources-test", "subject", 1) == 31
        assert deps.vault.decrypt(deps.vault.encrypt("+45 12 34 56 78")) == "+45 12 34 56 78"
        assert deps.writer is not None and deps.rasa is not None and deps.hasher is not None
        writer_tasks = list(deps.writer._tasks)
        assert writer_tasks and not any(task.done() for task in writer_tasks)
    assert disposed == [deps.engine]
    assert all(task.done() for task in writer_tasks)
    assert deps.rasa._client.is_closed


async def test_a_failure_while_opening_closes_what_was_opened(backend_settings, disposed):
    # Nothing listens on this port: the fan-out cannot start.
    settings = backend_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    with pytest.raises(Exception):
        async with open_resources(settings):
            pytest.fail("opened without its fan-out")
    assert len(disposed) == 1


async def test_commands_without_fanout_need_no_redis(backend_settings, disposed):
    settings = backend_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    async with open_resources(settings, fanout=False) as deps:
        assert isinstance(deps.bus, LocalBus)
        assert deps.queues == {}
        async with deps.sessionmaker() as session:
            assert await session.scalar(text("SELECT 1")) == 1
    assert disposed == [deps.engine]
