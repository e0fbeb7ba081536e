"""Escalation to a person: the bot says that the citizen wants one, and pauses.

The action ends its turn with the handoff payload (rasa_addons/handoff_signal.py:
reason, a short masked summary, topic, confidence, language) and
``ConversationPaused``; it calls nothing. The bridge queues the conversation
from that payload, tells the citizen their place in the queue (or offers a
callback outside opening hours, and resumes the bot), and resumes the bot when
an agent hands the conversation back (docs/contracts/rasa-bridge.md).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.content import conversation_language
from actions.conversation import previous_reply
from rasa_addons.handoff_signal import handoff_payload
from rasa_addons.privacy import mask_personal_data

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
KNOWLEDGE_QUESTION = "knowledge_question"


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
        parse_data = event.get("parse_data") or {}
        intent = parse_data.get("intent") or {}
        if intent.get("name") == KNOWLEDGE_QUESTION:
            # A question: its topic is the answer the knowledge base gave, if any.
            knowledge = parse_data.get("knowledge") or {}
            if knowledge.get("decision") == "answer" and knowledge.get("answer_id"):
                return knowledge["answer_id"], knowledge.get("confidence")
            continue
        if intent.get("name") and intent["name"] not in _DIALOGUE_INTENTS:
            return intent["name"], intent.get("confidence")
    return None, None


def reason_for(tracker: Tracker) -> Text:
    """Why the citizen is being handed over, judged from the bot's last reply."""
    return _REASON_BY_PREVIOUS_REPLY.get(previous_reply(tracker), REASON_CITIZEN_REQUEST)


def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker, reason: Text) -> List[EventType]:
    """Signal the bridge that the citizen wants a person, and pause the bot.

    Also used by other actions, e.g. when the citizen accepts a person after a
    municipal system failed. The citizen hears about the queue from the bridge.
    """
    topic, confidence = last_topic(tracker)
    dispatcher.utter_message(
        json_message=handoff_payload(
            reason=reason,
            summary=conversation_summary(tracker),
            topic=topic,
            confidence=confidence,
            language=conversation_language(tracker),
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
        return hand_over(dispatcher, tracker, reason_for(tracker))
