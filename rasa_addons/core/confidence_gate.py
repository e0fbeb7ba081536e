"""Asks the citizen to clarify when the assistant is not sure what they meant.

Rasa's FallbackClassifier would rename an uncertain intent to `nlu_fallback`,
hiding the topic from everything that reads the NLU result (the parse API, the
agents' transcript). Instead the NLU result always names its best topic with
its confidence, and this policy decides in the dialogue: a message whose best
topic is uncertain, or too close to the runner-up, gets `action_clarify`,
which suggests the likeliest topics as buttons.

It steps aside while a form is active (the message may be a slot value) and
for button payloads, which are certain by construction.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons.core.stateless_policy import StatelessPolicy

CLARIFY_ACTION = "action_clarify"


def is_uncertain(
    parse_data: Dict[Text, Any], threshold: float, ambiguity_threshold: float
) -> bool:
    """Whether the best intent is too unsure, or too close to the second best."""
    if (parse_data.get("text") or "").startswith("/"):
        return False
    ranking = parse_data.get("intent_ranking") or []
    best = (parse_data.get("intent") or {}).get("confidence", 0.0)
    if best < threshold:
        return True
    if len(ranking) >= 2:
        return best - ranking[1].get("confidence", 0.0) < ambiguity_threshold
    return False


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT,
    is_trainable=False,
)
class ConfidenceGatePolicy(StatelessPolicy):
    """Predicts `action_clarify` for uncertain messages, above every rule."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7, "threshold": 0.5, "ambiguity_threshold": 0.1}

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if CLARIFY_ACTION not in domain.action_names_or_texts or tracker.active_loop_name:
            return self._prediction(probabilities)

        if tracker.latest_action_name == CLARIFY_ACTION:
            # The question is asked; wait for the citizen's answer.
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        elif tracker.latest_action_name == ACTION_LISTEN_NAME and is_uncertain(
            tracker.latest_message.parse_data or {},
            self.config["threshold"],
            self.config["ambiguity_threshold"],
        ):
            probabilities[domain.index_for_action(CLARIFY_ACTION)] = 1.0
        return self._prediction(probabilities)
