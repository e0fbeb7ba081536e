"""SmsGatewayClient against the running sandbox, and the SMS path of the
notifications when the gateway fails."""

from __future__ import annotations

import pytest

from actions.integrations import (
    PayoutClient,
    RequestRejectedError,
    SmsGatewayClient,
    SystemUnavailableError,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clean_sandbox")]

RECIPIENT = "+4509990001"


async def test_send_and_read_the_outbox(adapter_env):
    async with SmsGatewayClient.from_env(adapter_env) as client:
        sent = await client.send(RECIPIENT, "Hej", sender_reference="test/1", idempotency_key="sms-adapter-0001")
        outbox = await client.read_outbox()
    assert (sent.encoding, sent.segments, sent.replayed) == ("GSM-7", 1, False)
    [message] = outbox.messages
    assert (message.message_id, message.recipient, message.text) == (sent.message_id, RECIPIENT, "Hej")
    assert outbox.last_sequence == message.sequence
    assert RECIPIENT not in repr(message)


async def test_a_retry_is_replayed(adapter_env):
    async with SmsGatewayClient.from_env(adapter_env) as client:
        first = await client.send(RECIPIENT, "Hej", sender_reference="test/2", idempotency_key="sms-adapter-0002")
        second = await client.send(RECIPIENT, "Hej", sender_reference="test/2", idempotency_key="sms-adapter-0002")
        outbox = await client.read_outbox()
    assert second.message_id == first.message_id and second.replayed
    assert len(outbox.messages) == 1


async def test_a_reused_key_is_rejected(adapter_env):
    async with SmsGatewayClient.from_env(adapter_env) as client:
        await client.send(RECIPIENT, "Hej", sender_reference="test/3", idempotency_key="sms-adapter-0003")
        with pytest.raises(RequestRejectedError) as error:
            await client.send(RECIPIENT, "Farvel", sender_reference="test/3", idempotency_key="sms-adapter-0003")
    assert (error.value.status, error.value.code) == (409, "idempotency_key_reused")


async def test_invalid_recipient_is_refused_before_any_request(adapter_env):
    async with SmsGatewayClient.from_env(adapter_env) as client:
        with pytest.raises(ValueError) as error:
            await client.send("09990001", "Hej", sender_reference="test/4", idempotency_key="sms-adapter-0004")
    assert "09990001" not in str(error.value)


async def test_outbox_paging_filter_and_clear(adapter_env):
    async with SmsGatewayClient.from_env(adapter_env) as client:
        for number in range(3):
            await client.send(
                RECIPIENT,
                f"nr {number}",
                sender_reference=f"test/page-{number % 2}",
                idempotency_key=f"sms-adapter-page-{number}",
            )
        first = await client.read_outbox(limit=1)
        rest = await client.read_outbox(after=first.messages[0].sequence)
        filtered = await client.read_outbox(sender_reference="test/page-0")
        await client.clear_outbox()
        empty = await client.read_outbox()
    assert [m.text for m in first.messages] == ["nr 0"]
    assert [m.text for m in rest.messages] == ["nr 1", "nr 2"]
    assert [m.text for m in filtered.messages] == ["nr 0", "nr 2"]
    assert empty.messages == () and empty.last_sequence == 0


async def test_gateway_down(sandbox, adapter_env):
    sandbox.set_mode("sms-gateway", mode="down")
    async with SmsGatewayClient.from_env(adapter_env) as client:
        with pytest.raises(SystemUnavailableError) as error:
            await client.send(RECIPIENT, "Hej", sender_reference="test/5", idempotency_key="sms-adapter-0005")
    assert error.value.system == "sms-gateway"


async def test_payout_sms_waits_for_the_gateway_and_is_delivered_later(sandbox, adapter_env):
    sandbox.set_mode("sms-gateway", mode="down")
    async with PayoutClient.from_env(adapter_env) as client:
        # The payout system is up and accepts; the message waits in its queue.
        await client.send_next_payout_by_sms("DK", "1503851112")
    sandbox.set_mode("sms-gateway", mode="normal")
    messages = sandbox.wait_for_outbox(1)
    assert [m["recipient"] for m in messages] == [RECIPIENT]
