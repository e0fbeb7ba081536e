"""Citizen timeouts (with reasons) and callback offers after a long wait."""

import asyncio
import datetime as dt

import pytest
from helpers import WsClient, agent_session, new_conversation, send, wait_for_messages
from sqlalchemy import select, update

from handoff_bridge.db.models import Conversation, Escalation, Timeout, utcnow
from handoff_bridge.services import citizen as citizen_svc
from handoff_bridge.services import queue as queue_svc


async def age(deps, cid, **seconds_ago):
    now = utcnow()
    values = {k: now - dt.timedelta(seconds=v) for k, v in seconds_ago.items()}
    async with deps.sessionmaker() as s:
        async with s.begin():
            await s.execute(update(Conversation).where(Conversation.id == cid).values(**values))


async def timeouts(deps, cid):
    async with deps.sessionmaker() as s:
        return [(t.reason, t.mode) for t in await s.scalars(select(Timeout).where(Timeout.conversation_id == cid))]


async def test_citizen_who_left_the_queue_is_timed_out(client, bridge):
    d = bridge.deps
    cid, headers = await new_conversation(client)
    await client.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)
    # Waiting quietly in the queue with a live connection is not inactivity.
    await age(d, cid, last_message_at=d.settings.citizen_inactivity_seconds + 60)
    assert await citizen_svc.sweep_timeouts(d) == 0
    # No sign of life for longer than the grace period: the citizen has left.
    await age(d, cid, citizen_seen_at=d.settings.citizen_leave_grace_seconds + 5)
    assert await citizen_svc.sweep_timeouts(d) == 1
    assert await timeouts(d, cid) == [("citizen_left", "queued")]
    state = (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).json()
    assert state["mode"] == "closed" and state["close_reason"] == "citizen_left"
    async with d.sessionmaker() as s:
        assert (await s.scalar(select(Escalation.status).where(Escalation.conversation_id == cid))) == "abandoned"
    # Recorded once, however often the sweeper runs.
    assert await citizen_svc.sweep_timeouts(d) == 0


async def test_silent_bot_conversation_times_out_as_inactive(client, bridge):
    d = bridge.deps
    cid, headers = await new_conversation(client)
    await send(client, cid, headers, "hej")
    await wait_for_messages(client, cid, headers, lambda m: any(x["sender"] == "bot" for x in m))
    await age(d, cid, last_message_at=d.settings.citizen_inactivity_seconds + 1)
    assert await citizen_svc.sweep_timeouts(d) == 1
    assert await timeouts(d, cid) == [("citizen_inactive", "bot")]
    msgs = await wait_for_messages(client, cid, headers, lambda m: m[-1]["sender"] == "system")
    assert msgs[-1]["payload"] == {"timeout": "citizen_inactive"} and "afsluttet" in msgs[-1]["text"]


async def test_timeout_during_agent_chat_stays_with_agent_to_tag(client, bridge):
    d = bridge.deps
    cid, headers = await new_conversation(client)
    await client.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)
    anna = await agent_session(d, client, "anna")
    ws = await WsClient.agent(bridge.url, anna)
    await ws.recv_until(lambda f: f["type"] == "hello")
    await client.post("/api/v1/agent/queue/claim-next", headers=anna)
    await age(d, cid, citizen_seen_at=d.settings.citizen_leave_grace_seconds + 5)
    assert await citizen_svc.sweep_timeouts(d) == 1
    event = await ws.recv_until(lambda f: f["type"] == "citizen_timeout")
    assert event["conversation_id"] == cid and event["reason"] == "citizen_left"
    chats = (await client.get("/api/v1/agent/chats", headers=anna)).json()["chats"]
    assert chats[0]["timed_out"] is True
    assert (await client.post(f"/api/v1/agent/conversations/{cid}/handback", headers=anna)).status_code == 409
    closed = await client.post(f"/api/v1/agent/conversations/{cid}/close", headers=anna, json={"tags": ["uden.svar"]})
    assert closed.status_code == 200
    await ws.close()


async def test_leave_records_reason(client, bridge):
    cid, headers = await new_conversation(client)
    r = await client.post(f"/api/v1/citizen/conversations/{cid}/leave", headers=headers)
    assert r.json() == {"status": "left"}
    assert await timeouts(bridge.deps, cid) == [("citizen_closed", "bot")]


async def test_callback_offered_after_long_wait_once(client, bridge):
    d = bridge.deps
    cid, headers = await new_conversation(client)
    await client.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)
    assert await queue_svc.offer_callbacks_after_wait(d) == 0
    async with d.sessionmaker() as s:
        async with s.begin():
            await s.execute(update(Escalation).where(Escalation.conversation_id == cid)
                            .values(enqueued_at=utcnow() - dt.timedelta(seconds=601)))
    assert await queue_svc.offer_callbacks_after_wait(d) == 1
    assert await queue_svc.offer_callbacks_after_wait(d) == 0
    msgs = await wait_for_messages(client, cid, headers, lambda m: any((x["payload"] or {}).get("callback_offer") for x in m))
    offer = [m for m in msgs if (m["payload"] or {}).get("callback_offer")][0]
    assert [b["payload"] for b in offer["payload"]["buttons"]] == ["bridge:callback", "bridge:keep_waiting"]
    # Keeping on waiting is allowed: the citizen is still in the queue.
    await send(client, cid, headers, "Bliv i køen", payload="bridge:keep_waiting")
    state = (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).json()
    assert state["mode"] == "queued"


@pytest.mark.parametrize("bridge_overrides", [{"sweeper_interval_seconds": 0.1, "citizen_leave_grace_seconds": 1}])
async def test_background_sweeper_times_out_vanished_citizen(client, bridge, bridge_overrides):
    cid, headers = await new_conversation(client)
    await client.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)
    for _ in range(60):
        if await timeouts(bridge.deps, cid):
            break
        await asyncio.sleep(0.1)
    assert await timeouts(bridge.deps, cid) == [("citizen_left", "queued")]
