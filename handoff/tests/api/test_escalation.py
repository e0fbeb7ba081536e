"""One way into the queue: the bot's handoff signal and the widget's button both
go through services/queue.py escalate; the citizen hears about it once."""

import asyncio

from helpers import new_conversation, send, settled, wait_for_messages
from sqlalchemy import select

from handoff_bridge.db.models import Escalation, Message
from handoff_bridge.services import queue as queue_svc


def button(cid):
    return f"/api/v1/citizen/conversations/{cid}/handoff"


def queue_lines(msgs):
    return [m for m in msgs if m["sender"] == "system" and "kø" in (m["text"] or "")]


async def escalations(bridge, cid):
    async with bridge.deps.sessionmaker() as s:
        return (await s.scalars(select(Escalation).where(Escalation.conversation_id == cid))).all()


async def test_button_queues_once_and_is_idempotent(client, bridge):
    cid, headers = await new_conversation(client)
    first = await client.post(button(cid), headers=headers)
    assert first.status_code == 200
    data = first.json()
    assert data["status"] == "queued" and data["queue"] == "da-general" and data["position"] == 1
    assert isinstance(data["estimated_wait_seconds"], int) and data["estimated_wait_seconds"] > 0
    again = await client.post(button(cid), headers=headers)
    assert again.json() == data
    [row] = await escalations(bridge, cid)
    assert row.reason == "citizen_request"
    msgs = await wait_for_messages(client, cid, headers, lambda m: queue_lines(m))
    await settled(bridge)
    [line] = queue_lines(await wait_for_messages(client, cid, headers, lambda m: True))
    assert line["text"].startswith("Du er nu i kø til en medarbejder. Du er nummer 1 i køen. Forventet ventetid: ca.")
    assert line["payload"]["queue"]["position"] == 1 and msgs


async def test_second_conversation_gets_position_two(client):
    c1, h1 = await new_conversation(client)
    c2, h2 = await new_conversation(client)
    await client.post(button(c1), headers=h1)
    second = (await client.post(button(c2), headers=h2)).json()
    assert second["position"] == 2 and second["estimated_wait_seconds"] > 0


async def test_routing_by_language_and_municipality(client):
    aarhus, ha = await new_conversation(client, municipality="751")
    swede, hs = await new_conversation(client, municipality="0180", language="sv")
    assert (await client.post(button(aarhus), headers=ha)).json()["queue"] == "aarhus"
    assert (await client.post(button(swede), headers=hs)).json()["queue"] == "sv-general"
    msgs = await wait_for_messages(client, swede, hs, lambda m: any(x["sender"] == "system" for x in m))
    [line] = [m["text"] for m in msgs if m["sender"] == "system"]
    assert line.startswith("Du står nu i kö för att prata med en person. Du är nummer 1 i kön.")


async def test_closed_queue_offers_callback(client, fake_rasa):
    cid, headers = await new_conversation(client, municipality="closed-town")
    resp = await client.post(button(cid), headers=headers)
    assert resp.status_code == 200
    data = resp.json()
    assert data["status"] == "closed" and data["callback_offered"] is True and data["next_open"]
    msgs = await wait_for_messages(client, cid, headers, lambda m: any(x["sender"] == "system" for x in m))
    offer = [m for m in msgs if m["sender"] == "system"][-1]
    assert "lukket" in offer["text"] and offer["payload"]["callback_offer"] is True
    assert any(b["payload"] == "bridge:callback" for b in offer["payload"]["buttons"])
    state = (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).json()
    assert state["mode"] == "bot"


async def test_bot_signal_queues_with_its_details_and_one_queue_message(client, bridge, fake_rasa):
    cid, headers = await new_conversation(client)
    await send(client, cid, headers, "human please")
    msgs = await wait_for_messages(client, cid, headers, lambda m: queue_lines(m))
    await settled(bridge)
    msgs = await wait_for_messages(client, cid, headers, lambda m: True)
    # One message about the queue, from the bridge; the bot's signal is never a message.
    assert len(queue_lines(msgs)) == 1
    assert [m["sender"] for m in msgs] == ["citizen", "system"]
    async with bridge.deps.sessionmaker() as s:
        stored = (await s.scalars(select(Message).where(Message.conversation_id == cid))).all()
    assert not any("handoff" in (m.text or "") or "handoff" in (m.payload or {}) for m in stored)
    [row] = await escalations(bridge, cid)
    assert (row.reason, row.topic, row.confidence) == ("citizen_request", "passport", 0.97)
    assert row.summary == "Borgeren vil tale med en medarbejder om pas."
    state = (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).json()
    assert state["mode"] == "queued"
    # The bot paused itself: the bridge neither pauses it again nor forwards more messages.
    assert (cid, "pause") not in fake_rasa.events
    await send(client, cid, headers, "hallo?")
    await settled(bridge)
    assert fake_rasa.texts_for(cid) == ["human please"]


