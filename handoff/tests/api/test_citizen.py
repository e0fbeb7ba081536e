"""Citizen API: messages, sequence numbers, reconnects, the bot relay and bad input."""

import asyncio
import time

from helpers import (
    WsClient,
    forwarded_after_marker,
    is_msg,
    messages,
    new_conversation,
    send,
    settled,
    wait_for_messages,
)
from sqlalchemy import select, text

from handoff_bridge.db.models import Conversation, Escalation, Message


async def test_messages_get_consecutive_sequence_numbers_before_ack(client, bridge):
    cid, headers = await new_conversation(client)
    first = await send(client, cid, headers, "hej")
    assert first["seq"] == 1 and first["duplicate"] is False
    # Stored at ack time: read straight from the database.
    async with bridge.deps.sessionmaker() as s:
        stored = await s.scalar(select(Message).where(Message.conversation_id == cid, Message.seq == 1))
    assert stored.sender == "citizen" and stored.text == "hej"
    msgs = await wait_for_messages(client, cid, headers, lambda m: len(m) >= 4)
    assert [m["seq"] for m in msgs] == list(range(1, len(msgs) + 1))


async def test_resend_with_same_client_msg_id_is_stored_once(client, bridge, fake_rasa):
    cid, headers = await new_conversation(client)
    a = await send(client, cid, headers, "hej", client_msg_id="m-1")
    b = await send(client, cid, headers, "hej", client_msg_id="m-1")
    assert a["seq"] == b["seq"] and b["duplicate"] is True
    await wait_for_messages(client, cid, headers, lambda m: any(x["sender"] == "bot" for x in m))
    assert await forwarded_after_marker(client, fake_rasa, cid, headers, "markør") == ["hej", "markør"]
    async with bridge.deps.sessionmaker() as s:
        count = await s.scalar(text("SELECT count(*) FROM messages WHERE sender = 'citizen' AND text = 'hej'"))
    assert count == 1


async def test_bot_relay_sends_metadata_and_relays_everything(client, fake_rasa):
    cid, headers = await new_conversation(client, municipality="101", language="da")
    await send(client, cid, headers, "Hvordan får jeg et pas?", login_token="jwt.example.token")
    msgs = await wait_for_messages(client, cid, headers, lambda m: sum(x["sender"] == "bot" for x in m) >= 3)
    req = fake_rasa.requests[-1]
    # The sender is the conversation id, never the citizen's secret token.
    assert req["sender"] == cid
    assert req["message"] == "Hvordan får jeg et pas?"
    assert req["metadata"] == {"municipality": "101", "language": "da", "login_token": "jwt.example.token"}
    bot = [m for m in msgs if m["sender"] == "bot"]
    assert bot[0]["text"] == "Svar på: Hvordan får jeg et pas?"
    assert bot[0]["payload"]["buttons"] == [{"title": "Pas", "payload": "/ask_passport"}]
    assert bot[1]["payload"]["custom"] == {"kind": "link", "url": "https://example.invalid/pas"}
    assert bot[2]["payload"]["image"] == "https://example.invalid/pas.png"
    # NLU details are for agents only.
    assert "topic" not in bot[0] and "confidence" not in bot[0]


async def test_button_click_sends_payload_to_rasa(client, fake_rasa):
    cid, headers = await new_conversation(client)
    await send(client, cid, headers, "Pas", payload="/ask_passport")
    await wait_for_messages(client, cid, headers, lambda m: any(x["sender"] == "bot" for x in m))
    assert fake_rasa.texts_for(cid) == ["/ask_passport"]


async def test_bot_turn_stores_topic_and_confidence(client, bridge):
    cid, headers = await new_conversation(client)
    await send(client, cid, headers, "pas")
    await wait_for_messages(client, cid, headers, lambda m: any(x["sender"] == "bot" for x in m))
    async with bridge.deps.sessionmaker() as s:
        bot = (await s.scalars(select(Message).where(Message.conversation_id == cid, Message.sender == "bot"))).all()
    assert bot and all(m.topic == "ask_passport" and abs(m.confidence - 0.93) < 1e-9 for m in bot)


