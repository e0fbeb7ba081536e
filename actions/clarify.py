"""What the assistant does when it is not sure what the citizen meant.

First failure: ask to rephrase and suggest the 2-3 most likely topics as
buttons. Second failure in a row: offer a person.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import previous_reply
from actions.content import conversation_language, topic_label, utter

CLARIFY_ACTION = "action_clarify"
MAX_SUGGESTIONS = 3
# A suggestion below this confidence is noise rather than a likely meaning.
MIN_SUGGESTION_CONFIDENCE = 0.05


def suggestions(tracker: Tracker, language: Text) -> List[Dict[Text, Text]]:
    """Buttons for the most likely topics of the latest message."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    buttons = []
    for candidate in ranking:
        name = candidate.get("name")
        label = topic_label(name, language) if name else None
        if label and candidate.get("confidence", 0) >= MIN_SUGGESTION_CONFIDENCE:
            buttons.append({"title": label, "payload": f"/{name}"})
        if len(buttons) == MAX_SUGGESTIONS:
            break
    return buttons


class ActionClarify(Action):
    def name(self) -> Text:
        return CLARIFY_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        if previous_reply(tracker) == CLARIFY_ACTION:
            utter(dispatcher, tracker, "offer_human_after_fallback")
            return []
        buttons = suggestions(tracker, conversation_language(tracker))
        if buttons:
            utter(dispatcher, tracker, "ask_rephrase_with_suggestions", extra_buttons=buttons)
        else:
            utter(dispatcher, tracker, "ask_rephrase")
        return []
