"""Fixtures: the app on a temporary database, served on a free local port
inside the test's event loop, with its listeners run once as in production."""

from __future__ import annotations

import os

import datetime as dt
import socket
from pathlib import Path

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from municipal_sandbox.app import create_app
from municipal_sandbox.settings import Settings
from sanic import Sanic

TODAY = dt.date(2026, 11, 23)  # a Monday

TOKENS = {
    "payout-system": "test-payout-token",
    "case-system": "test-case-token",
    "sms-gateway": "test-sms-token",
    "admin": "test-admin-token",
}


def auth(system: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[system]}"}


def make_settings(tmp_path: Path, **overrides) -> Settings:
    values = dict(
        environment="test",
        host="127.0.0.1",
        port=0,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.sqlite3'}",
        tokens=TOKENS,
        fingerprint_secret=b"test-secret",
        today=TODAY,
        initial_failure_modes={},
        notifications_per_person_per_hour=10,
        pending_retry_interval_seconds=0.05,
        access_log=False,
    )
    values.update(overrides)
    return Settings(**values)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def app(settings: Settings) -> Sanic:
    Sanic.test_mode = True
    return create_app(settings)


@pytest.fixture
async def client(app: Sanic):
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            yield http
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


async def outbox(client: httpx.AsyncClient, after: int = 0) -> list[dict]:
    response = await client.get("/sms-gateway/v1/outbox", params={"after": after}, headers=auth("sms-gateway"))
    assert response.status_code == 200
    return response.json()["messages"]


# CI runs the property-based tests on hypothesis's fixed examples, so a run's
# result does not depend on chance; locally they search anew each time.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
