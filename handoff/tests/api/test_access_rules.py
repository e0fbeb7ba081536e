"""Every route of the app, enumerated from its router, refuses callers it is not for.

For each API route and method: no credentials, a citizen's conversation token,
another conversation's token, an expired agent session, an agent on a
supervisor route, an editor on any agent, supervisor or citizen route, and an
agent or supervisor on an editor route are all refused before the handler runs. Routes that
anyone may call are listed in PUBLIC; the web pages (static files) are public
by design. A route without an access rule is refused for everyone.
"""

import datetime as dt
import json
import re

import pytest
import websockets
from helpers import DEFAULT_PASSWORD, agent_session, editor_session, make_agent, new_conversation
from sqlalchemy import update

from handoff_bridge.db.models import AgentSession
from handoff_bridge.access import AUTH_LEVELS
from handoff_bridge.services import accounts as accounts_svc

PUBLIC = {
    ("POST", "/api/v1/citizen/conversations"),
    ("POST", "/api/v1/agent/login"),
    ("POST", "/api/v1/editor/login"),
    ("GET", "/api/v1/openapi.json"),
    # The demo pages' demo sign-in: development only (404 / "enabled": false elsewhere).
    ("GET", "/api/v1/demo/login"),
    ("POST", "/api/v1/demo/login"),
}


def api_routes(app):
    """(method, concrete path, auth level, websocket) for every API route."""
    out = []
    for route in app.router.routes:
        path = "/" + route.path
        if not path.startswith("/api/"):
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            concrete = re.sub(r"<conversation_id:str>", "CID", path)
            concrete = re.sub(r"<[a-z_]+:int>", "1", concrete)
            concrete = re.sub(r"<[a-z_]+:str>", "x", concrete)
            out.append((method, concrete, getattr(route.ctx, "auth", None), bool(route.extra.websocket)))
    return out


def test_every_api_route_declares_an_access_rule(bridge):
    routes = api_routes(bridge.app)
    assert len(routes) >= 40
    for method, path, level, _ws in routes:
        assert level in AUTH_LEVELS, (method, path)
        assert (level == "public") == ((method, path) in PUBLIC), (method, path, level)


def test_web_routes_are_static_files_or_redirects(bridge):
    for route in bridge.app.router.routes:
        if not route.path.startswith("api/"):
            assert route.methods <= {"GET", "HEAD"}, route.path


