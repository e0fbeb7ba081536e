"""Contract 2: the Rasa action server escalates through the service endpoint."""

import asyncio

from conftest import SERVICE_TOKEN
from helpers import new_conversation, send, wait_for_messages
from sqlalchemy import select

from handoff_bridge.db.models import Escalation

URL = "/api/v1/service/handoffs"
AUTH = {"Authorization": f"Bearer {SERVICE_TOKEN}"}


def body(cid, **extra):
    return {"conversation_id": cid, "reason": "not_helpful", "language": "da",
            "summary": "Borgeren spørger om pas; CPR 010203-1234.", "topic": "ask_passport", "confidence": 0.42, **extra}


async def test_escalation_queues_and_is_idempotent(client, bridge):
    cid, _ = await new_conversation(client)
    first = await client.post(URL, headers=AUTH, json=body(cid))
    assert first.status_code == 200
    data = first.json()
    assert data["status"] == "queued" and data["queue"] == "da-general" and data["position"] == 1
    assert isinstance(data["estimated_wait_seconds"], int) and data["estimated_wait_seconds"] > 0
    again = await client.post(URL, headers=AUTH, json=body(cid))
    assert again.json() == data
    async with bridge.deps.sessionmaker() as s:
        rows = (await s.scalars(select(Escalation).where(Escalation.conversation_id == cid))).all()
    assert len(rows) == 1
    assert rows[0].reason == "not_helpful" and rows[0].topic == "ask_passport" and rows[0].confidence == 0.42
    assert "010203" not in rows[0].summary


async def test_second_conversation_gets_position_two(client):
    c1, _ = await new_conversation(client)
    c2, _ = await new_conversation(client)
    await client.post(URL, headers=AUTH, json=body(c1))
    second = (await client.post(URL, headers=AUTH, json=body(c2))).json()
    assert second["position"] == 2
    assert second["estimated_wait_seconds"] >= 2 * 240 // 1 or second["estimated_wait_seconds"] > 0


async def test_routing_by_language_and_municipality(client):
    aarhus, _ = await new_conversation(client, municipality="751")
    swede, _ = await new_conversation(client, municipality="0180", language="sv")
    assert (await client.post(URL, headers=AUTH, json=body(aarhus))).json()["queue"] == "aarhus"
    assert (await client.post(URL, headers=AUTH, json=body(swede, language="sv"))).json()["queue"] == "sv-general"


async def test_closed_queue_offers_callback(client, fake_rasa):
    cid, headers = await new_conversation(client, municipality="closed-town")
    resp = await client.post(URL, headers=AUTH, json=body(cid))
    assert resp.status_code == 200
    data = resp.json()
    assert data["status"] == "closed" and data["callback_offered"] is True and data["next_open"]
    msgs = await wait_for_messages(client, cid, headers, lambda m: any(x["sender"] == "system" for x in m))
    offer = [m for m in msgs if m["sender"] == "system"][-1]
    assert "lukket" in offer["text"] and offer["payload"]["callback_offer"] is True
    assert any(b["payload"] == "bridge:callback" for b in offer["payload"]["buttons"])
    state = (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).json()
    assert state["mode"] == "bot"


async def test_auth_unknown_and_bad_input(client):
    cid, _ = await new_conversation(client)
    assert (await client.post(URL, json=body(cid))).status_code == 401
    assert (await client.post(URL, headers={"Authorization": "Bearer wrong"}, json=body(cid))).status_code == 401
    unknown = await client.post(URL, headers=AUTH, json=body("0" * 32))
    assert unknown.status_code == 404
    bad_reason = await client.post(URL, headers=AUTH, json=body(cid, reason="bored"))
    assert bad_reason.status_code == 422 and bad_reason.json()["error"]["code"] == "invalid_reason"
    long_summary = await client.post(URL, headers=AUTH, json=body(cid, summary="x" * 501))
    assert long_summary.status_code == 422
    bad_conf = await client.post(URL, headers=AUTH, json=body(cid, confidence="high"))
    assert bad_conf.status_code == 422


async def test_bot_escalation_during_turn_is_paused_and_not_forwarded(client, bridge, fake_rasa):
    cid, headers = await new_conversation(client)
    await send(client, cid, headers, "human please")
    await wait_for_messages(client, cid, headers, lambda m: any("i kø" in (x["text"] or "") for x in m)
                            and any(x["sender"] == "bot" and "medarbejder" in x["text"] for x in m))
    state = (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).json()
    assert state["mode"] == "queued"
    await send(client, cid, headers, "hallo?")
    await asyncio.sleep(0.3)
    assert fake_rasa.texts_for(cid) == ["human please"]


async def test_bot_escalation_when_closed_resumes_bot(client, fake_rasa):
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
