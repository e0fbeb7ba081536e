"""Payout system: lookup for authenticated chat, SMS notification for anonymous chat."""

from __future__ import annotations

import asyncio

import pytest
from conftest import auth, make_settings, outbox

LOOKUP = "/payout-system/v1/next-payout:lookup"
NOTIFY = "/payout-system/v1/payout-notifications"

ANNA = {"country": "DK", "national_id": "1503851112"}  # kontanthjælp, mobile
LONE = {"country": "DK", "national_id": "0304763332"}  # integrationsydelse, no mobile
ERIK = {"country": "DK", "national_id": "1109544441"}  # no payout, mobile
SVEA = {"country": "SE", "national_id": "198503155684"}  # ekonomiskt bistånd, mobile
UNKNOWN_DK = {"country": "DK", "national_id": "0101011234"}  # valid, not in the sandbox


def notify_headers(key: str) -> dict[str, str]:
    return {**auth("payout-system"), "Idempotency-Key": key}


async def test_lookup_returns_the_next_scheduled_payout(client):
    response = await client.post(LOOKUP, json=ANNA, headers=auth("payout-system"))
    assert response.status_code == 200
    assert response.json() == {
        "next_payout": {
            "benefit_type": "kontanthjaelp",
            "payout_date": "2026-11-30",
            "amount_minor": 1234550,
            "currency": "DKK",
        }
    }


async def test_lookup_accepts_a_hyphenated_number_and_swedish_people(client):
    response = await client.post(
        LOOKUP, json={"country": "SE", "national_id": "19850315-5684"}, headers=auth("payout-system")
    )
    assert response.json()["next_payout"] == {
        "benefit_type": "ekonomiskt_bistand",
        "payout_date": "2026-11-25",
        "amount_minor": 923450,
        "currency": "SEK",
    }


@pytest.mark.parametrize("person", [ERIK, UNKNOWN_DK])
async def test_lookup_without_a_payout_is_null(client, person):
    response = await client.post(LOOKUP, json=person, headers=auth("payout-system"))
    assert response.status_code == 200
    assert response.json() == {"next_payout": None}