async def test_reconnect_gets_missed_messages_once_in_order(client, bridge):
    cid, headers = await new_conversation(client)
    ws = await WsClient.citizen(bridge.url, cid, headers)
    await ws.recv_until(lambda f: f["type"] == "hello")
    await ws.send({"type": "message", "text": "første", "client_msg_id": "a"})
    await ws.recv_until(lambda f: f["type"] == "ack")
    await ws.recv_until(is_msg("bot"))
    seen = max(f["seq"] for f in ws.frames if f["type"] == "message")
    await ws.close()
    # While disconnected: more messages arrive (citizen via HTTP, bot replies).
    await send(client, cid, headers, "anden")
    all_msgs = await wait_for_messages(client, cid, headers, lambda m: sum(x["sender"] == "bot" for x in m) >= 6)
    ws2 = await WsClient.citizen(bridge.url, cid, headers, last_seq=seen)
    await ws2.recv_until(lambda f: f["type"] == "message" and f["seq"] == all_msgs[-1]["seq"])
    # A later message as a marker: a missed message repeated would come before it.
    marker = await send(client, cid, headers, "markør")
    await ws2.recv_until(lambda f: f["type"] == "message" and f["seq"] == marker["seq"])
    await ws2.send({"type": "ping"})
    await ws2.recv_until(lambda f: f["type"] == "pong")
    got = [f["seq"] for f in ws2.frames if f["type"] == "message" and f["seq"] < marker["seq"]]
    assert got == [m["seq"] for m in all_msgs if m["seq"] > seen]
    await ws2.close()


async def test_websocket_live_stream_has_no_gaps_or_duplicates(client, bridge):
    cid, headers = await new_conversation(client)
    ws = await WsClient.citizen(bridge.url, cid, headers)
    for i in range(5):
        await ws.send({"type": "message", "text": f"besked {i}", "client_msg_id": f"c{i}"})
    await ws.recv_until(lambda f: f["type"] == "message" and f["seq"] >= 20, timeout=10)
    seqs = [f["seq"] for f in ws.frames if f["type"] == "message"]
    assert seqs == list(range(1, len(seqs) + 1))
    acks = [f for f in ws.frames if f["type"] == "ack"]
    assert sorted(a["client_msg_id"] for a in acks) == [f"c{i}" for i in range(5)]
    await ws.close()


async def test_long_poll_returns_when_a_message_arrives(client, bridge):
    cid, headers = await new_conversation(client)
    poll = asyncio.create_task(messages(client, cid, headers, after=0, wait=5))
    await asyncio.sleep(0.3)
    assert not poll.done()
    await send(client, cid, headers, "hej")
    got = await asyncio.wait_for(poll, 5)
    assert got and got[0]["seq"] == 1


async def test_personal_numbers_are_masked_in_storage(client, bridge, fake_rasa):
    cid, headers = await new_conversation(client)
    await send(client, cid, headers, "Mit cpr er 010203-1234 og tlf 12 34 56 78")
    async with bridge.deps.sessionmaker() as s:
        stored = await s.scalar(select(Message.text).where(Message.conversation_id == cid, Message.seq == 1))
    assert "1234" not in stored and "######-####" in stored and "## ## ## ##" in stored
    await wait_for_messages(client, cid, headers, lambda m: any(x["sender"] == "bot" for x in m))
    # The assistant gets the citizen's own words (its identity step must see the number); only storage is masked.
    assert fake_rasa.texts_for(cid) == ["Mit cpr er 010203-1234 og tlf 12 34 56 78"]


async def test_the_assistants_answers_are_stored_and_shown_intact(client, bridge, fake_rasa):
    """Answers give authorities' phone numbers: citizens and agents must read them."""
    from fake_rasa import MITID_ANSWER

    cid, headers = await new_conversation(client)
    await send(client, cid, headers, "mitid er spærret, ring 12 34 56 78")
    msgs = await wait_for_messages(client, cid, headers, lambda m: any(x["sender"] == "bot" for x in m))
    assert [m["text"] for m in msgs if m["sender"] == "bot"] == [MITID_ANSWER]
    assert "33 98 00 10" in MITID_ANSWER
    async with bridge.deps.sessionmaker() as s:
        rows = dict((await s.execute(select(Message.sender, Message.text).where(Message.conversation_id == cid))).all())
    assert rows["bot"] == MITID_ANSWER and rows["citizen"] == "mitid er spærret, ring ## ## ## ##"


def offers(msgs):
    """System lines that offer a person with a button the bridge handles itself."""
    return [m for m in msgs if m["sender"] == "system"
            and any(b["payload"] == "bridge:handoff:system_unavailable" for b in (m["payload"] or {}).get("buttons", []))]


