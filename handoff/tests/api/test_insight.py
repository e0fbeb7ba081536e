"""Insight report: figures against a fixture counted by hand, access, CSV export."""

import csv
import io

import insight_fixture as fx
import pytest
from helpers import agent_session, new_conversation, send, wait_for_messages

from handoff_bridge.services import insight as insight_svc
from handoff_bridge.services import outcomes as outcome_svc
from handoff_bridge.services.outcomes import MessageFacts, classify

URL = "/api/v1/agent/insight"


@pytest.fixture
async def supervisor(bridge, client):
    await fx.load(bridge.deps)
    return await agent_session(bridge.deps, client, "sara", role="supervisor", languages=())


async def report(client, headers, **params):
    resp = await client.get(URL, headers=headers, params={**fx.PERIOD, **params})
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_figures_match_the_hand_count(client, supervisor):
    r = await report(client, supervisor)
    assert r["period"]["days"] == 7 and r["previous_period"]["from"] == "2026-02-23"
    # c01-c11; not the empty conversation, not n01 after the period.
    assert r["conversations"] == 11
    # c01 (helped), c07, c08 (clarified, then answered).
    assert r["resolved"] == 3 and r["resolved_share"] == round(3 / 11, 4)
    assert r["outcomes"] == {
        "escalated": 3,  # c06, c10, c11
        "identity_failed": 1,  # c05
        "not_helpful": 1,  # c02
        "abandoned_clarification": 1,  # c03
        "repeated_question": 1,  # c04
        "unanswered": 1,  # c09
        "resolved": 3,
    }
    assert r["helpful"] == {"yes": 1, "no": 1}  # c01, c02
    assert r["escalations"]["total"] == 3
    assert r["escalations"]["by_reason"] == {"citizen_request": 2, "repeated_fallback": 1, "not_helpful": 0,
                                             "system_unavailable": 0}
    assert r["escalations"]["by_status"] == {"done": 2, "abandoned": 1}
    # Waits 120 s (c06) and 300 s (c11); c10 left the queue.
    assert r["waits"] == {"answered": 2, "median_seconds": 210.0, "p90_seconds": 300.0, "abandoned": 1}
    assert r["rating"]["count"] == 2 and r["rating"]["mean"] == 5.5
    assert {k: v for k, v in r["rating"]["distribution"].items() if v} == {"3": 1, "8": 1}
    assert r["tags"] == [{"tag": "digital.mitid", "count": 2}, {"tag": "uden.svar", "count": 1}]
    assert r["closed_by_agents"] == 2
    topics = {t["topic"]: (t["conversations"], t["resolved"], t["escalated"]) for t in r["topics"]}
    assert topics == {
        "mitid_get": (2, 1, 1),  # c01, c10
        "passport": (2, 0, 1),  # c02, c11
        "bankid_get": (2, 2, 0),  # c07, c08
        "nlu_fallback": (2, 0, 1),  # c03, c06: never answered
        "moving": (1, 0, 0),
        "payout_inquiry": (1, 0, 0),
        "greet": (1, 0, 0),  # c09
    }
    un = r["unanswered"]
    assert un["total"] == 6
    assert un["by_fallback"] == [{"fallback": "nlu_fallback", "count": 5}, {"fallback": "out_of_scope", "count": 1}]
    questions = {q["question"]: (q["count"], q["conversations"]) for q in un["questions"]}
    assert questions == {"xyz blah": (2, 2), "???": (2, 1), "hvad er klokken på månen": (1, 1),
                         "what's the weather": (1, 1)}
    assert un["questions"][0]["languages"] in (["da", "sv"], ["da"])
    # c01 starts Monday 10:15 Copenhagen time; c04 Tuesday 19:45.
    cells = {(cell["weekday"], cell["hour"]): cell["conversations"] for cell in r["hours"]["cells"]}
    assert len(cells) == 7 * 24 and sum(cells.values()) == 11
    assert cells[(0, 10)] == 1 and cells[(1, 19)] == 1 and cells[(0, 3)] == 0
    assert r["in_opening_hours"] == 11  # the test queues are open around the clock
    general = next(q for q in r["hours"]["opening_hours"] if q["queue"] == "da-general")
    assert len(general["open"]) == 7 * 24
    # Previous period: p01 resolved, p02 escalated.
    assert r["previous"]["conversations"] == 2 and r["previous"]["resolved"] == 1
    change = next(ch for ch in r["changes"] if ch["metric"] == "conversations")
    assert (change["current"], change["previous"], change["relative"]) == (11, 2, 4.5)
    assert r["filters"]["municipalities"] == ["101", "751"]
    assert "mitid_get" in r["filters"]["topics"]


