"""Supervisor figures: live queue and staffing, today and the last 7 days."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from helpers import agent_session, new_conversation, send, wait_for_messages
from sqlalchemy import update

from handoff_bridge.db.models import Conversation, Escalation, Rating, utcnow
from handoff_bridge.errors import ApiError
from handoff_bridge.services import periods
from handoff_bridge.services import stats as stats_svc


def test_percentiles_use_nearest_rank():
    values = [float(v) for v in range(1, 11)]
    assert stats_svc.median(values) == 5.5
    assert stats_svc.median([3.0]) == 3.0
    assert stats_svc.percentile(values, 90) == 9.0
    assert stats_svc.percentile([4.0], 90) == 4.0
    assert stats_svc.percentile([], 90) is None and stats_svc.median([]) is None


def test_periods_start_at_local_midnight():
    tz = ZoneInfo("Europe/Copenhagen")
    now = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.timezone.utc)
    start, end, days = stats_svc.period_bounds("today", tz, now)
    assert start == dt.datetime(2026, 6, 9, 22, 0, tzinfo=dt.timezone.utc) and end == now
    assert days == [dt.date(2026, 6, 10)]
    start7, _, days7 = stats_svc.period_bounds("7d", tz, now)
    assert start7 == dt.datetime(2026, 6, 3, 22, 0, tzinfo=dt.timezone.utc) and len(days7) == 7
    with pytest.raises(ApiError):
        stats_svc.period_bounds("year", tz, now)
    with pytest.raises(ApiError):
        periods.parse_timezone("Mars/Olympus")


async def shift(deps, model, where, **values):
    async with deps.sessionmaker() as s:
        async with s.begin():
            await s.execute(update(model).where(where).values(**values))


async def queued(client):
    cid, headers = await new_conversation(client)
    r = await client.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)
    assert r.json()["status"] == "queued"
    return cid, headers


async def test_stats_need_a_supervisor(client, bridge):
    agent = await agent_session(bridge.deps, client, "bo")
    sup = await agent_session(bridge.deps, client, "sara", role="supervisor")
    client.cookies.clear()  # the session cookie of the last login would authenticate every request
    for path in ("/api/v1/agent/stats/live", "/api/v1/agent/stats/summary"):
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers=agent)).status_code == 403
        assert (await client.get(path, headers=sup)).status_code == 200
    bad = await client.get("/api/v1/agent/stats/summary", headers=sup, params={"period": "year"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_period"
    bad_tz = await client.get("/api/v1/agent/stats/summary", headers=sup, params={"tz": "Nowhere/City"})
    assert bad_tz.status_code == 400 and bad_tz.json()["error"]["code"] == "invalid_timezone"


async def test_live_figures_show_queues_and_agents(client, bridge):
    d = bridge.deps
    sup = await agent_session(d, client, "sara", role="supervisor", languages=())
    anna = await agent_session(d, client, "anna")
    await agent_session(d, client, "bo")
    c1, _ = await queued(client)
    await queued(client)
    await shift(d, Escalation, Escalation.conversation_id == c1, enqueued_at=utcnow() - dt.timedelta(seconds=300))
    claimed = await client.post("/api/v1/agent/queue/claim-next", headers=anna)
    assert claimed.json()["conversation_id"] == c1
    live = (await client.get("/api/v1/agent/stats/live", headers=sup)).json()
    general = next(q for q in live["queues"] if q["queue"] == "da-general")
    assert general["waiting"] == 1 and general["open"] is True
    assert live["waiting"] == 1
    assert 0 <= live["longest_wait_seconds"] < 60
    # The supervisor without languages only watches: not counted as an agent.
    assert live["agents"]["online"] == 2 and live["agents"]["available"] == 2
    assert live["agents"]["busy"] == 1 and live["agents"]["active_chats"] == 1
    assert live["agents"]["free_slots"] == 2 + 3


async def test_summary_counts_bot_only_escalations_waits_ratings_and_tags(client, bridge, fake_rasa):
    d = bridge.deps
    sup = await agent_session(d, client, "sara", role="supervisor")
    anna = await agent_session(d, client, "anna")
    # Resolved by the bot alone.
    bot_cid, bot_headers = await new_conversation(client)
    await send(client, bot_cid, bot_headers, "pas")
    await wait_for_messages(client, bot_cid, bot_headers, lambda m: any(x["sender"] == "bot" for x in m))
    # Opened but never used: not a conversation.
    await new_conversation(client)
    # Two chats answered after 40 s and 100 s; one still waiting.
    answered = []
    for waited in (40, 100):
        cid, headers = await queued(client)
        await client.post(f"/api/v1/agent/escalations/{await escalation_id(d, cid)}/claim", headers=anna)
        await shift(d, Escalation, Escalation.conversation_id == cid,
                    assigned_at=utcnow(), enqueued_at=utcnow() - dt.timedelta(seconds=waited))
        answered.append((cid, headers))
    await queued(client)
    # Close both with tags; the citizens rate 7 and 9.
    for (cid, headers), score in zip(answered, (7, 9)):
        r = await client.post(f"/api/v1/agent/conversations/{cid}/close", headers=anna,
                              json={"tags": ["borgerservice.pas"] + (["andet"] if score == 9 else [])})
        assert r.status_code == 200, r.text
        assert (await client.post(f"/api/v1/citizen/conversations/{cid}/rating", headers=headers,
                                  json={"score": score})).status_code == 201
    # Misunderstood twice, the citizen takes the person the bot offers: reason repeated_fallback.
    fb_cid, fb_headers = await new_conversation(client)
    await send(client, fb_cid, fb_headers, "??? a")
    await wait_for_messages(client, fb_cid, fb_headers, lambda m: any(x["sender"] == "bot" for x in m))
    await send(client, fb_cid, fb_headers, "??? b")
    await wait_for_messages(client, fb_cid, fb_headers, lambda m: sum(x["sender"] == "bot" for x in m) == 2)
    fake_rasa.handoff_overrides = {"reason": "repeated_fallback"}
    await send(client, fb_cid, fb_headers, "Tal med en medarbejder", payload="/request_human")
    await wait_for_messages(client, fb_cid, fb_headers, lambda m: any("i kø" in (x["text"] or "") for x in m))

    today = (await client.get("/api/v1/agent/stats/summary", headers=sup, params={"period": "today"})).json()
    assert today["conversations"] == 5 and today["bot_only"] == 1 and today["bot_only_share"] == 0.2
    assert today["escalations"]["total"] == 4
    assert today["escalations"]["by_reason"]["citizen_request"] == 3
    assert today["escalations"]["by_reason"]["repeated_fallback"] == 1
    assert today["escalations"]["by_status"] == {"done": 2, "waiting": 2}
    assert today["wait_seconds"]["answered"] == 2
    assert 69 <= today["wait_seconds"]["median"] <= 71 and 99 <= today["wait_seconds"]["p90"] <= 101
    assert today["rating"] == {"count": 2, "average": 8.0,
                               "distribution": {**{str(i): 0 for i in range(1, 10)}, "7": 1, "9": 1}}
    assert today["tags"] == {"borgerservice.pas": 2, "andet": 1}
    assert [day["conversations"] for day in today["days"]] == [5]

    # Move the bot-only conversation three days back, and a rated one eight days back.
    old = utcnow() - dt.timedelta(days=3)
    await shift(d, Conversation, Conversation.id == bot_cid, created_at=old)
    very_old = utcnow() - dt.timedelta(days=8)
    await shift(d, Conversation, Conversation.id == answered[0][0], created_at=very_old)
    await shift(d, Escalation, Escalation.conversation_id == answered[0][0], created_at=very_old)
    await shift(d, Rating, Rating.conversation_id == answered[0][0], created_at=very_old)
    today = (await client.get("/api/v1/agent/stats/summary", headers=sup)).json()
    assert today["conversations"] == 3 and today["bot_only"] == 0
    week = (await client.get("/api/v1/agent/stats/summary", headers=sup,
                             params={"period": "7d", "tz": "Europe/Stockholm"})).json()
    assert week["timezone"] == "Europe/Stockholm" and len(week["days"]) == 7
    assert week["conversations"] == 4 and week["bot_only"] == 1 and week["bot_only_share"] == 0.25
    assert week["escalations"]["total"] == 3 and week["rating"]["count"] == 1 and week["rating"]["average"] == 9.0
    assert sum(day["conversations"] for day in week["days"]) == 4
    assert week["days"][-1]["conversations"] == 3


async def escalation_id(deps, cid):
    from sqlalchemy import select

    async with deps.sessionmaker() as s:
        return await s.scalar(select(Escalation.id).where(Escalation.conversation_id == cid))


async def test_bot_only_needs_an_answer_not_just_no_escalation(client, bridge):
    """A chat the assistant fell back on is not resolved, though nobody asked for a person."""
    sup = await agent_session(bridge.deps, client, "sara", role="supervisor")
    answered, headers = await new_conversation(client)
    await send(client, answered, headers, "pas")
    await wait_for_messages(client, answered, headers, lambda m: any(x["sender"] == "bot" for x in m))
    not_understood, headers = await new_conversation(client)
    await send(client, not_understood, headers, "??? in English please")
    await wait_for_messages(client, not_understood, headers, lambda m: any(x["sender"] == "bot" for x in m))
    today = (await client.get("/api/v1/agent/stats/summary", headers=sup)).json()
    assert today["conversations"] == 2 and today["escalations"]["total"] == 0
    assert today["bot_only"] == 1 and today["bot_only_share"] == 0.5
