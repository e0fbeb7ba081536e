"""Escalation to a person: the one place that knows the bridge's contract.

Contract (docs/contracts/rasa-bridge.md): ``POST {HANDOFF_URL}/api/v1/service/handoffs``
with a bearer service token and ``{conversation_id, reason, language, summary,
topic, confidence}``. The bridge answers ``{"status": "queued", ...}`` or
``{"status": "closed", ...}`` (outside opening hours; the bridge then offers a
callback). Once the bridge has the conversation, the bot pauses itself with
``ConversationPaused`` and stays silent until an agent hands it back.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Text

import aiohttp
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.content import conversation_language, utter
from actions.conversation import previous_reply
from rasa_addons.privacy import mask_personal_data
from actions.settings import handoff_settings
from rasa_addons.handoff_signal import handoff_payload

logger = logging.getLogger(__name__)

# Why a conversation reaches a person; the bridge's statistics use these.
REASON_CITIZEN_REQUEST = "citizen_request"
REASON_REPEATED_FALLBACK = "repeated_fallback"
REASON_NOT_HELPFUL = "not_helpful"
REASON_SYSTEM_UNAVAILABLE = "system_unavailable"

# The bot's reply to the previous message gives a request for a person a more
# specific reason: the answer did not help, or the bot did not understand.
_REASON_BY_PREVIOUS_REPLY = {
    "utter_not_helpful": REASON_NOT_HELPFUL,
    "action_clarify": REASON_REPEATED_FALLBACK,
}
SUMMARY_MAX_CHARS = 500
_SUMMARY_USER_TURNS = 3
_DIALOGUE_INTENTS = {"request_human", "affirm", "deny", "greet", "nlu_fallback"}


class HandoffUnavailable(Exception):
    """The bridge could not take the conversation."""


def conversation_summary(tracker: Tracker) -> Text:
    """The last few citizen messages, masked and cut to the contract's size."""
    texts = [
        event.get("text") or ""
        for event in tracker.events
        if event.get("event") == "user" and not (event.get("text") or "").startswith("/")
    ][-_SUMMARY_USER_TURNS:]
    summary = " | ".join(mask_personal_data(text.strip()) for text in texts if text.strip())
    return summary[:SUMMARY_MAX_CHARS]


def last_topic(tracker: Tracker) -> tuple[Optional[Text], Optional[float]]:
    """The most recent understood topic, skipping dialogue mechanics."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = (event.get("parse_data") or {}).get("intent") or {}
        if intent.get("name") and intent["name"] not in _DIALOGUE_INTENTS:
            return intent["name"], intent.get("confidence")
    return None, None


def reason_for(tracker: Tracker) -> Text:
    """Why the citizen is being handed over, judged from the bot's last reply."""
    return _REASON_BY_PREVIOUS_REPLY.get(previous_reply(tracker), REASON_CITIZEN_REQUEST)


async def request_handoff(
    conversation_id: Text,
    reason: Text,
    language: Text,
    summary: Text,
    topic: Optional[Text],
    confidence: Optional[float],
) -> Dict[Text, Any]:
    """Ask the bridge to queue the conversation; bounded in time and attempts."""
    settings = handoff_settings()
    body = {
        "conversation_id": conversation_id,
        "reason": reason,
        "language": language,
        "summary": summary,
        "topic": topic,
        "confidence": confidence,
    }
    headers = {"Authorization": f"Bearer {settings.token}"}
    timeout = aiohttp.ClientTimeout(total=settings.timeout_seconds)
    last_error: Optional[BaseException] = None
    for attempt in range(settings.attempts):
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(
                    f"{settings.url}/api/v1/service/handoffs", json=body, headers=headers
                ) as response:
                    if response.status in (200, 201):
                        return await response.json()
                    # 4xx will not change on retry: the contract was broken.
                    if response.status < 500:
                        raise HandoffUnavailable(f"bridge refused handoff: {response.status}")
                    last_error = HandoffUnavailable(f"bridge error {response.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            last_error = error
        # The endpoint is idempotent per conversation, so a retry is safe.
        if attempt + 1 < settings.attempts:
            await asyncio.sleep(0.2 * (attempt + 1))
    raise HandoffUnavailable(str(last_error))


async def hand_over(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: Text
) -> List[EventType]:
    """Escalate the conversation and tell the citizen what happens next.

    Also used by other actions, e.g. when a municipal system is down.
    """
    language = conversation_language(tracker)
    topic, confidence = last_topic(tracker)
    try:
        result = await request_handoff(
            tracker.sender_id,
            reason,
            language,
            conversation_summary(tracker),
            topic,
            confidence,
        )
    except HandoffUnavailable as error:
        logger.warning("handoff failed for a conversation: %s", error)
        utter(dispatcher, tracker, "handoff_unavailable")
        return []

    if result.get("status") == "closed":
        utter(dispatcher, tracker, "handoff_closed")
    else:
        utter(dispatcher, tracker, "handoff_queued")
    dispatcher.utter_message(
        json_message=handoff_payload(
            {
                "status": result.get("status"),
                "reason": reason,
                "queue": result.get("queue"),
                "position": result.get("position"),
                "estimated_wait_seconds": result.get("estimated_wait_seconds"),
                "next_open": result.get("next_open"),
            }
        )
    )
    return [ConversationPaused()]


class ActionHandoff(Action):
    """Honours a request for a person at any point of the conversation."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        return await hand_over(dispatcher, tracker, reason_for(tracker))