async def test_filters_narrow_every_figure(client, supervisor):
    r = await report(client, supervisor, municipality="751")
    assert r["conversations"] == 3 and r["resolved"] == 1  # c04, c05, c08
    assert r["escalations"]["total"] == 0 and r["rating"]["count"] == 0
    assert {q["question"] for q in r["unanswered"]["questions"]} == {"xyz blah"}  # c08 only
    r = await report(client, supervisor, topic="passport")
    assert r["conversations"] == 2 and r["resolved"] == 0  # c02, c11
    assert r["escalations"]["total"] == 1 and r["waits"]["median_seconds"] == 300.0
    assert r["rating"]["distribution"]["3"] == 1 and r["rating"]["count"] == 1
    assert r["tags"] == [{"tag": "digital.mitid", "count": 1}]
    assert r["previous"]["conversations"] == 1  # p02
    r = await report(client, supervisor, municipality="nowhere")
    assert r["conversations"] == 0 and r["resolved_share"] is None and r["rating"]["mean"] is None


async def test_agents_get_403_and_bad_periods_400(client, bridge, supervisor):
    agent = await agent_session(bridge.deps, client, "bo")
    client.cookies.clear()
    for path in (URL, f"{URL}/export/topics"):
        assert (await client.get(path, params=fx.PERIOD)).status_code == 401
        assert (await client.get(path, headers=agent, params=fx.PERIOD)).status_code == 403
        assert (await client.get(path, headers=supervisor, params=fx.PERIOD)).status_code == 200
    cases = [
        ({"from": "2026-03-08", "to": "2026-03-01"}, "invalid_period"),
        ({"from": "2025-01-01", "to": "2026-03-01"}, "invalid_period"),
        ({"from": "yesterday"}, "invalid_date"),
        ({"tz": "Nowhere/City"}, "invalid_timezone"),
        ({"municipality": "x" * 200}, "invalid_filter"),
    ]
    for params, code in cases:
        resp = await client.get(URL, headers=supervisor, params=params)
        assert resp.status_code == 400 and resp.json()["error"]["code"] == code, params
    resp = await client.get(f"{URL}/export/secrets", headers=supervisor)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_table"
    # A full year is allowed.
    assert (await client.get(URL, headers=supervisor, params={"from": "2025-03-09", "to": "2026-03-08"})).status_code == 200


async def test_every_table_exports_as_csv(client, supervisor):
    for table in ("summary", "outcomes", "topics", "escalations", "hours", "ratings", "tags", "unanswered", "changes"):
        resp = await client.get(f"{URL}/export/{table}", headers=supervisor, params=fx.PERIOD)
        assert resp.status_code == 200, table
        assert resp.headers["content-type"].startswith("text/csv")
        assert f"insight-{table}-2026-03-02-2026-03-08.csv" in resp.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(resp.text)))
        assert len(rows) >= 2, table
    topics = list(csv.DictReader(io.StringIO((await client.get(f"{URL}/export/topics", headers=supervisor,
                                                               params=fx.PERIOD)).text)))
    by_topic = {t["topic"]: (t["conversations"], t["resolved"], t["resolved_share"]) for t in topics}
    assert by_topic["bankid_get"] == ("2", "2", "1.0") and by_topic["passport"] == ("2", "0", "0.0")
    summary = {row["figure"]: row for row in csv.DictReader(io.StringIO((await client.get(
        f"{URL}/export/summary", headers=supervisor, params=fx.PERIOD)).text))}
    assert summary["conversations"]["period"] == "11" and summary["conversations"]["previous_period"] == "2"
    assert summary["rating_mean"]["period"] == "5.5"
    hours = list(csv.DictReader(io.StringIO((await client.get(f"{URL}/export/hours", headers=supervisor,
                                                              params=fx.PERIOD)).text)))
    assert len(hours) == 7 * 24 and hours[10] == {**hours[10], "weekday": "mon", "hour": "10", "conversations": "1"}


def test_a_spreadsheet_formula_in_a_question_is_neutralised():
    data = {"unanswered": {"questions": [{"question": '=hyperlink("http://x")', "count": 2, "conversations": 1,
                                          "languages": ["da"], "last_asked": "2026-03-02T09:00:00+00:00"}]}}
    rows = list(csv.reader(io.StringIO(insight_svc.to_csv(data, "unanswered"))))
    assert rows[1][0] == "'=hyperlink(\"http://x\")" and rows[1][1] == "2"


async def test_outcomes_follow_new_messages(client, bridge, supervisor):
    """A live conversation through the real layers: the report computes its outcome,
    and computes it again when the conversation goes on."""
    import datetime as dt

    today = dt.date.today().isoformat()
    cid, headers = await new_conversation(client, municipality="999")
    await send(client, cid, headers, "hvordan får jeg mitid")
    await wait_for_messages(client, cid, headers, lambda ms: any(m["sender"] == "bot" for m in ms))
    r = await report(client, supervisor, **{"from": today, "to": today, "municipality": "999"})
    assert r["conversations"] == 1 and r["outcomes"]["escalated"] == 0
    await send(client, cid, headers, "human please")
    await wait_for_messages(client, cid, headers, lambda ms: any(m["sender"] == "system" for m in ms) or
                            any("medarbejder" in (m["text"] or "") for m in ms))
    r = await report(client, supervisor, **{"from": today, "to": today, "municipality": "999"})
    assert r["outcomes"]["escalated"] == 1 and r["escalations"]["by_reason"]["citizen_request"] == 1


