"""Real responses of the sandbox validate against the contracts' schemas."""

from __future__ import annotations

from functools import cache

import pytest
import yaml
from conftest import auth
from jsonschema import Draft202012Validator, FormatChecker
from test_contracts import CONTRACTS


@cache
def spec(name: str) -> dict:
    return yaml.safe_load((CONTRACTS / name).read_text(encoding="utf-8"))


def assert_matches(name: str, path: str, method: str, response) -> None:
    document = spec(name)
    responses = document["paths"][path][method]["responses"]
    declared = responses.get(str(response.status_code))
    assert declared is not None, f"{method.upper()} {path}: {response.status_code} is not in the contract"
    if "$ref" in declared:
        declared = document["components"]["responses"][declared["$ref"].rsplit("/", 1)[1]]
    content = declared.get("content")
    if content is None:
        assert not response.content
        return
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type in content, f"{media_type} not declared for {response.status_code}"
    # Resolve "#/components/..." against the contract itself.
    schema = {**content[media_type]["schema"], "components": document["components"]}
    Draft202012Validator(schema, format_checker=FormatChecker()).validate(response.json())


ANNA = {"country": "DK", "national_id": "1503851112"}
SVEA = {"country": "SE", "national_id": "198503155684"}


async def test_payout_system_responses(client):
    name, lookup, notify = "payout-system.yaml", "/next-payout:lookup", "/payout-notifications"
    base = "/payout-system/v1"
    headers = auth("payout-system")
    for body in (ANNA, {"country": "DK", "national_id": "1109544441"}, {"country": "DK", "national_id": "3102851112"}):
        assert_matches(name, lookup, "post", await client.post(base + lookup, json=body, headers=headers))
    assert_matches(name, lookup, "post", await client.post(base + lookup, json=ANNA))
    assert_matches(
        name,
        lookup,
        "post",
        await client.post(base + lookup, content=b"{", headers={**headers, "content-type": "application/json"}),
    )
    keyed = {**headers, "Idempotency-Key": "contract-key-1"}
    assert_matches(name, notify, "post", await client.post(base + notify, json=SVEA, headers=keyed))
    assert_matches(name, notify, "post", await client.post(base + notify, json=ANNA, headers=keyed))
    assert_matches(name, notify, "post", await client.post(base + notify, json=ANNA, headers=headers))
    await client.put("/admin/v1/failure-modes/payout-system", json={"mode": "down"}, headers=auth("admin"))
    assert_matches(name, lookup, "post", await client.post(base + lookup, json=ANNA, headers=headers))
    await client.put("/admin/v1/failure-modes/payout-system", json={"mode": "error"}, headers=auth("admin"))
    assert_matches(name, lookup, "post", await client.post(base + lookup, json=ANNA, headers=headers))


@pytest.mark.parametrize("person", [ANNA, SVEA, {"country": "SE", "national_id": "199001012393"}])
async def test_case_system_responses(client, person):
    name, base = "case-system.yaml", "/case-system/v1"
    response = await client.post(base + "/cases:lookup", json=person, headers=auth("case-system"))
    assert response.json()["cases"]
    assert_matches(name, "/cases:lookup", "post", response)
    response = await client.post(
        base + "/case-status-notifications",
        json={**person, "kinds": ["bygglov"]},
        headers={**auth("case-system"), "Idempotency-Key": "contract-key-2"},
    )
    assert_matches(name, "/case-status-notifications", "post", response)


async def test_sms_gateway_responses(client):
    name, base = "sms-gateway.yaml", "/sms-gateway/v1"
    headers = {**auth("sms-gateway"), "Idempotency-Key": "contract-key-3"}
    body = {"recipient": "+46701740605", "text": "Hej", "sender_reference": "test/contract"}
    assert_matches(name, "/messages", "post", await client.post(base + "/messages", json=body, headers=headers))
    assert_matches(name, "/messages", "post", await client.post(base + "/messages", json=body, headers=headers))
    assert_matches(
        name, "/messages", "post", await client.post(base + "/messages", json={**body, "text": "x"}, headers=headers)
    )
    assert_matches(name, "/outbox", "get", await client.get(base + "/outbox", headers=auth("sms-gateway")))
    assert_matches(name, "/outbox", "get", await client.get(base + "/outbox?limit=0", headers=auth("sms-gateway")))
    assert_matches(name, "/outbox", "delete", await client.delete(base + "/outbox", headers=auth("sms-gateway")))


async def test_admin_responses(client):
    name, base = "sandbox-admin.yaml", "/admin/v1"
    headers = auth("admin")
    assert_matches(name, "/failure-modes", "get", await client.get(base + "/failure-modes", headers=headers))
    path = "/failure-modes/{system}"
    for body in ({"mode": "slow", "delay_ms": 10}, {"mode": "sideways"}):
        response = await client.put(base + "/failure-modes/case-system", json=body, headers=headers)
        assert_matches(name, path, "put", response)
    response = await client.put(base + "/failure-modes/tax-system", json={"mode": "down"}, headers=headers)
    assert_matches(name, path, "put", response)
    assert_matches(name, "/failure-modes", "delete", await client.delete(base + "/failure-modes", headers=headers))
    assert_matches(name, "/reset", "post", await client.post(base + "/reset", headers=headers))
    assert_matches(name, "/reset", "post", await client.post(base + "/reset"))