async def test_every_route_refuses_callers_it_is_not_for(client, bridge):
    d = bridge.deps
    cid, citizen = await new_conversation(client)
    other_cid, other_citizen = await new_conversation(client)
    agent = await agent_session(d, client, "bo")
    supervisor = await agent_session(d, client, "sara", role="supervisor")
    editor = await editor_session(d, client, "edda")
    expired = await agent_session(d, client, "eva")
    async with d.sessionmaker() as session:
        async with session.begin():
            eva = (await accounts_svc.agent_for_token(d, expired["Authorization"].split(" ", 1)[1])).id
            await session.execute(update(AgentSession).where(AgentSession.agent_id == eva)
                                  .values(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    checked = 0
    for method, path, level, is_ws in api_routes(bridge.app):
        if is_ws or level == "public":
            continue
        real = path.replace("CID", cid)
        callers = {
            "nobody": {},
            "citizen": citizen,
            "expired agent": expired,
            "agent": agent,
            "supervisor": supervisor,
            "editor": editor,
        }
        for who, headers in callers.items():
            allowed = (
                (level == "citizen" and who == "citizen")
                or (level == "agent" and who in ("agent", "supervisor"))
                or (level == "supervisor" and who == "supervisor")
                or (level == "editor" and who == "editor")
            )
            if allowed:
                continue
            body = {} if method in ("POST", "PUT", "PATCH") else None
            client.cookies.clear()  # only the headers given here
            resp = await client.request(method, real, headers=headers, json=body)
            assert resp.status_code in (401, 403), (method, real, who, resp.status_code, resp.text)
            assert resp.json()["error"]["code"] in ("unauthorized", "forbidden"), (method, real, who)
            checked += 1
        if level == "citizen":
            # Another conversation's token does not open this one.
            client.cookies.clear()
            resp = await client.request(method, real, headers=other_citizen, json={} if method == "POST" else None)
            assert resp.status_code == 401, (method, real)
            checked += 1
    assert checked >= 200


async def test_websockets_refuse_bad_credentials(bridge):
    base = bridge.url.replace("http://", "ws://")
    cid, _ = "0" * 32, None
    for url, hello in (
        (f"{base}/api/v1/citizen/conversations/{cid}/ws", {"type": "hello", "token": "wrong", "last_seq": 0}),
        (f"{base}/api/v1/agent/ws", {"type": "hello", "token": "wrong"}),
    ):
        async with websockets.connect(url) as ws:
            await ws.send(json.dumps(hello))
            with pytest.raises(websockets.ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd.code == 4401


async def test_agent_websocket_refuses_a_cookie_from_another_site(client, bridge):
    headers = await agent_session(bridge.deps, client, "bo")
    token = headers["Authorization"].split(" ", 1)[1]
    url = bridge.url.replace("http://", "ws://") + "/api/v1/agent/ws"
    async with websockets.connect(url, additional_headers={"Cookie": f"handoff_session={token}",
                                                           "Origin": "https://evil.example"}) as ws:
        with pytest.raises(websockets.ConnectionClosed) as info:
            await ws.recv()
        assert info.value.rcvd.code == 4403
    host = bridge.url.split("//", 1)[1]
    async with websockets.connect(url, additional_headers={"Cookie": f"handoff_session={token}",
                                                           "Origin": f"http://{host}"}) as ws:
        await ws.send(json.dumps({"type": "hello"}))  # no token: the cookie authenticates
        assert json.loads(await ws.recv())["type"] == "hello"


async def test_an_editor_signs_in_on_the_editor_pages_only(client, bridge):
    d = bridge.deps
    await make_agent(d, "edda", role="editor")
    await make_agent(d, "sara", role="supervisor")
    refused = await client.post("/api/v1/agent/login", json={"login": "edda", "password": DEFAULT_PASSWORD})
    assert refused.status_code == 403 and "editor" in refused.json()["error"]["message"]
    refused = await client.post("/api/v1/editor/login", json={"login": "sara", "password": DEFAULT_PASSWORD})
    assert refused.status_code == 403
    wrong = await client.post("/api/v1/editor/login", json={"login": "edda", "password": "not the password"})
    assert wrong.status_code == 401
    resp = await client.post("/api/v1/editor/login", json={"login": "edda", "password": DEFAULT_PASSWORD})
    assert resp.status_code == 200 and resp.json()["editor"]["role"] == "editor"
    cookie = resp.cookies.get("handoff_editor_session")
    assert cookie and "Path=/api/v1/editor" in resp.headers["set-cookie"]
    # The cookie alone opens the editor API (with the CSRF header on changes), not the agent API.
    client.cookies.clear()
    client.cookies.set("handoff_editor_session", cookie)
    me = await client.get("/api/v1/editor/me")
    assert me.status_code == 200 and me.json()["login"] == "edda"
    queues = await client.get("/api/v1/agent/queues", headers={"Authorization": f"Bearer {cookie}"})
    assert queues.status_code == 403


async def test_the_agent_websocket_refuses_an_editor(client, bridge):
    headers = await editor_session(bridge.deps, client, "edda")
    url = bridge.url.replace("http://", "ws://") + "/api/v1/agent/ws"
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "hello", "token": headers["Authorization"].split(" ", 1)[1]}))
        with pytest.raises(websockets.ConnectionClosed) as info:
            await ws.recv()
        assert info.value.rcvd.code == 4403