def facts(*items):
    out = []
    for seq, (sender, topic, payload) in enumerate(items, start=1):
        out.append(MessageFacts(seq, sender, "text", payload, topic, fx.at(2, 9)))
    return out


def test_classification_rules():
    fallbacks = ["nlu_fallback", "out_of_scope"]
    answered = facts(("citizen", None, None), ("bot", "passport", None))
    assert classify(answered, escalated=False, closed=True, fallback_topics=fallbacks).outcome == "resolved"
    assert classify(answered, escalated=True, closed=True, fallback_topics=fallbacks).outcome == "escalated"
    # An identity request left unanswered is abandoned once the conversation closed, not while it is open.
    asked_id = facts(("citizen", None, None), ("bot", "payout_inquiry", {"response": "ask_national_id"}))
    assert classify(asked_id, escalated=False, closed=True, fallback_topics=fallbacks).outcome == "abandoned_clarification"
    assert classify(asked_id, escalated=False, closed=False, fallback_topics=fallbacks).abandoned_clarification is False
    # A yes after something other than "did it help?" is not a helpfulness answer.
    stray_yes = facts(("citizen", None, None), ("bot", "passport", None), ("citizen", None, None), ("bot", "affirm", None))
    o = classify(stray_yes, escalated=False, closed=True, fallback_topics=fallbacks)
    assert o.helpful_yes == 0 and o.resolved
    # "did it help?" named by the assistant rather than recognised by its buttons.
    named = facts(("citizen", None, None), ("bot", "passport", {"response": "utter_ask_helpful"}),
                  ("citizen", None, None), ("bot", "deny", None))
    assert classify(named, escalated=False, closed=True, fallback_topics=fallbacks).outcome == "not_helpful"
    # The citizen's identity number answers the request: not a fallback, not a repeated question.
    verified = facts(("citizen", None, None), ("bot", "payout_inquiry", {"response": "ask_national_id"}),
                     ("citizen", None, None), ("bot", "nlu_fallback", {"response": "payout_in_chat"}))
    o = classify(verified, escalated=False, closed=True, fallback_topics=fallbacks)
    assert o.resolved and o.fallback_turns == 0 and o.unanswered == []
    again = facts(("citizen", None, None), ("bot", "payout_inquiry", {"response": "ask_national_id"}),
                  ("citizen", None, None), ("bot", "payout_inquiry", None))
    assert classify(again, escalated=False, closed=True, fallback_topics=fallbacks).outcome == "resolved"
    assert outcome_svc.question_key("  Hej\n  DU  ") == "hej du"


async def test_a_deleted_conversation_leaves_no_outcome_or_question(client, bridge, supervisor):
    import datetime as dt

    from sqlalchemy import func, select

    from handoff_bridge.db.models import ConversationOutcome, UnansweredQuestion

    today = dt.date.today().isoformat()
    cid, headers = await new_conversation(client, municipality="998")
    await send(client, cid, headers, "??? min mors adresse")
    await wait_for_messages(client, cid, headers, lambda ms: any(m["sender"] == "bot" for m in ms))
    r = await report(client, supervisor, **{"from": today, "to": today, "municipality": "998"})
    assert r["unanswered"]["questions"][0]["question"] == "??? min mors adresse"

    async def rows():
        async with bridge.deps.sessionmaker() as s:
            return (await s.scalar(select(func.count()).select_from(ConversationOutcome)
                                   .where(ConversationOutcome.conversation_id == cid)),
                    await s.scalar(select(func.count()).select_from(UnansweredQuestion)
                                   .where(UnansweredQuestion.conversation_id == cid)))

    assert await rows() == (1, 1)
    assert (await client.delete(f"/api/v1/citizen/conversations/{cid}", headers=headers)).status_code == 204
    assert await rows() == (0, 0)
    r = await report(client, supervisor, **{"from": today, "to": today, "municipality": "998"})
    assert r["conversations"] == 0 and r["unanswered"]["total"] == 0


async def test_unanswered_questions_are_masked(client, bridge, supervisor):
    import datetime as dt

    today = dt.date.today().isoformat()
    cid, headers = await new_conversation(client, municipality="997")
    await send(client, cid, headers, "??? mit cpr er 010203-1234 og mit nummer 20 30 40 50")
    await wait_for_messages(client, cid, headers, lambda ms: any(m["sender"] == "bot" for m in ms))
    r = await report(client, supervisor, **{"from": today, "to": today, "municipality": "997"})
    [question] = r["unanswered"]["questions"]
    assert "010203" not in question["question"] and "1234" not in question["question"]
    assert "20 30 40 50" not in question["question"] and "######-####" in question["question"]
    csv_text = (await client.get(f"{URL}/export/unanswered", headers=supervisor,
                                 params={"from": today, "to": today, "municipality": "997"})).text
    assert "010203" not in csv_text and "######-####" in csv_text