@pytest.mark.parametrize(
    "body, code",
    [
        ({"country": "DK", "national_id": "3102851112"}, "invalid_national_id"),
        ({"country": "SE", "national_id": "198503155685"}, "invalid_national_id"),
        ({"country": "NO", "national_id": "1503851112"}, "invalid_request"),
        ({"country": "DK"}, "invalid_national_id"),
        ({**ANNA, "phone": "+4509990001"}, "invalid_request"),
    ],
)
async def test_lookup_rejects_invalid_bodies(client, body, code):
    response = await client.post(LOOKUP, json=body, headers=auth("payout-system"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    assert body.get("national_id", "-") not in response.text


async def test_malformed_json_is_a_bad_request(client):
    response = await client.post(
        LOOKUP, content=b"{not json", headers={**auth("payout-system"), "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["status"] == 400


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, auth("case-system"), {"Authorization": "Basic dGVzdA=="}],
)
async def test_lookup_requires_the_payout_system_token(client, headers):
    response = await client.post(LOOKUP, json=ANNA, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="payout-system"'


async def test_notification_sends_the_payout_to_the_registered_number(client):
    response = await client.post(NOTIFY, json=ANNA, headers=notify_headers("key-anna-0001"))
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "accepted" and body["notification_id"].startswith("ntf_")

    [message] = await outbox(client)
    assert message["recipient"] == "+4509990001"
    assert message["text"] == (
        "Sandbox Kommune: Din næste udbetaling af kontanthjælp er 12.345,50 kr. den 30. november 2026."
    )
    assert message["sender_reference"] == f"payout-system/notification/{body['notification_id']}"
    assert message["encoding"] == "GSM-7" and message["segments"] == 1


async def test_notification_in_swedish(client):
    await client.post(NOTIFY, json=SVEA, headers=notify_headers("key-svea-0001"))
    [message] = await outbox(client)
    assert message["recipient"] == "+46701740605"
    assert message["text"] == (
        "Sandlåda kommun: Din nästa utbetalning av ekonomiskt bistånd är 9 234,50 kr den 25 november 2026."
    )


async def test_notification_without_a_payout_says_so(client):
    await client.post(NOTIFY, json={**ERIK, "language": "da"}, headers=notify_headers("key-erik-0001"))
    [message] = await outbox(client)
    assert message["recipient"] == "+4509990004"
    assert "ingen planlagt udbetaling" in message["text"]


@pytest.mark.parametrize("person", [LONE, UNKNOWN_DK])
async def test_notification_answer_does_not_reveal_the_outcome(client, person):
    sent = await client.post(NOTIFY, json=ANNA, headers=notify_headers("key-reveal-1"))
    not_sent = await client.post(NOTIFY, json=person, headers=notify_headers("key-reveal-2"))
    assert sent.status_code == not_sent.status_code == 202
    assert sent.json().keys() == not_sent.json().keys()
    assert sent.json()["status"] == not_sent.json()["status"]
    assert [m["recipient"] for m in await outbox(client)] == ["+4509990001"]


async def test_notification_retry_with_the_same_key_sends_one_sms(client):
    first = await client.post(NOTIFY, json=ANNA, headers=notify_headers("key-retry-0001"))
    second = await client.post(NOTIFY, json=ANNA, headers=notify_headers("key-retry-0001"))
    assert first.json() == second.json()
    assert len(await outbox(client)) == 1


async def test_notification_key_reused_for_another_person_is_a_conflict(client):
    await client.post(NOTIFY, json=ANNA, headers=notify_headers("key-conflict-1"))
    response = await client.post(NOTIFY, json=SVEA, headers=notify_headers("key-conflict-1"))
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("key", [None, "short", "has space in it"])
async def test_notification_requires_a_valid_idempotency_key(client, key):
    headers = auth("payout-system") if key is None else notify_headers(key)
    response = await client.post(NOTIFY, json=ANNA, headers=headers)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required"
    assert await outbox(client) == []


class TestNotificationLimit:
    @pytest.fixture
    def settings(self, tmp_path):
        return make_settings(tmp_path, notifications_per_person_per_hour=2)

    async def test_notifications_per_person_are_limited(self, client):
        for number in range(4):
            response = await client.post(NOTIFY, json=ANNA, headers=notify_headers(f"key-limit-{number:04d}"))
            assert response.status_code == 202
        await client.post(NOTIFY, json=SVEA, headers=notify_headers("key-limit-svea"))
        recipients = [m["recipient"] for m in await outbox(client)]
        assert recipients == ["+4509990001", "+4509990001", "+46701740605"]


class TestConcurrency:
    @pytest.fixture
    def settings(self, tmp_path):
        # A busy delivery worker, to race the requests that deliver at once.
        return make_settings(tmp_path, pending_retry_interval_seconds=0.001, notifications_per_person_per_hour=0)

    async def test_concurrent_requests_send_each_sms_exactly_once(self, client):
        people = [ANNA, SVEA, LONE, ERIK, UNKNOWN_DK]
        requests = [
            client.post(NOTIFY, json=person, headers=notify_headers(f"race-{index:03d}-{repeat}"))
            for index, person in enumerate(people * 4)
            for repeat in ("a", "a", "b")  # "a" twice: a retry racing its original
        ]
        responses = await asyncio.gather(*requests)
        assert {response.status_code for response in responses} == {202}
        messages = await outbox(client)
        # Per person with a number (Anna, Svea, Erik): 4 keys "a" + 4 keys "b".
        assert sorted(m["recipient"] for m in messages) == sorted(["+4509990001", "+46701740605", "+4509990004"] * 8)
        assert len({m["message_id"] for m in messages}) == len(messages)