async def test_bot_signal_when_closed_resumes_bot(client, fake_rasa):
    cid, headers = await new_conversation(client, municipality="closed-town")
    await send(client, cid, headers, "human please")
    await wait_for_messages(client, cid, headers, lambda m: any("lukket" in (x["text"] or "") for x in m))
    for _ in range(50):
        if (cid, "resume") in fake_rasa.events:
            break
        await asyncio.sleep(0.05)
    assert (cid, "resume") in fake_rasa.events
    # The citizen can go on with the bot.
    await send(client, cid, headers, "pas")
    await wait_for_messages(client, cid, headers, lambda m: any("Svar på: pas" in (x["text"] or "") for x in m))


async def test_button_and_bot_escalate_through_the_same_function(client, bridge, fake_rasa, monkeypatch):
    calls = []
    original = queue_svc.escalate

    async def recording(deps, conversation_id, reason, **kwargs):
        calls.append((conversation_id, reason, kwargs["pause_bot"]))
        return await original(deps, conversation_id, reason, **kwargs)

    monkeypatch.setattr(queue_svc, "escalate", recording)
    by_button, hb = await new_conversation(client)
    by_bot, ht = await new_conversation(client)
    by_quick_reply, hq = await new_conversation(client)
    await client.post(button(by_button), headers=hb)
    await send(client, by_bot, ht, "human please")
    await send(client, by_quick_reply, hq, "Tal med en medarbejder", payload="bridge:handoff")
    for cid, headers in ((by_bot, ht), (by_quick_reply, hq)):
        await wait_for_messages(client, cid, headers, lambda m: queue_lines(m))
    assert sorted(calls) == sorted([(by_button, "citizen_request", True), (by_bot, "citizen_request", False),
                                    (by_quick_reply, "citizen_request", True)])
    # The button pauses the bot through the bridge channel; the bot paused itself.
    assert (by_button, "pause") in fake_rasa.events and (by_bot, "pause") not in fake_rasa.events
    # No secret in any URL the bridge called.
    assert all(fake_rasa.token not in url and "token=" not in url for url in fake_rasa.urls)


async def test_unknown_conversation_and_closed_conversation(client, bridge):
    cid, headers = await new_conversation(client)
    assert (await client.post(button("0" * 32), headers=headers)).status_code == 401
    await client.post(f"/api/v1/citizen/conversations/{cid}/leave", headers=headers)
    closed = await client.post(button(cid), headers=headers)
    assert closed.status_code in (401, 409)


async def test_a_malformed_bot_signal_still_queues_with_sane_values(client, bridge, fake_rasa):
    fake_rasa.handoff_overrides = {"reason": "<script>", "summary": 5, "topic": ["x"], "confidence": 1e308,
                                   "language": "en"}
    cid, headers = await new_conversation(client)
    await send(client, cid, headers, "human please")
    await wait_for_messages(client, cid, headers, lambda m: queue_lines(m))
    [row] = await escalations(bridge, cid)
    assert (row.reason, row.summary, row.topic, row.confidence) == ("citizen_request", None, None, None)


async def test_when_no_queue_takes_the_request_the_bot_carries_on(client, bridge, fake_rasa, monkeypatch):
    monkeypatch.setattr("handoff_bridge.services.queue.route", lambda queues, language, municipality: None)
    cid, headers = await new_conversation(client)
    await send(client, cid, headers, "human please")
    msgs = await wait_for_messages(client, cid, headers, lambda m: any(x["sender"] == "system" for x in m))
    [line] = [m["text"] for m in msgs if m["sender"] == "system"]
    assert line.startswith("Vi kan desværre ikke forbinde dig til en medarbejder i chatten lige nu.")
    for _ in range(50):
        if (cid, "resume") in fake_rasa.events:
            break
        await asyncio.sleep(0.05)
    assert (cid, "resume") in fake_rasa.events
    assert await escalations(bridge, cid) == []