async def test_rasa_timeout_answers_and_offers_a_person(client, bridge, fake_rasa):
    cid, headers = await new_conversation(client)
    started = time.monotonic()
    await send(client, cid, headers, "slow please")
    msgs = await wait_for_messages(client, cid, headers, lambda m: offers(m), timeout=6)
    assert time.monotonic() - started < 5
    [offer] = offers(msgs)
    assert offer["text"].startswith("Den digitale assistent kan desværre ikke svare lige nu.")
    assert offer["payload"]["buttons"] == [{"title": "Tal med en medarbejder", "payload": "bridge:handoff:system_unavailable"}]
    # Offered, not pushed: nobody is queued until the citizen chooses.
    state = (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).json()
    assert state["mode"] == "bot"
    async with bridge.deps.sessionmaker() as s:
        assert await s.scalar(select(Escalation).where(Escalation.conversation_id == cid)) is None
    # The button works without Rasa and keeps the reason for the statistics.
    await send(client, cid, headers, "Tal med en medarbejder", payload="bridge:handoff:system_unavailable")
    await wait_for_messages(client, cid, headers, lambda m: any("nummer 1 i køen" in (x["text"] or "") for x in m))
    async with bridge.deps.sessionmaker() as s:
        esc = await s.scalar(select(Escalation).where(Escalation.conversation_id == cid))
    assert esc.reason == "system_unavailable"
    assert fake_rasa.texts_for(cid) == ["slow please"]


async def test_rasa_error_in_swedish(client, fake_rasa):
    cid, headers = await new_conversation(client, language="sv")
    await send(client, cid, headers, "boom")
    msgs = await wait_for_messages(client, cid, headers, lambda m: offers(m))
    [offer] = offers(msgs)
    assert offer["text"].startswith("Den digitala assistenten kan tyvärr inte svara just nu.")
    assert offer["payload"]["buttons"][0]["title"] == "Prata med en person"


async def test_an_empty_bot_reply_is_answered_with_an_offer(client, bridge, fake_rasa):
    """The action server is down: Rasa answers 200 with no messages."""
    cid, headers = await new_conversation(client)
    await send(client, cid, headers, "silent please")
    msgs = await wait_for_messages(client, cid, headers, lambda m: offers(m))
    assert [m["sender"] for m in msgs] == ["citizen", "system"]
    state = (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).json()
    assert state["mode"] == "bot"


async def test_a_request_for_a_person_with_an_empty_reply_is_queued_at_once(client, bridge, fake_rasa):
    cid, headers = await new_conversation(client)
    await send(client, cid, headers, "silent human")
    msgs = await wait_for_messages(client, cid, headers, lambda m: any("nummer 1 i køen" in (x["text"] or "") for x in m))
    assert not offers(msgs)
    state = (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).json()
    assert state["mode"] == "queued"
    assert (cid, "pause") in fake_rasa.events
    async with bridge.deps.sessionmaker() as s:
        esc = await s.scalar(select(Escalation).where(Escalation.conversation_id == cid))
    assert esc.reason == "citizen_request"


async def test_talk_to_a_person_pauses_bot_and_stops_forwarding(client, bridge, fake_rasa):
    cid, headers = await new_conversation(client)
    resp = await client.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "queued" and body["position"] == 1 and body["estimated_wait_seconds"] > 0
    assert (cid, "pause") in fake_rasa.events
    again = (await client.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)).json()
    assert again["status"] == "queued" and again["position"] == 1
    await send(client, cid, headers, "er der nogen?")
    await settled(bridge)
    assert fake_rasa.texts_for(cid) == []


async def test_handoff_button_payload_escalates(client, fake_rasa):
    cid, headers = await new_conversation(client)
    await send(client, cid, headers, "Tal med en medarbejder", payload="bridge:handoff")
    await wait_for_messages(client, cid, headers, lambda m: any("i kø" in (x["text"] or "") for x in m))
    assert fake_rasa.texts_for(cid) == []


async def test_repeated_fallback_does_not_queue(client, bridge, fake_rasa):
    """The bot offers a person after repeated misunderstanding; only the citizen's choice queues."""
    cid, headers = await new_conversation(client)
    for n, text in enumerate(("??? a", "??? b", "??? c"), start=1):
        await send(client, cid, headers, text)
        await wait_for_messages(client, cid, headers, lambda m: sum(x["sender"] == "bot" for x in m) == n)
    state = (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).json()
    assert state["mode"] == "bot"
    async with bridge.deps.sessionmaker() as s:
        assert await s.scalar(select(Escalation).where(Escalation.conversation_id == cid)) is None
        conv = await s.get(Conversation, cid)
        assert conv.consecutive_fallbacks == 3
    assert fake_rasa.texts_for(cid) == ["??? a", "??? b", "??? c"]


