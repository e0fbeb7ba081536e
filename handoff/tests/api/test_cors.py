"""CORS for the citizen API: the widget runs on the municipalities' own sites."""

import pytest
from helpers import new_conversation

ORIGIN = "https://www.kommune.example"


@pytest.mark.parametrize("bridge_overrides", [{"cors_origins": [ORIGIN]}])
async def test_preflight_and_headers_for_allowed_origin_only(client, bridge_overrides):
    cid, headers = await new_conversation(client)
    pre = await client.options(f"/api/v1/citizen/conversations/{cid}/messages",
                               headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == ORIGIN
    assert "Authorization" in pre.headers["access-control-allow-headers"]
    resp = await client.get(f"/api/v1/citizen/conversations/{cid}", headers={**headers, "Origin": ORIGIN})
    assert resp.headers["access-control-allow-origin"] == ORIGIN
    other = await client.get(f"/api/v1/citizen/conversations/{cid}", headers={**headers, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    agent = await client.options("/api/v1/agent/me", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in agent.headers
