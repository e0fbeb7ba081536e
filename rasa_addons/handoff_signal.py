"""How a bot turn tells the bridge that the conversation went to a person.

The handoff action (actions/handoff.py) ends its turn with a custom payload
``{"handoff": {...}}``; the bridge channel reports such a turn as ``paused``.
Both sides import this module (it depends on nothing) so they cannot drift.
"""

from typing import Any, Dict

HANDOFF_PAYLOAD_KEY = "handoff"


def handoff_payload(details: Dict[str, Any]) -> Dict[str, Any]:
    """The custom payload that marks a handoff turn."""
    return {HANDOFF_PAYLOAD_KEY: details}


def is_handoff_message(message: Dict[str, Any]) -> bool:
    custom = message.get("custom")
    return isinstance(custom, dict) and HANDOFF_PAYLOAD_KEY in custom