async def test_queue_position_updates_live(client, bridge):
    c1, h1 = await new_conversation(client)
    c2, h2 = await new_conversation(client)
    await client.post(f"/api/v1/citizen/conversations/{c1}/handoff", headers=h1)
    ws = await WsClient.citizen(bridge.url, c2, h2)
    await ws.recv_until(lambda f: f["type"] == "hello")
    r = (await client.post(f"/api/v1/citizen/conversations/{c2}/handoff", headers=h2)).json()
    assert r["position"] == 2
    await ws.recv_until(lambda f: f["type"] == "queue" and f["position"] == 2)
    # The first citizen leaves; the second moves up.
    await client.post(f"/api/v1/citizen/conversations/{c1}/leave", headers=h1)
    update = await ws.recv_until(lambda f: f["type"] == "queue" and f["position"] == 1)
    assert update["estimated_wait_seconds"] > 0
    await ws.close()


async def test_bad_input_gets_clear_4xx(client, bridge):
    bad_create = await client.post("/api/v1/citizen/conversations", json={"municipality": "101", "language": "en"})
    assert bad_create.status_code == 400 and bad_create.json()["error"]["code"] == "invalid_language"
    not_json = await client.post("/api/v1/citizen/conversations", content=b"{nope", headers={"content-type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "invalid_json"
    cid, headers = await new_conversation(client)
    too_long = await client.post(f"/api/v1/citizen/conversations/{cid}/messages", headers=headers,
                                 json={"text": "x" * (bridge.deps.settings.max_message_chars + 1)})
    assert too_long.status_code == 413 and too_long.json()["error"]["code"] == "message_too_long"
    empty = await client.post(f"/api/v1/citizen/conversations/{cid}/messages", headers=headers, json={"text": "  "})
    assert empty.status_code == 400
    huge = await client.post(f"/api/v1/citizen/conversations/{cid}/messages", headers=headers,
                             content=b'{"text": "' + b"x" * (bridge.deps.settings.request_max_size + 10) + b'"}')
    assert huge.status_code == 413
    wrong = await client.post(f"/api/v1/citizen/conversations/{cid}/messages",
                              headers={"Authorization": "Bearer wrong"}, json={"text": "hej"})
    assert wrong.status_code == 401
    missing = await client.get(f"/api/v1/citizen/conversations/{cid}")
    assert missing.status_code == 401
    bad_after = await client.get(f"/api/v1/citizen/conversations/{cid}/messages", headers=headers, params={"after": "x"})
    assert bad_after.status_code == 400
    # Nothing was lost or half-stored by the rejected requests.
    assert (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).json()["last_seq"] == 0


async def test_websocket_rejects_bad_token_and_bad_frames(client, bridge):
    import websockets

    cid, headers = await new_conversation(client)
    ws = await WsClient.citizen(bridge.url, cid, {"Authorization": "Bearer nope"})
    try:
        await asyncio.wait_for(ws.ws.recv(), 5)
        raise AssertionError("expected close")
    except websockets.ConnectionClosed as exc:
        assert exc.rcvd.code == 4401
    ws = await WsClient.citizen(bridge.url, cid, headers)
    await ws.send({"type": "message", "text": ""})
    err = await ws.recv_until(lambda f: f["type"] == "error")
    assert err["error"]["code"] == "empty_message" and err["status"] == 400
    await ws.ws.send("not json")
    err = await ws.recv_until(lambda f: f["type"] == "error" and f["error"]["code"] == "invalid_json")
    await ws.close()


async def test_an_answer_in_the_other_language_is_marked_with_its_language(client, fake_rasa):
    cid, headers = await new_conversation(client, language="sv")
    await send(client, cid, headers, "på dansk tak")
    await send(client, cid, headers, "pas")
    msgs = await wait_for_messages(client, cid, headers, lambda m: any(x["text"] == "Svar på: pas" for x in m))
    [danish] = [m for m in msgs if m["text"] == "Læs mere på https://www.borger.dk"]
    [swedish_chat] = [m for m in msgs if m["text"] == "Svar på: pas"]
    assert danish["payload"]["language"] == "da"
    assert "language" not in (swedish_chat["payload"] or {})
