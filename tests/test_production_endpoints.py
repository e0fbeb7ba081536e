"""The production endpoints (deploy/production/endpoints.yml) work against the
real PostgreSQL and Redis servers: conversations are stored masked and locks
are shared between instances."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from rasa_addons.tracker_store import MaskingSQLTrackerStore
from tests.conftest import ROOT

ENDPOINTS = ROOT / "deploy" / "production" / "endpoints.yml"


@pytest.fixture
def production_env(monkeypatch):
    for name, value in {
        "ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook",
        "ACTION_SERVER_TOKEN": "production-action-server-token",
        "RASA_DB_HOST": "127.0.0.1",
        "RASA_DB_PORT": "5432",
        "RASA_DB_NAME": "test",
        "RASA_DB_USER": "postgres",
        "RASA_DB_PASSWORD": "",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "6379",
        "RASA_REDIS_DB": "1",
    }.items():
        monkeypatch.setenv(name, value)


def test_rasa_calls_the_action_server_with_its_token_in_a_header(production_env, monkeypatch, tmp_path):
    monkeypatch.setenv("RASA_TRACKER_DB", str(tmp_path / "tracker.db"))
    for endpoints in (ENDPOINTS, ROOT / "endpoints.yml"):
        config = read_endpoint_config(str(endpoints), "action_endpoint")
        assert config.headers == {"Authorization": "Bearer production-action-server-token"}
        assert "token" not in config.url and not config.params


def test_tracker_store_is_masking_postgresql(production_env):
    store = TrackerStore.create(read_endpoint_config(str(ENDPOINTS), "tracker_store"), Domain.empty())
    assert isinstance(store, MaskingSQLTrackerStore)
    assert store.engine.dialect.name == "postgresql"
    sender = f"prod-{uuid.uuid4().hex}"
    tracker = DialogueStateTracker.from_events(
        sender, [ActionExecuted("action_listen"), UserUttered("min cpr er 010203-1234")]
    )
    asyncio.run(store.save(tracker))
    assert asyncio.run(store.retrieve(sender)).latest_message.text == "min cpr er [skjult]"
    store.engine.dispose()


def test_lock_store_is_shared_redis(production_env):
    config = read_endpoint_config(str(ENDPOINTS), "lock_store")
    first, second = LockStore.create(config), LockStore.create(config)
    assert isinstance(first, RedisLockStore)
    conversation = f"prod-{uuid.uuid4().hex}"

    order = []

    async def hold(store, name, seconds):
        async with store.lock(conversation, wait_time_in_seconds=0.02):
            order.append(f"{name} in")
            await asyncio.sleep(seconds)
            order.append(f"{name} out")

    async def scenario():
        first_task = asyncio.create_task(hold(first, "first", 0.3))
        await asyncio.sleep(0.05)
        # The second instance waits for the first one's lock on this conversation.
        await hold(second, "second", 0)
        await first_task

    asyncio.run(scenario())
    assert order == ["first in", "first out", "second in", "second out"]
