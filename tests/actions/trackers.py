"""rasa_sdk trackers built from plain dicts, as the action server receives them."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

DOMAIN_SLOT_DEFAULTS: Dict[str, Any] = {
    "language": "da",
    "personal_topic": None,
    "personal_route": None,
    "case_kinds": None,
    "national_id": None,
    "national_id_attempts": 0.0,
    "national_id_outcome": None,
    "requested_slot": None,
}


def make_tracker(
    text: str = "",
    intent: Optional[str] = None,
    confidence: float = 0.95,
    *,
    slots: Optional[Dict[str, Any]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    active_loop: Optional[str] = None,
    latest_action_name: str = "action_listen",
    sender_id: str = "test-conversation",
    extra_events: Optional[List[Dict[str, Any]]] = None,
    earlier_events: Optional[List[Dict[str, Any]]] = None,
) -> Tracker:
    """A tracker with the citizen's message `text`, after `earlier_events` and
    followed by `extra_events` (what happened since in this turn)."""
    latest_message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence} if intent else {},
        "intent_ranking": [{"name": intent, "confidence": confidence}] if intent else [],
        "entities": [],
        "metadata": metadata or {},
    }
    events: List[Dict[str, Any]] = [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "action", "name": "action_listen"},
        *(earlier_events or []),
        {"event": "user", "text": text, "parse_data": latest_message, "metadata": metadata or {}},
        *(extra_events or []),
    ]
    state = {
        "sender_id": sender_id,
        "slots": {**DOMAIN_SLOT_DEFAULTS, **(slots or {})},
        "latest_message": latest_message,
        "events": events,
        "paused": False,
        "followup_action": None,
        "active_loop": {"name": active_loop} if active_loop else {},
        "latest_action_name": latest_action_name,
    }
    return Tracker.from_dict(state)


def slot_events(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The slots an action set, last value wins."""
    return {event["name"]: event["value"] for event in events if event.get("event") == "slot"}


def texts(dispatcher) -> List[str]:
    return [message.get("text") or "" for message in dispatcher.messages]
