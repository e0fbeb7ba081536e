"""Rate limits: messages per minute per conversation and per address, new
conversations per address, websockets per address. On PostgreSQL the test
bridge uses Redis for the counts (shared by instances), on SQLite the process."""

import asyncio
import json
import secrets

import pytest
import websockets
from helpers import ManualClock, new_conversation


def limits(**kw):
    # A Redis prefix of its own, so counts from other tests do not leak in.
    return {"redis_channel_prefix": f"limits_{secrets.token_hex(4)}", **kw}


# The start of a clock minute (the counters' window): every test counts in
# one window, however long it takes, and none waits for the real clock.
WINDOW_START = 1_800_000_000.0


@pytest.fixture
def bridge_clock():
    return ManualClock(WINDOW_START)


@pytest.mark.parametrize("bridge_overrides", [limits(messages_per_minute_per_conversation=3)])
async def test_messages_per_conversation(client, bridge, bridge_overrides):
    cid, headers = await new_conversation(client)
    url = f"/api/v1/citizen/conversations/{cid}/messages"
    for i in range(3):
        assert (await client.post(url, headers=headers, json={"text": f"??? {i}"})).status_code == 201
    r = await client.post(url, headers=headers, json={"text": "??? for meget"})
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
    # Not stored.
    msgs = (await client.get(url, headers=headers)).json()["messages"]
    assert not any(m["text"] == "??? for meget" for m in msgs)
    # Another conversation is not affected.
    other, oh = await new_conversation(client)
    assert (await client.post(f"/api/v1/citizen/conversations/{other}/messages", headers=oh,
                              json={"text": "hej"})).status_code == 201


@pytest.mark.parametrize("bridge_overrides", [limits(messages_per_minute_per_conversation=2)])
async def test_the_count_starts_afresh_in_the_next_minute(client, bridge, bridge_clock, bridge_overrides):
    cid, headers = await new_conversation(client)
    url = f"/api/v1/citizen/conversations/{cid}/messages"
    bridge_clock.advance(45)
    for i in range(2):
        assert (await client.post(url, headers=headers, json={"text": f"??? {i}"})).status_code == 201
    r = await client.post(url, headers=headers, json={"text": "??? for meget"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) == 16
    bridge_clock.advance(15)  # the next clock minute
    assert (await client.post(url, headers=headers, json={"text": "??? igen"})).status_code == 201


@pytest.mark.parametrize("bridge_overrides", [limits(messages_per_minute_per_address=4)])
async def test_messages_per_address_over_http_and_websocket(client, bridge, bridge_overrides):
    a, ah = await new_conversation(client)
    b, bh = await new_conversation(client)
    for cid, h in ((a, ah), (a, ah), (b, bh)):
        assert (await client.post(f"/api/v1/citizen/conversations/{cid}/messages", headers=h,
                                  json={"text": "???"})).status_code == 201
    url = bridge.url.replace("http://", "ws://") + f"/api/v1/citizen/conversations/{b}/ws"
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "hello", "token": bh["Authorization"][7:], "last_seq": 0}))
        for i in range(2):
            await ws.send(json.dumps({"type": "message", "text": f"??? ws {i}", "client_msg_id": f"m{i}"}))
        answers = {}
        while len(answers) < 2:
            frame = json.loads(await ws.recv())
            if frame.get("client_msg_id") in ("m0", "m1") and frame["type"] in ("ack", "error"):
                answers[frame["client_msg_id"]] = frame
    assert answers["m0"]["type"] == "ack"
    assert answers["m1"]["type"] == "error" and answers["m1"]["status"] == 429


@pytest.mark.parametrize("bridge_overrides", [limits(conversations_per_minute_per_address=2)])
async def test_new_conversations_per_address(client, bridge, bridge_overrides):
    for _ in range(2):
        await new_conversation(client)
    r = await client.post("/api/v1/citizen/conversations", json={"municipality": "101", "language": "da"})
    assert r.status_code == 429


@pytest.mark.parametrize("bridge_overrides", [limits(websockets_per_address=2)])
async def test_websockets_per_address(client, bridge, bridge_overrides):
    cid, headers = await new_conversation(client)
    url = bridge.url.replace("http://", "ws://") + f"/api/v1/citizen/conversations/{cid}/ws"
    hello = json.dumps({"type": "hello", "token": headers["Authorization"][7:], "last_seq": 0})
    open_sockets = []
    for _ in range(2):
        ws = await websockets.connect(url)
        await ws.send(hello)
        assert json.loads(await ws.recv())["type"] == "hello"
        open_sockets.append(ws)
    third = await websockets.connect(url)
    with pytest.raises(websockets.ConnectionClosed) as info:
        await third.recv()
    assert info.value.rcvd.code == 4429
    # Closing one frees a place.
    await open_sockets.pop().close()
    frame = None
    for _ in range(50):
        fourth = await websockets.connect(url)
        try:
            await fourth.send(hello)
            frame = json.loads(await fourth.recv())
            break
        except websockets.ConnectionClosed:
            await asyncio.sleep(0.05)
    assert frame is not None and frame["type"] == "hello"
    await fourth.close()
    for ws in open_sockets:
        await ws.close()


async def test_oversized_message_and_body_are_refused(client, bridge):
    cid, headers = await new_conversation(client)
    url = f"/api/v1/citizen/conversations/{cid}/messages"
    r = await client.post(url, headers=headers, json={"text": "x" * 2001})
    assert r.status_code == 413 and r.json()["error"]["code"] == "message_too_long"
    r = await client.post(url, headers={**headers, "Content-Type": "application/json"},
                          content=b'{"text": "' + b"x" * 70000 + b'"}')
    assert r.status_code == 413
