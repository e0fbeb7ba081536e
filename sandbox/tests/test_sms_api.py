"""SMS gateway: idempotent sending and the sandbox outbox."""

from __future__ import annotations

import pytest
from conftest import auth, outbox

MESSAGES = "/sms-gateway/v1/messages"


def headers(key: str) -> dict[str, str]:
    return {**auth("sms-gateway"), "Idempotency-Key": key}


def message(**overrides) -> dict:
    body = {"recipient": "+4509990001", "text": "Hej fra Sandbox", "sender_reference": "test/msg-1"}
    body.update(overrides)
    return body


async def test_send_and_read_back(client):
    response = await client.post(MESSAGES, json=message(), headers=headers("sms-key-0001"))
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["status"] == "accepted" and accepted["encoding"] == "GSM-7" and accepted["segments"] == 1
    assert "idempotent-replayed" not in response.headers

    [stored] = await outbox(client)
    assert stored["message_id"] == accepted["message_id"]
    assert stored["recipient"] == "+4509990001"
    assert stored["text"] == "Hej fra Sandbox"
    assert stored["sender_name"] == "Sandbox"
    assert stored["status"] == "delivered"


async def test_retry_is_replayed_not_resent(client):
    first = await client.post(MESSAGES, json=message(), headers=headers("sms-key-0002"))
    second = await client.post(MESSAGES, json=message(), headers=headers("sms-key-0002"))
    assert second.status_code == 202
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert len(await outbox(client)) == 1


async def test_key_reuse_with_another_text_is_a_conflict(client):
    await client.post(MESSAGES, json=message(), headers=headers("sms-key-0003"))
    response = await client.post(MESSAGES, json=message(text="Noget andet"), headers=headers("sms-key-0003"))
    assert response.status_code == 409
    assert len(await outbox(client)) == 1


async def test_a_non_breaking_space_costs_a_segment_size(client):
    text = "Din udbetaling er 1.234,50\u00a0kr."
    response = await client.post(MESSAGES, json=message(text=text), headers=headers("sms-key-0004"))
    assert response.json()["encoding"] == "UCS-2"
    long_gsm = "a" * 161
    response = await client.post(MESSAGES, json=message(text=long_gsm), headers=headers("sms-key-0005"))
    assert response.json() == {**response.json(), "encoding": "GSM-7", "segments": 2}


@pytest.mark.parametrize(
    "body",
    [
        message(recipient="09990001"),
        message(recipient="+45 09 99 00 01"),
        message(text=""),
        message(text="x" * 919),
        message(sender_name="A much too long name"),
        message(sender_reference="has a space"),
        {"recipient": "+4509990001", "text": "x"},
    ],
)
async def test_invalid_messages_are_rejected(client, body):
    response = await client.post(MESSAGES, json=body, headers=headers("sms-key-0006"))
    assert response.status_code == 422
    assert await outbox(client) == []


async def test_outbox_pages_by_sequence_and_filters_by_reference(client):
    for number in range(5):
        await client.post(
            MESSAGES,
            json=message(text=f"nr {number}", sender_reference=f"test/{number % 2}"),
            headers=headers(f"sms-page-{number:04d}"),
        )
    response = await client.get("/sms-gateway/v1/outbox", params={"limit": 2}, headers=auth("sms-gateway"))
    page = response.json()
    assert [m["text"] for m in page["messages"]] == ["nr 0", "nr 1"]
    assert page["last_sequence"] == page["messages"][0]["sequence"] + 4

    after = page["messages"][-1]["sequence"]
    assert [m["text"] for m in await outbox(client, after=after)] == ["nr 2", "nr 3", "nr 4"]

    response = await client.get(
        "/sms-gateway/v1/outbox", params={"sender_reference": "test/1"}, headers=auth("sms-gateway")
    )
    assert [m["text"] for m in response.json()["messages"]] == ["nr 1", "nr 3"]

    response = await client.get("/sms-gateway/v1/outbox", params={"limit": 0}, headers=auth("sms-gateway"))
    assert response.status_code == 422


async def test_outbox_can_be_cleared_and_needs_the_gateway_token(client):
    await client.post(MESSAGES, json=message(), headers=headers("sms-key-0007"))
    assert (await client.get("/sms-gateway/v1/outbox", headers=auth("payout-system"))).status_code == 401
    response = await client.delete("/sms-gateway/v1/outbox", headers=auth("sms-gateway"))
    assert response.status_code == 204
    assert await outbox(client) == []


@pytest.mark.parametrize("query", ["after=", "after=x", "limit=1001", "after=-1"])
async def test_outbox_rejects_invalid_paging(client, query):
    response = await client.get(f"/sms-gateway/v1/outbox?{query}", headers=auth("sms-gateway"))
    assert response.status_code == 422
