"""Agent sessions: cookie flags, CSRF protection of cookie-authenticated requests,
login throttling and lockout (in the database, so shared by instances)."""

import datetime as dt

import pytest
from helpers import DEFAULT_PASSWORD, make_agent
from sqlalchemy import update

from handoff_bridge.db.models import LoginThrottle


async def cookie_login(client, login="anna"):
    resp = await client.post("/api/v1/agent/login", json={"login": login, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 200, resp.text
    return resp.json()["token"]


async def test_cookie_requests_that_change_state_need_the_csrf_header(client, bridge):
    await make_agent(bridge.deps, "anna")
    token = await cookie_login(client)
    cookie = {"Cookie": f"handoff_session={token}"}
    client.cookies.clear()
    # Reading needs no header.
    assert (await client.get("/api/v1/agent/me", headers=cookie)).status_code == 200
    # Writing with the cookie alone: refused, nothing changed.
    r = await client.put("/api/v1/agent/me/status", headers=cookie, json={"status": "available"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    assert (await client.get("/api/v1/agent/me", headers=cookie)).json()["status"] == "offline"
    # With the header, from the same site: accepted.
    ok = {**cookie, "X-Handoff-CSRF": "1", "Sec-Fetch-Site": "same-origin",
          "Origin": client.base_url.scheme + "://" + client.base_url.netloc.decode()}
    assert (await client.put("/api/v1/agent/me/status", headers=ok, json={"status": "available"})).status_code == 200
    # Header present but sent by another site (as a browser tells): refused.
    for bad in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"}):
        r = await client.put("/api/v1/agent/me/status", headers={**ok, **bad}, json={"status": "away"})
        assert r.status_code == 403, bad
    # A cross-site login attempt is refused as well.
    r = await client.post("/api/v1/agent/login", headers={"Origin": "https://evil.example"},
                          json={"login": "anna", "password": DEFAULT_PASSWORD})
    assert r.status_code == 403
    # Logout with the cookie needs the header too.
    assert (await client.post("/api/v1/agent/logout", headers=cookie)).status_code == 403
    assert (await client.post("/api/v1/agent/logout", headers={**cookie, "X-Handoff-CSRF": "1"})).status_code == 204


async def test_login_cookie_flags_in_production_mode(client, bridge):
    await make_agent(bridge.deps, "anna")
    bridge.deps.settings.cookie_secure = True
    resp = await client.post("/api/v1/agent/login", json={"login": "anna", "password": DEFAULT_PASSWORD})
    cookie = resp.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie and "path=/api/v1/agent" in cookie


async def test_repeated_failures_lock_the_login_for_everyone(client, bridge):
    d = bridge.deps
    await make_agent(d, "anna")
    for _ in range(d.settings.login_max_failures):
        r = await client.post("/api/v1/agent/login", json={"login": "anna", "password": "wrong password 123"})
        assert r.status_code == 401
    # Locked: even the right password is refused, with Retry-After.
    r = await client.post("/api/v1/agent/login", json={"login": "ANNA", "password": DEFAULT_PASSWORD})
    assert r.status_code == 429 and r.json()["error"]["code"] == "login_locked"
    assert 0 < int(r.headers["retry-after"]) <= d.settings.login_lockout_seconds
    # The lock is in the database: rows hold hashes, not the login.
    async with d.sessionmaker() as session:
        async with session.begin():
            rows = (await session.execute(LoginThrottle.__table__.select())).all()
            assert rows and all("anna" not in r.key for r in rows)
            # When the lockout is over, the right password works again and clears the count.
            past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
            await session.execute(update(LoginThrottle).values(locked_until=past))
    assert (await client.post("/api/v1/agent/login", json={"login": "anna", "password": DEFAULT_PASSWORD})).status_code == 200


@pytest.mark.parametrize("bridge_overrides", [{"login_address_max_failures": 4, "login_max_failures": 100}])
async def test_many_logins_tried_from_one_address_lock_the_address(client, bridge, bridge_overrides):
    await make_agent(bridge.deps, "anna")
    for i in range(4):
        r = await client.post("/api/v1/agent/login", json={"login": f"guess{i}", "password": "wrong password 123"})
        assert r.status_code == 401
    r = await client.post("/api/v1/agent/login", json={"login": "anna", "password": DEFAULT_PASSWORD})
    assert r.status_code == 429


async def test_an_expired_session_is_refused(client, bridge):
    from handoff_bridge.db.models import AgentSession

    await make_agent(bridge.deps, "anna")
    token = await cookie_login(client)
    client.cookies.clear()
    async with bridge.deps.sessionmaker() as session:
        async with session.begin():
            await session.execute(update(AgentSession).values(
                expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    r = await client.get("/api/v1/agent/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
