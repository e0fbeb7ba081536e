"""Validation of `national_id_form`: the CPR number (DK) or personnummer (SE)
that an anonymous citizen types to get a personal answer by SMS.

Every message while the form asks is read here, whatever intent the NLU gave
it (an identity number has no meaning to the topic classifier):

- an identity number (actions/identity.py) that passes the checks fills the
  `national_id` slot, sealed (encrypted), never in plain text;
- one that fails gets a short explanation and the question again;
- "stop", "annuller", "avbryt", a no or a goodbye ends the form as cancelled,
  a request for a person ends it as a handoff;
- every attempt counts, valid or not: after MAX_ATTEMPTS per conversation the
  form ends as exhausted.

The question (`action_ask_national_id`) carries an `identity_request` custom
payload: the chat widget then offers a masked field, and the bridge forwards
what is typed there to the assistant only, as the text of the message, with
the metadata key `identity_input` (docs/contracts/rasa-bridge.md). It is
read here exactly like a number typed into the chat box.

The form ends early by leaving `national_id` empty and setting
`national_id_outcome`; `action_personal_answer` then tells the citizen.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import case_status
from actions.content import conversation_language, message
from actions.identity import (
    DENMARK,
    PROBLEM_CHECK_DIGIT,
    PROBLEM_DATE,
    PROBLEM_FORMAT,
    PROBLEM_MISSING,
    SWEDEN,
    country_for_language,
    read_national_id,
    seal,
)
from actions.personal import (
    ATTEMPTS_SLOT,
    FORM,
    MAX_ATTEMPTS,
    NATIONAL_ID_SLOT,
    OUTCOME_CANCELLED,
    OUTCOME_EXHAUSTED,
    OUTCOME_HANDOFF,
    OUTCOME_SLOT,
    TOPIC_SLOT,
    attempts_used,
)

REQUESTED_SLOT = "requested_slot"
# The custom payload of the form's question (the bridge and the widget read it).
IDENTITY_REQUEST_KEY = "identity_request"
IDENTITY_KINDS = {DENMARK: "cpr", SWEDEN: "personnummer"}
IDENTITY_FORMATS = {DENMARK: "DDMMÅÅ-XXXX", SWEDEN: "ÅÅÅÅMMDD-XXXX"}
# Intents that leave the form when the message holds no digits.
CANCEL_INTENTS = {"deny", "goodbye"}
HANDOFF_INTENTS = {"request_human"}
MIN_INTENT_CONFIDENCE = 0.5
# Cancel words and phrases, folded (lower case; æ ø å ä ö spelled as ae oe aa a o).
CANCEL_PHRASES = {
    # Danish
    "stop", "stoppe", "annuller", "annuler", "annullere", "afbryd", "afbryde", "fortryd", "fortryder",
    "glem det", "nej tak", "nej", "drop det", "lad vaere", "ikke alligevel", "afslut", "slut",
    # Swedish
    "avbryt", "avbryta", "avsluta", "stopp", "sluta", "angra", "angrar", "glom det", "strunta i det",
    "nej tack", "inte nu", "nej inte",
    # Both
    "cancel", "quit", "exit",
}
MAX_CANCEL_WORDS = 6
_FOLDS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "a", "ö": "o", "é": "e"})

_PROBLEM_MESSAGES = {
    PROBLEM_MISSING: "national_id_missing",
    PROBLEM_FORMAT: "national_id_format",
    PROBLEM_DATE: "national_id_date",
    PROBLEM_CHECK_DIGIT: "national_id_check_digit",
}


def _words(text: str) -> List[str]:
    folded = text.lower().translate(_FOLDS).replace("aa", "a")
    return re.findall(r"[a-z]+", folded)


def wants_to_cancel(text: str) -> bool:
    """A short message that says stop / annuller / avbryt / no thanks."""
    words = _words(text)
    if not words or len(words) > MAX_CANCEL_WORDS or any(char.isdigit() for char in text):
        return False
    joined = " ".join(words)
    return any(re.search(rf"\b{re.escape(phrase)}\b", joined) for phrase in CANCEL_PHRASES)


def answers_the_form(tracker: Tracker) -> bool:
    """Whether the latest message was typed while the form was asking.

    In the turn that starts the form Rasa also runs the validation (with the
    question that started it as the latest message, and possibly with
    `requested_slot` already set): other actions ran after that message then.
    """
    events = tracker.events
    last_user = next((i for i in range(len(events) - 1, -1, -1) if events[i].get("event") == "user"), None)
    if last_user is None:
        return False
    if any(
        event.get("event") == "action" and event.get("name") not in (FORM, "action_listen")
        for event in events[last_user + 1 :]
    ):
        return False
    loop = next(
        (event for event in reversed(events[:last_user]) if event.get("event") == "active_loop"),
        None,
    )
    return loop is not None and loop.get("name") == FORM


def _intent(tracker: Tracker) -> tuple[Optional[Text], float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


class ValidateNationalIdForm(FormValidationAction):
    def name(self) -> Text:
        return f"validate_{FORM}"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        # Once the citizen has left the form there is nothing more to ask.
        if tracker.get_slot(OUTCOME_SLOT):
            return []
        return domain_slots

    async def extract_national_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """The whole message is the candidate, but only while the form asks for it
        (not in the turn that starts the form)."""
        if tracker.get_slot(REQUESTED_SLOT) != NATIONAL_ID_SLOT or not answers_the_form(tracker):
            return {}
        return {NATIONAL_ID_SLOT: (tracker.latest_message or {}).get("text") or ""}

    async def validate_national_id(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        if not isinstance(value, str) or not answers_the_form(tracker):
            # A slot candidate from another action (e.g. the slot being
            # cleared in the turn that starts the form): not the citizen's answer.
            return {}
        text = value
        has_digits = any(char.isdigit() for char in text)
        intent, confidence = _intent(tracker)
        if not has_digits:
            if intent in HANDOFF_INTENTS and confidence >= MIN_INTENT_CONFIDENCE:
                return {NATIONAL_ID_SLOT: None, OUTCOME_SLOT: OUTCOME_HANDOFF}
            if wants_to_cancel(text) or (intent in CANCEL_INTENTS and confidence >= MIN_INTENT_CONFIDENCE):
                return {NATIONAL_ID_SLOT: None, OUTCOME_SLOT: OUTCOME_CANCELLED}

        attempts = attempts_used(tracker) + 1
        country = country_for_language(conversation_language(tracker))
        reading = read_national_id(text, country)
        if reading.national_id is not None:
            return {NATIONAL_ID_SLOT: seal(reading.national_id), ATTEMPTS_SLOT: float(attempts)}

        if attempts >= MAX_ATTEMPTS:
            return {NATIONAL_ID_SLOT: None, ATTEMPTS_SLOT: float(attempts), OUTCOME_SLOT: OUTCOME_EXHAUSTED}
        language = conversation_language(tracker)
        remaining = MAX_ATTEMPTS - attempts
        key = "national_id_attempts_left" if remaining == 1 else "national_id_attempts_left_plural"
        problem = message(_PROBLEM_MESSAGES[reading.problem], language)["text"]
        dispatcher.utter_message(text=f"{problem} {message(key, language)['text'].format(remaining=remaining)}",
                                 content_key=key)
        return {NATIONAL_ID_SLOT: None, ATTEMPTS_SLOT: float(attempts)}


def identity_request(language: Text, topic: Optional[Text]) -> Dict[Text, Any]:
    """The marker the chat widget shows its field for the number on
    (docs/contracts/rasa-bridge.md, "identity request")."""
    country = country_for_language(language)
    reason_key = "national_id_reason_case_status" if topic == case_status.TOPIC else "national_id_reason_payout"
    return {
        "kind": IDENTITY_KINDS[country],
        "format": IDENTITY_FORMATS[country],
        "reason": message(reason_key, language)["text"],
    }


class ActionAskNationalId(Action):
    """The form's question: CPR number in Danish, personnummer in Swedish.

    The question travels with an identity request, so the widget can offer a
    masked field whose content goes to the assistant only."""

    def name(self) -> Text:
        return f"action_ask_{NATIONAL_ID_SLOT}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        language = conversation_language(tracker)
        dispatcher.utter_message(
            text=message("ask_national_id", language)["text"],
            json_message={IDENTITY_REQUEST_KEY: identity_request(language, tracker.get_slot(TOPIC_SLOT))},
            content_key="ask_national_id",
        )
        return []
