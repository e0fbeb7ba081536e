"""The bridge channel's output collector and its limits."""

import re
from pathlib import Path

from rasa_addons.channels.bridge import MAX_MESSAGE_CHARS, BridgeOutputChannel

BRIDGE_SETTINGS = Path(__file__).resolve().parents[2] / "handoff" / "handoff_bridge" / "settings.py"


async def test_text_and_custom_payload_of_one_utterance_stay_one_message():
    channel = BridgeOutputChannel()
    request = {"identity_request": {"kind": "cpr", "format": "DDMMÅÅ-XXXX", "reason": "…"}}
    await channel.send_response("c1", {"text": "Skriv dit CPR-nummer", "custom": request, "template_name": None})
    assert channel.messages == [{"recipient_id": "c1", "text": "Skriv dit CPR-nummer", "custom": request}]


async def test_separate_utterances_stay_separate_and_plain_ones_are_unchanged():
    channel = BridgeOutputChannel()
    await channel.send_response("c1", {"text": "Du er i kø", "buttons": [{"title": "OK", "payload": "/affirm"}]})
    await channel.send_response("c1", {"custom": {"handoff": {"status": "queued"}}})
    assert channel.messages == [
        {"recipient_id": "c1", "text": "Du er i kø", "buttons": [{"title": "OK", "payload": "/affirm"}]},
        {"recipient_id": "c1", "custom": {"handoff": {"status": "queued"}}},
    ]


def test_the_channel_accepts_every_message_the_bridge_accepts():
    bridge_limit = int(re.search(r"max_message_chars: int = (\d+)", BRIDGE_SETTINGS.read_text()).group(1))
    assert MAX_MESSAGE_CHARS >= bridge_limit
