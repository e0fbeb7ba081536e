"""How a bot turn tells the bridge that the citizen wants a person.

The handoff action (actions/handoff.py) ends its turn with the custom payload
``{"handoff": {"reason", "summary", "topic", "confidence", "language"}}`` and
pauses the conversation; it never calls the bridge. The bridge channel takes
that payload out of the turn's messages and reports it as the turn's
``handoff``; the bridge then queues the conversation (or offers a callback
when the contact centre is closed) through its one escalation function.
Both sides import this module (it depends on nothing) so they cannot drift.
"""

from typing import Any, Dict, List, Optional, Tuple

HANDOFF_PAYLOAD_KEY = "handoff"
HANDOFF_FIELDS = ("reason", "summary", "topic", "confidence", "language")


def handoff_payload(
    reason: str,
    summary: Optional[str],
    topic: Optional[str],
    confidence: Optional[float],
    language: Optional[str],
) -> Dict[str, Any]:
    """The custom payload that marks a handoff turn."""
    return {
        HANDOFF_PAYLOAD_KEY: {
            "reason": reason,
            "summary": summary,
            "topic": topic,
            "confidence": confidence,
            "language": language,
        }
    }


def is_handoff_message(message: Dict[str, Any]) -> bool:
    custom = message.get("custom")
    return isinstance(custom, dict) and isinstance(custom.get(HANDOFF_PAYLOAD_KEY), dict)


def split_handoff(
    messages: List[Dict[str, Any]]
) -> Tuple[List[Dict[str, Any]], Optional[Dict[str, Any]]]:
    """The turn's messages for the citizen, and the handoff request if there is one.

    The handoff payload is a signal to the bridge, never a message to show.
    """
    shown, handoff = [], None
    for message in messages:
        if is_handoff_message(message):
            details = message["custom"][HANDOFF_PAYLOAD_KEY]
            handoff = {key: details.get(key) for key in HANDOFF_FIELDS}
        else:
            shown.append(message)
    return shown, handoff
