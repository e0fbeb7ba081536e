"""Agent API: sessions, roles, atomic claims, transcript, replies, transfer, close, hand-back."""

import asyncio

import pytest

from helpers import (
    WsClient,
    agent_session,
    is_msg,
    login,
    make_agent,
    new_conversation,
    send,
    wait_for_messages,
)
from sqlalchemy import select

from handoff_bridge import events
from handoff_bridge.db.models import CallbackRequest, Claim, ClosureTag, Rating


async def queued_conversation(client, **kw):
    cid, headers = await new_conversation(client, **kw)
    r = await client.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)
    assert r.json()["status"] == "queued"
    return cid, headers


async def test_login_sets_secure_httponly_samesite_cookie(client, bridge):
    await make_agent(bridge.deps, "anna")
    bridge.deps.settings.cookie_secure = True  # as in production
    resp = await client.post("/api/v1/agent/login", json={"login": "anna", "password": "correct horse battery staple"})
    assert resp.status_code == 200
    cookie = resp.headers["set-cookie"].lower()
    assert "handoff_session=" in cookie and "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
    token = resp.json()["token"]
    me = await client.get("/api/v1/agent/me", headers={"Cookie": f"handoff_session={token}"})
    assert me.status_code == 200 and me.json()["login"] == "anna"
    assert (await client.post("/api/v1/agent/login", json={"login": "anna", "password": "wrong password!!"})).status_code == 401
    assert (await client.post("/api/v1/agent/login", json={"login": "nobody", "password": "x" * 12})).status_code == 401
    assert (await client.get("/api/v1/agent/me")).status_code == 401
    out = await client.post("/api/v1/agent/logout", headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 204
    assert (await client.get("/api/v1/agent/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401


async def test_roles_are_enforced_on_the_server(client, bridge):
    agent = await agent_session(bridge.deps, client, "bo")
    sup = await agent_session(bridge.deps, client, "sara", role="supervisor")
    canned = {"language": "da", "title": "Hilsen", "body": "Hej, hvad kan jeg hjælpe med?"}
    assert (await client.post("/api/v1/agent/canned", headers=agent, json=canned)).status_code == 403
    assert (await client.get("/api/v1/agent/agents", headers=agent)).status_code == 403
    new = {"login": "carl", "password": "another long password", "role": "agent", "capacity": 2, "languages": ["da", "sv"]}
    assert (await client.post("/api/v1/agent/agents", headers=agent, json=new)).status_code == 403
    created = await client.post("/api/v1/agent/agents", headers=sup, json=new)
    assert created.status_code == 201 and created.json()["capacity"] == 2
    dup = await client.post("/api/v1/agent/agents", headers=sup, json=new)
    assert dup.status_code == 409
    weak = await client.post("/api/v1/agent/agents", headers=sup, json={**new, "login": "d", "password": "short"})
    assert weak.status_code == 400
    c = await client.post("/api/v1/agent/canned", headers=sup, json=canned)
    assert c.status_code == 201
    listed = (await client.get("/api/v1/agent/canned", headers=agent, params={"language": "da"})).json()["canned"]
    assert [x["title"] for x in listed] == ["Hilsen"]
    upd = await client.put(f"/api/v1/agent/canned/{c.json()['id']}", headers=sup, json={"title": "Goddag"})
    assert upd.json()["title"] == "Goddag"
    assert (await client.delete(f"/api/v1/agent/canned/{c.json()['id']}", headers=sup)).status_code == 204
    assert (await client.get("/api/v1/agent/canned", headers=agent)).json()["canned"] == []


async def test_claim_next_is_first_come_first_served(client, bridge):
    c1, _ = await queued_conversation(client)
    c2, _ = await queued_conversation(client)
    anna = await agent_session(bridge.deps, client, "anna")
    queues = (await client.get("/api/v1/agent/queues", headers=anna)).json()["queues"]
    general = next(q for q in queues if q["queue"] == "da-general")
    assert [w["conversation_id"] for w in general["waiting"]] == [c1, c2]
    assert (await client.post("/api/v1/agent/queue/claim-next", headers=anna)).json()["conversation_id"] == c1
    assert (await client.post("/api/v1/agent/queue/claim-next", headers=anna)).json()["conversation_id"] == c2
    empty = await client.post("/api/v1/agent/queue/claim-next", headers=anna)
    assert empty.status_code == 404 and empty.json()["error"]["code"] == "queue_empty"
    for queue in (7, "q" * 129):  # not a name, or longer than any queue's name
        odd = await client.post("/api/v1/agent/queue/claim-next", headers=anna, json={"queue": queue})
        assert odd.status_code == 400 and odd.json()["error"]["code"] == "invalid_queue"


async def test_concurrent_claims_never_give_one_chat_to_two_agents(client, bridge):
    cid, _ = await queued_conversation(client)
    sessions = [await agent_session(bridge.deps, client, f"agent{i}") for i in range(6)]
    queues = (await client.get("/api/v1/agent/queues", headers=sessions[0])).json()["queues"]
    esc_id = next(q for q in queues if q["queue"] == "da-general")["waiting"][0]["escalation_id"]
    results = await asyncio.gather(*[client.post(f"/api/v1/agent/escalations/{esc_id}/claim", headers=h) for h in sessions])
    codes = sorted(r.status_code for r in results)
    assert codes == [200] + [409] * 5
    async with bridge.deps.sessionmaker() as s:
        claims = (await s.scalars(select(Claim).where(Claim.conversation_id == cid))).all()
    assert len(claims) == 1


async def test_concurrent_claim_next_spreads_chats(client, bridge):
    convs = [(await queued_conversation(client))[0] for _ in range(4)]
    sessions = [await agent_session(bridge.deps, client, f"a{i}", capacity=1) for i in range(6)]
    results = await asyncio.gather(*[client.post("/api/v1/agent/queue/claim-next", headers=h) for h in sessions])
    won = [r.json()["conversation_id"] for r in results if r.status_code == 200]
    assert sorted(won) == sorted(convs)
    assert sorted(r.status_code for r in results if r.status_code != 200) == [404, 404]


async def test_capacity_and_availability_are_enforced(client, bridge):
    for _ in range(2):
        await queued_conversation(client)
    anna = await agent_session(bridge.deps, client, "anna", capacity=1)
    assert (await client.post("/api/v1/agent/queue/claim-next", headers=anna)).status_code == 200
    full = await client.post("/api/v1/agent/queue/claim-next", headers=anna)
    assert full.status_code == 409 and full.json()["error"]["code"] == "capacity_reached"
    bo = await agent_session(bridge.deps, client, "bo")
    await client.put("/api/v1/agent/me/status", headers=bo, json={"status": "away"})
    away = await client.post("/api/v1/agent/queue/claim-next", headers=bo)
    assert away.status_code == 409 and away.json()["error"]["code"] == "not_available"
    bad = await client.put("/api/v1/agent/me/status", headers=bo, json={"status": "sleeping"})
    assert bad.status_code == 400


async def test_skills_routing_limits_what_an_agent_sees_and_claims(client, bridge):
    await queued_conversation(client, language="sv", municipality="0180")
    dane = await agent_session(bridge.deps, client, "dane", languages=("da",))
    names = [q["queue"] for q in (await client.get("/api/v1/agent/queues", headers=dane)).json()["queues"]]
    assert "sv-general" not in names
    assert (await client.post("/api/v1/agent/queue/claim-next", headers=dane)).status_code == 404
    forbidden = await client.post("/api/v1/agent/queue/claim-next", headers=dane, json={"queue": "sv-general"})
    assert forbidden.status_code == 403
    swede = await agent_session(bridge.deps, client, "sven", languages=("sv",))
    assert (await client.post("/api/v1/agent/queue/claim-next", headers=swede)).json()["queue"] == "sv-general"


async def test_full_chat_transcript_reply_typing_close_and_rating(client, bridge, fake_rasa):
    cid, headers = await new_conversation(client)
    await send(client, cid, headers, "Hvordan får jeg et pas?")
    await wait_for_messages(client, cid, headers, lambda m: any(x["sender"] == "bot" for x in m))
    await client.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)
    anna = await agent_session(bridge.deps, client, "anna")
    agent_ws = await WsClient.agent(bridge.url, anna)
    await agent_ws.recv_until(lambda f: f["type"] == "hello")
    citizen_ws = await WsClient.citizen(bridge.url, cid, headers)
    await citizen_ws.recv_until(lambda f: f["type"] == "hello")

    claimed = (await client.post("/api/v1/agent/queue/claim-next", headers=anna)).json()
    assert claimed["conversation_id"] == cid
    await agent_ws.recv_until(lambda f: f["type"] == "chat_assigned" and f["conversation_id"] == cid)
    await citizen_ws.recv_until(is_msg("system", "Anna"))

    transcript = (await client.get(f"/api/v1/agent/conversations/{cid}/transcript", headers=anna)).json()
    bot = [m for m in transcript["messages"] if m["sender"] == "bot"]
    assert bot and bot[0]["topic"] == "ask_passport" and abs(bot[0]["confidence"] - 0.93) < 1e-9
    assert transcript["escalation"]["reason"] == "citizen_request"

    # Typing both ways.
    await citizen_ws.send({"type": "typing"})
    await agent_ws.recv_until(lambda f: f["type"] == "typing" and f["sender"] == "citizen")
    await agent_ws.send({"type": "typing", "conversation_id": cid})
    await citizen_ws.recv_until(lambda f: f["type"] == "typing" and f["sender"] == "agent")

    # Messages both ways.
    await citizen_ws.send({"type": "message", "text": "Hej Anna", "client_msg_id": "x1"})
    got = await agent_ws.recv_until(is_msg("citizen", "Hej Anna"))
    assert got["conversation_id"] == cid
    reply = await client.post(f"/api/v1/agent/conversations/{cid}/messages", headers=anna, json={"text": "Hej! Jeg hjælper."})
    assert reply.status_code == 201
    await citizen_ws.recv_until(is_msg("agent", "Jeg hjælper"))
    await agent_ws.send({"type": "message", "conversation_id": cid, "text": "Via websocket", "client_msg_id": "w1"})
    await agent_ws.recv_until(lambda f: f["type"] == "ack" and f["client_msg_id"] == "w1")
    await citizen_ws.recv_until(is_msg("agent", "Via websocket"))
    assert fake_rasa.texts_for(cid) == ["Hvordan får jeg et pas?"]

    # Close: tags required and checked against the taxonomy.
    no_tags = await client.post(f"/api/v1/agent/conversations/{cid}/close", headers=anna, json={"tags": []})
    assert no_tags.status_code == 400 and no_tags.json()["error"]["code"] == "tags_required"
    unknown = await client.post(f"/api/v1/agent/conversations/{cid}/close", headers=anna, json={"tags": ["made.up"]})
    assert unknown.status_code == 400 and unknown.json()["error"]["tags"] == ["made.up"]
    early = await client.post(f"/api/v1/citizen/conversations/{cid}/rating", headers=headers, json={"score": 7})
    assert early.status_code == 409
    closed = await client.post(f"/api/v1/agent/conversations/{cid}/close", headers=anna,
                               json={"tags": ["borgerservice.pas", "andet"], "note": "Forklaret om pas"})
    assert closed.status_code == 200
    ask = await citizen_ws.recv_until(lambda f: f["type"] == "message" and f.get("payload") and "rating_request" in f["payload"])
    assert ask["payload"]["rating_request"] == {"min": 1, "max": 9}
    await citizen_ws.recv_until(lambda f: f["type"] == "status" and f["mode"] == "closed")
    assert (await client.post(f"/api/v1/citizen/conversations/{cid}/rating", headers=headers, json={"score": 10})).status_code == 400
    assert (await client.post(f"/api/v1/citizen/conversations/{cid}/rating", headers=headers, json={"score": 8})).status_code == 201
    assert (await client.post(f"/api/v1/citizen/conversations/{cid}/rating", headers=headers, json={"score": 9})).status_code == 409
    async with bridge.deps.sessionmaker() as s:
        tags = sorted((await s.scalars(select(ClosureTag.tag_code))).all())
        score = await s.scalar(select(Rating.score).where(Rating.conversation_id == cid))
    assert tags == ["andet", "borgerservice.pas"] and score == 8
    # A closed chat takes no more messages.
    late = await client.post(f"/api/v1/citizen/conversations/{cid}/messages", headers=headers, json={"text": "hov"})
    assert late.status_code == 409
    await citizen_ws.close()
    await agent_ws.close()


async def test_only_the_holder_acts_on_a_chat(client, bridge):
    cid, _ = await queued_conversation(client)
    anna = await agent_session(bridge.deps, client, "anna")
    bo = await agent_session(bridge.deps, client, "bo")
    await client.post("/api/v1/agent/queue/claim-next", headers=anna)
    assert (await client.post(f"/api/v1/agent/conversations/{cid}/messages", headers=bo, json={"text": "hej"})).status_code == 403
    assert (await client.get(f"/api/v1/agent/conversations/{cid}/transcript", headers=bo)).status_code == 403
    assert (await client.post(f"/api/v1/agent/conversations/{cid}/close", headers=bo, json={"tags": ["andet"]})).status_code == 403


async def test_transfer_to_queue_keeps_turn_and_to_agent(client, bridge):
    cid, headers = await queued_conversation(client)
    later, _ = await queued_conversation(client, language="da", municipality="751")
    anna = await agent_session(bridge.deps, client, "anna")
    bo = await agent_session(bridge.deps, client, "bo")
    await client.post("/api/v1/agent/queue/claim-next", headers=anna, json={"queue": "da-general"})
    bo_ws = await WsClient.agent(bridge.url, bo)
    await bo_ws.recv_until(lambda f: f["type"] == "hello")
    # To another agent.
    moved = await client.post(f"/api/v1/agent/conversations/{cid}/transfer", headers=anna, json={"agent_id": 2})
    assert moved.status_code == 200, moved.text
    await bo_ws.recv_until(lambda f: f["type"] == "chat_assigned" and f["conversation_id"] == cid)
    assert [c["conversation_id"] for c in (await client.get("/api/v1/agent/chats", headers=bo)).json()["chats"]] == [cid]
    assert (await client.get("/api/v1/agent/chats", headers=anna)).json()["chats"] == []
    # To a queue: waits there ahead of later arrivals (original enqueue time).
    back = await client.post(f"/api/v1/agent/conversations/{cid}/transfer", headers=bo, json={"queue": "aarhus"})
    assert back.json() == {"status": "queued", "queue": "aarhus"}
    state = (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).json()
    assert state["mode"] == "queued" and state["queue"]["queue"] == "aarhus" and state["queue"]["position"] == 1
    taken = await client.post("/api/v1/agent/queue/claim-next", headers=anna, json={"queue": "aarhus"})
    assert taken.json()["conversation_id"] == cid
    bad = await client.post(f"/api/v1/agent/conversations/{cid}/transfer", headers=anna, json={"queue": "sv-general"})
    assert bad.status_code == 400
    assert later
    await bo_ws.close()


async def test_hand_back_resumes_bot_and_forwards_again(client, bridge, fake_rasa):
    cid, headers = await queued_conversation(client)
    anna = await agent_session(bridge.deps, client, "anna")
    await client.post("/api/v1/agent/queue/claim-next", headers=anna)
    await send(client, cid, headers, "til agenten")
    # Not forwarded now, nor later: it would reach Rasa before "pas igen" (checked below).
    assert fake_rasa.texts_for(cid) == []
    r = await client.post(f"/api/v1/agent/conversations/{cid}/handback", headers=anna)
    assert r.status_code == 200 and r.json()["rasa_resumed"] is True
    assert fake_rasa.events[-1] == (cid, "resume")
    await send(client, cid, headers, "pas igen")
    await wait_for_messages(client, cid, headers, lambda m: any("Svar på: pas igen" in (x["text"] or "") for x in m))
    assert fake_rasa.texts_for(cid) == ["pas igen"]


async def test_callback_request_is_encrypted_and_listed_for_agents(client, bridge):
    cid, headers = await new_conversation(client, municipality="closed-town")
    await client.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)
    bad = await client.post(f"/api/v1/citizen/conversations/{cid}/callback", headers=headers, json={"phone": "abc"})
    assert bad.status_code == 400
    ok = await client.post(f"/api/v1/citizen/conversations/{cid}/callback", headers=headers,
                           json={"phone": "+45 12 34 56 78", "description": "Om pas, cpr 010203-1234"})
    assert ok.status_code == 201
    async with bridge.deps.sessionmaker() as s:
        row = await s.scalar(select(CallbackRequest))
    assert "12345678" not in row.phone_encrypted and "010203" not in row.description
    anna = await agent_session(bridge.deps, client, "anna")
    listed = (await client.get("/api/v1/agent/callbacks", headers=anna, params={"status": "open"})).json()["callbacks"]
    # The open list tells callbacks apart without showing whom to call.
    assert listed[0]["phone"] is None and listed[0]["phone_hint"] == "•••• 5678"
    assert listed[0]["conversation_id"] == cid
    cb_id = listed[0]["id"]
    taken = await client.post(f"/api/v1/agent/callbacks/{cb_id}/take", headers=anna)
    assert taken.status_code == 200 and taken.json()["phone"] == "+4512345678"
    mine = (await client.get("/api/v1/agent/callbacks", headers=anna, params={"status": "in_progress"})).json()
    assert mine["callbacks"][0]["phone"] == "+4512345678"
    bo = await agent_session(bridge.deps, client, "bo")
    others = (await client.get("/api/v1/agent/callbacks", headers=bo, params={"status": "in_progress"})).json()
    assert others["callbacks"][0]["phone"] is None
    assert (await client.post(f"/api/v1/agent/callbacks/{cb_id}/take", headers=bo)).status_code == 409
    done = await client.post(f"/api/v1/agent/callbacks/{cb_id}/complete", headers=anna, json={"outcome": "Ringet op"})
    assert done.json()["status"] == "done"
    twice = await client.post(f"/api/v1/citizen/conversations/{cid}/callback", headers=headers, json={"phone": "12345678"})
    assert twice.status_code == 409


async def test_callback_while_waiting_leaves_the_queue(client, bridge):
    cid, headers = await queued_conversation(client)
    ok = await client.post(f"/api/v1/citizen/conversations/{cid}/callback", headers=headers, json={"phone": "070-123 45 67"})
    assert ok.status_code == 201
    state = (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).json()
    assert state["mode"] == "closed" and state["close_reason"] == "callback_requested"
    anna = await agent_session(bridge.deps, client, "anna")
    assert (await client.post("/api/v1/agent/queue/claim-next", headers=anna)).status_code == 404


async def test_agent_websocket_sees_new_chats_and_queue_changes(client, bridge):
    anna = await agent_session(bridge.deps, client, "anna")
    ws = await WsClient.agent(bridge.url, anna)
    await ws.recv_until(lambda f: f["type"] == "hello")
    cid, _ = await queued_conversation(client)
    new = await ws.recv_until(lambda f: f["type"] == "chat_waiting")
    assert new["conversation_id"] == cid and new["queue"] == "da-general"
    await ws.recv_until(lambda f: f["type"] == "queue_changed" and f["waiting"] == 1)
    # Swedish chats are not shown to a Danish-only agent.
    await queued_conversation(client, language="sv")
    await client.post("/api/v1/agent/queue/claim-next", headers=anna)
    await ws.recv_until(lambda f: f["type"] == "chat_claimed")
    assert not any(f.get("queue") == "sv-general" for f in ws.frames)
    await ws.close()
    assert await login(client, "anna")


async def test_an_agent_socket_that_falls_behind_is_told_to_reconnect(client, bridge, monkeypatch):
    # Events are dropped for a subscriber whose buffer is full; the agent must
    # not silently miss them, so the socket closes with 4408 (the console
    # reconnects and reloads what it shows).
    monkeypatch.setattr(events, "SUBSCRIBER_QUEUE_SIZE", 2)
    headers = await agent_session(bridge.deps, client, "anna")
    ws = await WsClient.agent(bridge.url, headers)
    hello = await ws.recv_until(lambda f: f["type"] == "hello")
    channel = events.agent_channel(hello["agent"]["id"])
    for i in range(10):  # all at once, before the socket's writer can take any
        bridge.deps.bus.hub.deliver(channel, {"type": "agent_status", "n": i})
    await asyncio.wait_for(ws.ws.wait_closed(), 5)
    assert ws.ws.close_code == 4408


async def claimed_chat(client, bridge, login_name="anna"):
    """A queued conversation claimed by a new agent: (agent headers, conversation id, citizen headers)."""
    anna = await agent_session(bridge.deps, client, login_name)
    cid, headers = await queued_conversation(client)
    claimed = await client.post("/api/v1/agent/queue/claim-next", headers=anna)
    assert claimed.status_code == 200 and claimed.json()["conversation_id"] == cid
    return anna, cid, headers


async def store_unpublished(bridge, cid, text):
    """A message stored the way a bridge does just before it dies: committed, never published."""
    from handoff_bridge.services.messages import append_message

    async with bridge.deps.sessionmaker() as session:
        async with session.begin():
            msg, _mode = await append_message(session, cid, "bot", text)
    return msg.seq


async def test_agent_websocket_resumes_from_its_cursor_without_gap_or_duplicate(client, bridge):
    anna, cid, headers = await claimed_chat(client, bridge)
    ws = await WsClient.agent(bridge.url, anna)
    hello = await ws.recv_until(lambda f: f["type"] == "hello")
    cursor = next(c["last_seq"] for c in hello["chats"] if c["conversation_id"] == cid)
    await send(client, cid, headers, "seen live", client_msg_id="live-0")
    live = await ws.recv_until(is_msg("citizen", "seen live"))
    assert live["seq"] == cursor + 1
    cursor = live["seq"]
    await ws.close()

    # While the console is away: five citizen messages.
    for i in range(5):
        await send(client, cid, headers, f"while away {i}", client_msg_id=f"away-{i}")
    ws = await WsClient.agent(bridge.url, anna, cursors={cid: cursor, "unknown-chat": 3})
    await ws.recv_until(lambda f: f["type"] == "hello")
    await send(client, cid, headers, "after resume", client_msg_id="after-0")
    await ws.recv_until(is_msg("citizen", "after resume"))
    got = [f for f in ws.frames if f["type"] == "message"]
    assert [f["text"] for f in got] == [f"while away {i}" for i in range(5)] + ["after resume"]
    assert [f["seq"] for f in got] == list(range(cursor + 1, cursor + 7))
    await ws.close()


async def test_agent_replay_is_bounded_and_asks_the_console_to_reload_the_chat(client, bridge, monkeypatch):
    from handoff_bridge.api import agent as agent_api

    monkeypatch.setattr(agent_api, "REPLAY_LIMIT", 3)
    anna, cid, headers = await claimed_chat(client, bridge)
    for i in range(5):
        await send(client, cid, headers, f"missed {i}", client_msg_id=f"m-{i}")
    ws = await WsClient.agent(bridge.url, anna, cursors={cid: 0})
    resync = await ws.recv_until(lambda f: f["type"] == "resync")
    assert resync["conversation_id"] == cid
    assert not any(f["type"] == "message" for f in ws.frames)
    await send(client, cid, headers, "next", client_msg_id="n")
    nxt = await ws.recv_until(is_msg("citizen", "next"))
    assert nxt["seq"] == resync["last_seq"] + 1
    await ws.close()


async def test_a_cursor_beyond_the_end_of_the_chat_hides_nothing(client, bridge):
    anna, cid, headers = await claimed_chat(client, bridge)
    ws = await WsClient.agent(bridge.url, anna, cursors={cid: 2**31 - 1})
    await ws.recv_until(lambda f: f["type"] == "hello")
    await send(client, cid, headers, "still delivered", client_msg_id="s")
    await ws.recv_until(is_msg("citizen", "still delivered"))
    await ws.close()


async def test_a_message_that_was_never_published_reaches_the_agent(client, bridge, monkeypatch):
    # An instance killed between commit and publish: the socket's periodic
    # comparison with the database delivers the message anyway.
    from handoff_bridge.api import agent as agent_api

    monkeypatch.setattr(agent_api, "CATCH_UP_SECONDS", 0.2)
    anna, cid, headers = await claimed_chat(client, bridge)
    ws = await WsClient.agent(bridge.url, anna)
    await ws.recv_until(lambda f: f["type"] == "hello")
    seq = await store_unpublished(bridge, cid, "never published")
    got = await ws.recv_until(lambda f: f["type"] == "message" and f["seq"] == seq, timeout=3)
    assert got["text"] == "never published"
    await ws.close()


async def test_a_bridge_that_loses_its_fanout_tells_agent_and_citizen_sockets_to_resync(client, bridge):
    anna, cid, headers = await claimed_chat(client, bridge)
    agent_ws = await WsClient.agent(bridge.url, anna)
    await agent_ws.recv_until(lambda f: f["type"] == "hello")
    citizen_ws = await WsClient.citizen(bridge.url, cid, headers)
    await citizen_ws.recv_until(lambda f: f["type"] == "hello")
    assert bridge.deps.bus.hub.interrupt_all() >= 2
    for ws in (agent_ws, citizen_ws):
        await asyncio.wait_for(ws.ws.wait_closed(), 5)
        assert ws.ws.close_code == 4408
    # The handlers finish their last database writes before the bridge stops.
    for _ in range(100):
        if not bridge.app.ctx.websockets:
            break
        await asyncio.sleep(0.05)
    assert not bridge.app.ctx.websockets


async def test_agent_hello_must_be_a_valid_hello(client, bridge):
    import json

    import websockets

    anna = await agent_session(bridge.deps, client, "anna")
    token = anna["Authorization"].split(" ", 1)[1]
    url = bridge.url.replace("http://", "ws://") + "/api/v1/agent/ws"
    bad = [{"type": "hello", "token": token, "cursors": {"c": 10**30}},
           {"type": "hello", "token": token, "cursors": {"c": -1}},
           {"type": "hello", "token": token, "cursors": {"c": "abc"}},
           {"type": "hello", "token": token, "cursors": {"c": 1e308}},
           {"type": "hello", "token": token, "cursors": {"c": True}},
           {"type": "hello", "token": token, "cursors": [1]},
           {"type": "hello", "token": token, "cursors": {f"c{i}": 0 for i in range(101)}},
           {"type": "hello", "token": token, "cursors": {"x" * 65: 0}},
           {"type": "hello", "token": 5},
           {"token": token}]
    for hello in bad:
        async with websockets.connect(url) as ws:
            await ws.send(json.dumps(hello))
            error = json.loads(await ws.recv())
            assert error["type"] == "error" and error["error"]["code"] == "invalid_hello", (hello, error)
            with pytest.raises(websockets.ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd.code == 4400
