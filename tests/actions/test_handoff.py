"""action_handoff only signals: one custom payload for the bridge and a pause, no text, no call."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff
from rasa_addons.handoff_signal import split_handoff
from tests.actions.trackers import make_tracker

pytestmark = pytest.mark.asyncio


def user(text, intent, confidence=0.9):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": confidence}}}


def action(name):
    return {"event": "action", "name": name}


async def run(tracker):
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, tracker, {})
    return dispatcher.messages, events


async def test_the_bot_signals_the_handoff_and_pauses_without_a_word():
    tracker = make_tracker(
        "jeg vil tale med en person",
        "request_human",
        slots={"language": "da"},
        earlier_events=[
            user("min mitid er spærret, cpr 010203-1234", "mitid_blocked", 0.87),
            action("utter_mitid_blocked"),
            action("action_listen"),
        ],
    )
    messages, events = await run(tracker)
    shown, handoff = split_handoff(messages)
    assert shown == []  # the bridge tells the citizen about the queue
    assert handoff["reason"] == "citizen_request"
    assert handoff["topic"] == "mitid_blocked" and handoff["confidence"] == 0.87
    assert handoff["language"] == "da"
    assert "010203-1234" not in handoff["summary"] and "mitid" in handoff["summary"]
    assert [event["event"] for event in events] == ["pause"]


@pytest.mark.parametrize(
    "previous, reason",
    [("action_clarify", "repeated_fallback"), ("utter_not_helpful", "not_helpful"), ("utter_greet", "citizen_request")],
)
async def test_the_reason_follows_the_bots_previous_reply(previous, reason):
    tracker = make_tracker(
        "/request_human",
        "request_human",
        1.0,
        slots={"language": "sv"},
        earlier_events=[user("hmm", "nlu_fallback", 0.2), action(previous), action("action_listen")],
    )
    messages, _ = await run(tracker)
    _, handoff = split_handoff(messages)
    assert handoff["reason"] == reason and handoff["language"] == "sv"
