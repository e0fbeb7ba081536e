"""Case system: lookup for authenticated chat, status by SMS for anonymous chat."""

from __future__ import annotations

from conftest import auth, outbox

LOOKUP = "/case-system/v1/cases:lookup"
NOTIFY = "/case-system/v1/case-status-notifications"


def notify_headers(key: str) -> dict[str, str]:
    return {**auth("case-system"), "Idempotency-Key": key}


async def test_lookup_lists_the_persons_cases_most_recent_first(client):
    response = await client.post(
        LOOKUP, json={"country": "DK", "national_id": "1503851112"}, headers=auth("case-system")
    )
    assert response.status_code == 200
    assert response.json()["cases"] == [
        {
            "case_id": "BYG-10042",
            "kind": "byggesag",
            "title": "Tilbygning til enfamiliehus",
            "status": "in_progress",
            "received_date": "2026-10-14",
            "expected_decision_date": "2026-12-23",
            "decision_date": None,
            "last_updated_at": "2026-11-17T09:30:00Z",
        },
        {
            "case_id": "FRI-10043",
            "kind": "fritidstilbud",
            "title": "Plads i fritidsklub",
            "status": "decided",
            "received_date": "2026-09-24",
            "expected_decision_date": None,
            "decision_date": "2026-11-13",
            "last_updated_at": "2026-11-13T09:30:00Z",
        },
    ]


async def test_lookup_filters_by_kind(client):
    response = await client.post(
        LOOKUP,
        json={"country": "DK", "national_id": "1109544441", "kinds": ["byggesag"]},
        headers=auth("case-system"),
    )
    [case] = response.json()["cases"]
    assert (case["case_id"], case["status"]) == ("BYG-10047", "closed")


async def test_awaiting_documentation_may_have_no_expected_date(client):
    response = await client.post(
        LOOKUP, json={"country": "SE", "national_id": "199001012393"}, headers=auth("case-system")
    )
    [case] = response.json()["cases"]
    assert case["kind"] == "bygglov"
    assert case["status"] == "awaiting_documentation"
    assert case["expected_decision_date"] is None


async def test_lookup_of_a_person_without_cases_is_empty(client):
    for person in ({"country": "DK", "national_id": "2802992221"}, {"country": "SE", "national_id": "200107042640"}):
        response = await client.post(LOOKUP, json=person, headers=auth("case-system"))
        assert response.json() == {"cases": []}


async def test_lookup_rejects_unknown_kinds(client):
    response = await client.post(
        LOOKUP,
        json={"country": "DK", "national_id": "1503851112", "kinds": ["parking"]},
        headers=auth("case-system"),
    )
    assert response.status_code == 422


async def test_lookup_requires_the_case_system_token(client):
    response = await client.post(
        LOOKUP, json={"country": "DK", "national_id": "1503851112"}, headers=auth("payout-system")
    )
    assert response.status_code == 401


async def test_status_notification_in_swedish(client):
    response = await client.post(
        NOTIFY, json={"country": "SE", "national_id": "198503155684"}, headers=notify_headers("case-key-0001")
    )
    assert response.status_code == 202
    [message] = await outbox(client)
    assert message["recipient"] == "+46701740605"
    assert message["text"] == (
        "Sandlåda kommun: Status för dina ärenden: "
        "Ekonomiskt bistånd EB-20031: under handläggning, beslut väntas 30 november 2026. "
        "Förskoleplats FSK-20032: mottaget, beslut väntas 23 mars 2027."
    )
    assert message["segments"] == 2


async def test_status_notification_in_danish_for_one_kind(client):
    await client.post(
        NOTIFY,
        json={"country": "DK", "national_id": "1109544441", "kinds": ["plejebolig"]},
        headers=notify_headers("case-key-0002"),
    )
    [message] = await outbox(client)
    assert message["text"] == (
        "Sandbox Kommune: Status på dine sager: "
        "Plejebolig PLB-10046: under behandling, forventet afgørelse 28. december 2026."
    )


async def test_status_notification_without_cases(client):
    await client.post(
        NOTIFY, json={"country": "DK", "national_id": "2802992221"}, headers=notify_headers("case-key-0003")
    )
    [message] = await outbox(client)
    assert message["text"] == "Sandbox Kommune: Vi har ingen sager registreret på dig."


async def test_no_sms_without_a_registered_number_but_the_same_answer(client):
    with_number = await client.post(
        NOTIFY, json={"country": "SE", "national_id": "198503155684"}, headers=notify_headers("case-key-0004")
    )
    without = await client.post(
        NOTIFY, json={"country": "SE", "national_id": "197811244628"}, headers=notify_headers("case-key-0005")
    )
    assert with_number.status_code == without.status_code == 202
    assert len(await outbox(client)) == 1


async def test_idempotency_key_is_per_system(client):
    person = {"country": "DK", "national_id": "1503851112"}
    case = await client.post(NOTIFY, json=person, headers=notify_headers("shared-key-01"))
    payout = await client.post(
        "/payout-system/v1/payout-notifications",
        json=person,
        headers={**auth("payout-system"), "Idempotency-Key": "shared-key-01"},
    )
    assert case.status_code == payout.status_code == 202
    assert case.json()["notification_id"] != payout.json()["notification_id"]
    assert len(await outbox(client)) == 2
