"""The failure switch: admin endpoint, environment variable, SMS queueing."""

from __future__ import annotations

import asyncio
import time

import pytest
from conftest import auth, make_settings, outbox

ADMIN = "/admin/v1/failure-modes"
LOOKUP = "/payout-system/v1/next-payout:lookup"
ANNA = {"country": "DK", "national_id": "1503851112"}


async def set_mode(client, system: str, **body) -> dict:
    response = await client.put(f"{ADMIN}/{system}", json=body, headers=auth("admin"))
    assert response.status_code == 200, response.text
    return response.json()


async def lookup(client):
    return await client.post(LOOKUP, json=ANNA, headers=auth("payout-system"))


async def cases(client):
    return await client.post("/case-system/v1/cases:lookup", json=ANNA, headers=auth("case-system"))


async def test_down_answers_503_for_that_system_only(client):
    await set_mode(client, "payout-system", mode="down")
    response = await lookup(client)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    assert response.json()["code"] == "unavailable"
    assert (await cases(client)).status_code == 200
    assert (await client.get("/health")).status_code == 200

    await set_mode(client, "payout-system", mode="normal")
    assert (await lookup(client)).status_code == 200


async def test_down_comes_before_authentication(client):
    await set_mode(client, "case-system", mode="down")
    response = await client.post("/case-system/v1/cases:lookup", json=ANNA)
    assert response.status_code == 503


async def test_error_answers_500(client):
    await set_mode(client, "case-system", mode="error")
    response = await cases(client)
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"


async def test_flaky_fails_the_next_requests_then_recovers(client):
    assert await set_mode(client, "payout-system", mode="flaky", failures=2) == {
        "mode": "flaky",
        "delay_ms": 0,
        "failures": 2,
    }
    statuses = [(await lookup(client)).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    modes = (await client.get(ADMIN, headers=auth("admin"))).json()
    assert modes["payout-system"]["mode"] == "normal"


async def test_slow_delays_the_answer(client):
    await set_mode(client, "payout-system", mode="slow", delay_ms=400)
    started = time.monotonic()
    response = await lookup(client)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.4


@pytest.mark.parametrize(
    "body",
    [
        {"mode": "sideways"},
        {"mode": "slow", "delay_ms": -1},
        {"mode": "flaky", "failures": "2"},
        {"mode": "down", "x": 1},
    ],
)
async def test_invalid_modes_are_rejected(client, body):
    response = await client.put(f"{ADMIN}/payout-system", json=body, headers=auth("admin"))
    assert response.status_code == 422


async def test_admin_needs_its_own_token_and_a_known_system(client):
    response = await client.put(f"{ADMIN}/payout-system", json={"mode": "down"}, headers=auth("payout-system"))
    assert response.status_code == 401
    response = await client.put(f"{ADMIN}/tax-system", json={"mode": "down"}, headers=auth("admin"))
    assert response.status_code == 404


async def test_reset_restores_every_mode(client):
    await set_mode(client, "payout-system", mode="down")
    await set_mode(client, "sms-gateway", mode="error")
    response = await client.delete(ADMIN, headers=auth("admin"))
    assert response.status_code == 204
    modes = (await client.get(ADMIN, headers=auth("admin"))).json()
    assert {mode["mode"] for mode in modes.values()} == {"normal"}


async def test_notification_waits_while_the_gateway_is_down(client):
    await set_mode(client, "sms-gateway", mode="down")
    response = await client.post(
        "/payout-system/v1/payout-notifications",
        json=ANNA,
        headers={**auth("payout-system"), "Idempotency-Key": "wait-key-0001"},
    )
    # The payout system itself is up: it accepts and queues.
    assert response.status_code == 202
    await asyncio.sleep(0.3)
    assert (await client.get("/sms-gateway/v1/outbox", headers=auth("sms-gateway"))).status_code == 503

    await set_mode(client, "sms-gateway", mode="normal")
    for _ in range(40):
        messages = await outbox(client)
        if messages:
            break
        await asyncio.sleep(0.05)
    assert [m["recipient"] for m in messages] == ["+4509990001"]


async def test_admin_reset_empties_outbox_and_notifications(client):
    await client.post(
        "/payout-system/v1/payout-notifications",
        json=ANNA,
        headers={**auth("payout-system"), "Idempotency-Key": "reset-key-001"},
    )
    assert len(await outbox(client)) == 1
    response = await client.post("/admin/v1/reset", headers=auth("admin"))
    assert response.status_code == 204
    assert await outbox(client) == []
    # The key is free again after a reset.
    response = await client.post(
        "/payout-system/v1/payout-notifications",
        json={"country": "SE", "national_id": "198503155684"},
        headers={**auth("payout-system"), "Idempotency-Key": "reset-key-001"},
    )
    assert response.status_code == 202


class TestModesFromTheEnvironment:
    @pytest.fixture
    def settings(self, tmp_path):
        return make_settings(tmp_path, initial_failure_modes={"case-system": "down", "payout-system": "slow:250"})

    async def test_they_apply_at_start(self, client):
        modes = (await client.get(ADMIN, headers=auth("admin"))).json()
        assert modes["case-system"]["mode"] == "down"
        assert modes["payout-system"] == {"mode": "slow", "delay_ms": 250, "failures": 0}
        assert (await cases(client)).status_code == 503


async def test_an_integral_json_number_is_an_integer(client):
    assert await set_mode(client, "case-system", mode="slow", delay_ms=250.0) == {
        "mode": "slow",
        "delay_ms": 250,
        "failures": 0,
    }
