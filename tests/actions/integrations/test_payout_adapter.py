"""PayoutClient against the running sandbox."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest

from actions.integrations import (
    NextPayout,
    PayoutClient,
    RequestRejectedError,
    SystemUnavailableError,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clean_sandbox")]

ANNA = ("DK", "150385-1112")  # kontanthjælp, registered mobile +4509990001
LONE = ("DK", "0304763332")  # integrationsydelse, no registered mobile
ERIK = ("DK", "1109544441")  # no payout
SVEA = ("SE", "19850315-5684")  # ekonomiskt bistånd, registered mobile +46701740605


async def test_next_payout_of_a_danish_citizen(adapter_env):
    async with PayoutClient.from_env(adapter_env) as client:
        payout = await client.next_payout(*ANNA)
    assert payout == NextPayout(
        benefit_type="kontanthjaelp", payout_date=dt.date(2026, 11, 30), amount_minor=1234550, currency="DKK"
    )
    assert payout.amount == Decimal("12345.50")


async def test_next_payout_of_a_swedish_citizen_with_a_short_personnummer(adapter_env):
    async with PayoutClient.from_env(adapter_env) as client:
        payout = await client.next_payout("SE", "850315-5684")
    assert (payout.benefit_type, payout.payout_date, payout.amount_minor, payout.currency) == (
        "ekonomiskt_bistand",
        dt.date(2026, 11, 25),
        923450,
        "SEK",
    )


@pytest.mark.parametrize("person", [ERIK, ("DK", "0101011234")])
async def test_no_payout_is_none(adapter_env, person):
    async with PayoutClient.from_env(adapter_env) as client:
        assert await client.next_payout(*person) is None


async def test_a_number_the_system_rejects(adapter_env):
    async with PayoutClient.from_env(adapter_env) as client:
        with pytest.raises(RequestRejectedError) as error:
            await client.next_payout("DK", "3102851112")  # 31 February
    assert error.value.status == 422
    assert error.value.code == "invalid_national_id"
    assert "3102851112" not in str(error.value)


async def test_a_malformed_number_is_refused_before_any_request(adapter_env):
    async with PayoutClient.from_env(adapter_env) as client:
        with pytest.raises(ValueError) as error:
            await client.next_payout("DK", "12345")
    assert "12345" not in str(error.value)


async def test_sms_notification_reaches_the_registered_number(sandbox, adapter_env):
    async with PayoutClient.from_env(adapter_env) as client:
        receipt = await client.send_next_payout_by_sms(*ANNA)
    [message] = sandbox.outbox()
    assert message["recipient"] == "+4509990001"
    assert message["text"] == (
        "Sandbox Kommune: Din næste udbetaling af kontanthjælp er 12.345,50 kr. den 30. november 2026."
    )
    assert message["sender_reference"].endswith(receipt.notification_id)


async def test_sms_notification_in_swedish(sandbox, adapter_env):
    async with PayoutClient.from_env(adapter_env) as client:
        await client.send_next_payout_by_sms(*SVEA)
    [message] = sandbox.outbox()
    assert message["recipient"] == "+46701740605"
    assert "9 234,50 kr den 25 november 2026" in message["text"]


async def test_receipt_is_the_same_without_a_registered_number(sandbox, adapter_env):
    async with PayoutClient.from_env(adapter_env) as client:
        receipt = await client.send_next_payout_by_sms(*LONE)
    assert receipt.notification_id
    assert sandbox.outbox() == []


async def test_retrying_with_the_same_key_sends_one_sms(sandbox, adapter_env):
    async with PayoutClient.from_env(adapter_env) as client:
        first = await client.send_next_payout_by_sms(*ANNA, idempotency_key="conversation-42-attempt-1")
        second = await client.send_next_payout_by_sms(*ANNA, idempotency_key="conversation-42-attempt-1")
    assert first == second
    assert len(sandbox.outbox()) == 1


async def test_system_down_raises_unavailable_at_once(sandbox, adapter_env):
    sandbox.set_mode("payout-system", mode="down")
    started = time.monotonic()
    async with PayoutClient.from_env(adapter_env) as client:
        with pytest.raises(SystemUnavailableError) as error:
            await client.next_payout(*ANNA)
    # Retry-After (30 s) is beyond the deadline: no pointless retries.
    assert (error.value.reason, error.value.status, error.value.attempts) == ("unavailable", 503, 1)
    assert time.monotonic() - started < 2


async def test_notification_while_down_raises_unavailable(sandbox, adapter_env):
    sandbox.set_mode("payout-system", mode="down")
    async with PayoutClient.from_env(adapter_env) as client:
        with pytest.raises(SystemUnavailableError):
            await client.send_next_payout_by_sms(*ANNA)
    sandbox.set_mode("payout-system", mode="normal")
    assert sandbox.outbox() == []


async def test_transient_failures_are_retried(sandbox, adapter_env):
    sandbox.set_mode("payout-system", mode="flaky", failures=2)
    async with PayoutClient.from_env(adapter_env) as client:
        payout = await client.next_payout(*ANNA)
    assert payout.amount_minor == 1234550
    assert sandbox.modes()["payout-system"]["mode"] == "normal"


async def test_a_retried_notification_sends_one_sms(sandbox, adapter_env):
    sandbox.set_mode("payout-system", mode="flaky", failures=1)
    async with PayoutClient.from_env(adapter_env) as client:
        await client.send_next_payout_by_sms(*ANNA)
    assert len(sandbox.outbox()) == 1


async def test_retries_are_bounded(sandbox, adapter_env):
    sandbox.set_mode("payout-system", mode="flaky", failures=5)
    env = {**adapter_env, "PAYOUT_SYSTEM_MAX_ATTEMPTS": "3"}
    async with PayoutClient.from_env(env) as client:
        with pytest.raises(SystemUnavailableError) as error:
            await client.next_payout(*ANNA)
    assert error.value.attempts == 3
    assert sandbox.modes()["payout-system"] == {"mode": "flaky", "delay_ms": 0, "failures": 2}


async def test_a_slow_system_times_out_within_the_deadline(sandbox, adapter_env):
    sandbox.set_mode("payout-system", mode="slow", delay_ms=3000)
    env = {
        **adapter_env,
        "PAYOUT_SYSTEM_TIMEOUT_SECONDS": "0.4",
        "PAYOUT_SYSTEM_DEADLINE_SECONDS": "1.0",
    }
    started = time.monotonic()
    async with PayoutClient.from_env(env) as client:
        with pytest.raises(SystemUnavailableError) as error:
            await client.next_payout(*ANNA)
    elapsed = time.monotonic() - started
    assert error.value.reason == "timeout"
    assert error.value.attempts >= 2  # a read is retried after a time-out
    assert elapsed < 1.8


async def test_a_server_error_is_not_retried(sandbox, adapter_env):
    sandbox.set_mode("payout-system", mode="error")
    async with PayoutClient.from_env(adapter_env) as client:
        with pytest.raises(SystemUnavailableError) as error:
            await client.next_payout(*ANNA)
    assert (error.value.reason, error.value.status, error.value.attempts) == ("server_error", 500, 1)


async def test_a_wrong_token_is_a_configuration_error(adapter_env):
    env = {**adapter_env, "PAYOUT_SYSTEM_TOKEN": "not-the-token"}
    async with PayoutClient.from_env(env) as client:
        with pytest.raises(SystemUnavailableError) as error:
            await client.next_payout(*ANNA)
    assert (error.value.reason, error.value.status, error.value.attempts) == ("misconfigured", 401, 1)


async def test_nothing_listening_is_a_connection_failure(adapter_env, unused_tcp_port):
    env = {
        **adapter_env,
        "PAYOUT_SYSTEM_URL": f"http://127.0.0.1:{unused_tcp_port}/payout-system/v1",
        "PAYOUT_SYSTEM_MAX_ATTEMPTS": "2",
    }
    async with PayoutClient.from_env(env) as client:
        with pytest.raises(SystemUnavailableError) as error:
            await client.next_payout(*ANNA)
    assert (error.value.reason, error.value.attempts) == ("connection", 2)


async def test_a_missing_token_fails_without_a_request(adapter_env):
    env = {**adapter_env, "PAYOUT_SYSTEM_TOKEN": ""}
    async with PayoutClient.from_env(env) as client:
        with pytest.raises(SystemUnavailableError) as error:
            await client.next_payout(*ANNA)
    assert (error.value.reason, error.value.attempts) == ("not_configured", 0)


async def test_a_shared_session_is_left_open(adapter_env):
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with PayoutClient.from_env(adapter_env, session=session) as client:
            assert await client.next_payout(*ANNA) is not None
        assert not session.closed
