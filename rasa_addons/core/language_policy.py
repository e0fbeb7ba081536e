"""Keeps the conversation's `language` slot in step with the citizen.

The NLU pipeline tells the language of each message (see
`rasa_addons.nlu.language_detector`). This policy turns that per-message
result into the conversation's language, which chooses the response variation:

- the first message of a conversation sets it (from the website's metadata, or
  from the text when there is none);
- later, only a message that is clearly in the other language switches it, so
  "ok" or "ja" never flips a Swedish conversation back to Danish.

It never predicts an action; it only contributes a `SlotSet` event that Rasa
applies before the winning policy's action runs.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons.core.stateless_policy import StatelessPolicy
from rasa_addons.languages import LANGUAGE_SLOT, SUPPORTED
from rasa_addons.nlu.language_detector import (
    LANGUAGE,
    LANGUAGE_CONFIDENCE,
    LANGUAGE_SOURCE,
    SOURCE_TEXT,
)


def conversation_language(
    current: Optional[Text],
    parse_data: Dict[Text, Any],
    switch_threshold: float,
    metadata: Optional[Dict[Text, Any]] = None,
) -> Optional[Text]:
    """The language the conversation should continue in after this message."""
    detected = parse_data.get(LANGUAGE)
    if detected not in SUPPORTED:
        # Button payloads ("/passport") skip NLU: only the website can tell.
        if current not in SUPPORTED and (metadata or {}).get(LANGUAGE) in SUPPORTED:
            return metadata[LANGUAGE]
        return current
    if current not in SUPPORTED:
        return detected
    confident = parse_data.get(LANGUAGE_CONFIDENCE, 0.0) >= switch_threshold
    if parse_data.get(LANGUAGE_SOURCE) == SOURCE_TEXT and confident:
        return detected
    return current


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT,
    is_trainable=False,
)
class LanguagePolicy(StatelessPolicy):
    """Sets the `language` slot; never votes for an action."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 0, "switch_threshold": 0.85}

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        events = []
        has_slot = any(slot.name == LANGUAGE_SLOT for slot in domain.slots)
        if has_slot and tracker.latest_message:
            current = tracker.get_slot(LANGUAGE_SLOT)
            target = conversation_language(
                current,
                tracker.latest_message.parse_data or {},
                self.config["switch_threshold"],
                tracker.latest_message.metadata,
            )
            if target != current:
                events.append(SlotSet(LANGUAGE_SLOT, target))
        return self._prediction(self._default_predictions(domain), events=events)
