"""Personal answers: "when does my money come?" and "how is my case going?".

`action_personal_answer` runs twice in an anonymous conversation:

1. On `payout_inquiry` / `case_status_inquiry`. With a verified login token
   in the message metadata (actions/login.py) it shows the citizen's own
   payout or cases in the chat (`personal_route: in_chat`). Without one it
   explains the SMS answer and the rules start `national_id_form`
   (`personal_route: by_sms`), which asks for the CPR number or personnummer
   (actions/national_id_form.py).
2. When the form ends: it asks the payout or case system to text the answer
   to the number registered for that person, or honours the citizen leaving
   the form (cancelled, a person wanted, attempts used up). The reply is the
   same whether or not the number exists. It clears the slot holding the
   (sealed) number in the same turn.

When a municipal system does not answer, the citizen gets an apology and the
offer of a person (`personal_route: unavailable`); `action_personal_handoff`
runs if they accept.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import case_status, payout
from actions.content import conversation_language, utter
from actions.handoff import REASON_CITIZEN_REQUEST, REASON_SYSTEM_UNAVAILABLE, hand_over
from actions.identity import country_for_language, unseal
from actions.integrations import RequestRejectedError, SystemUnavailableError
from actions.login import LOGIN_INVALID, login_of

logger = logging.getLogger(__name__)

PERSONAL_ANSWER_ACTION = "action_personal_answer"
PERSONAL_HANDOFF_ACTION = "action_personal_handoff"
FORM = "national_id_form"

# Slots (domain.yml).
TOPIC_SLOT = "personal_topic"  # payout | case_status
ROUTE_SLOT = "personal_route"  # in_chat | by_sms | unavailable: the rules branch on it
CASE_KINDS_SLOT = "case_kinds"
NATIONAL_ID_SLOT = "national_id"  # sealed (actions/identity.py), cleared in the turn it is used
ATTEMPTS_SLOT = "national_id_attempts"
OUTCOME_SLOT = "national_id_outcome"  # cancelled | handoff | exhausted: the citizen left the form

ROUTE_IN_CHAT = "in_chat"
ROUTE_BY_SMS = "by_sms"
ROUTE_UNAVAILABLE = "unavailable"

OUTCOME_CANCELLED = "cancelled"
OUTCOME_HANDOFF = "handoff"
OUTCOME_EXHAUSTED = "exhausted"

# Identity numbers one conversation may try (valid or not): enough for a typo
# and both questions, too few to probe other people's numbers.
MAX_ATTEMPTS = 3

_TOPIC_BY_INTENT = {"payout_inquiry": payout.TOPIC, "case_status_inquiry": case_status.TOPIC}
_UNAVAILABLE_MESSAGE = {payout.TOPIC: "payout_system_unavailable", case_status.TOPIC: "case_system_unavailable"}


def attempts_used(tracker: Tracker) -> int:
    value = tracker.get_slot(ATTEMPTS_SLOT)
    return int(value) if isinstance(value, (int, float)) else 0


def form_just_ended(tracker: Tracker) -> bool:
    """True in the turn the identity number form was left or completed."""
    return tracker.active_loop_name is None and tracker.latest_action_name == FORM


def _topic(tracker: Tracker) -> Text:
    intent = (tracker.latest_message or {}).get("intent", {}).get("name")
    return _TOPIC_BY_INTENT.get(intent) or tracker.get_slot(TOPIC_SLOT) or payout.TOPIC


class ActionPersonalAnswer(Action):
    def name(self) -> Text:
        return PERSONAL_ANSWER_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        if form_just_ended(tracker):
            return await self._after_form(dispatcher, tracker)
        return await self._on_question(dispatcher, tracker)

    async def _on_question(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        topic = _topic(tracker)
        login = login_of(tracker)
        kinds: Optional[List[str]] = None
        if topic == case_status.TOPIC:
            country = login.national_id.country if login.verified else None
            country = country or country_for_language(conversation_language(tracker))
            text = (tracker.latest_message or {}).get("text") or ""
            kinds = case_status.case_kinds_in_text(text, country) or None
        events: List[EventType] = [SlotSet(TOPIC_SLOT, topic), SlotSet(CASE_KINDS_SLOT, kinds)]
        # Left over only if a form was cut short; never carried into a new question.
        for slot in (NATIONAL_ID_SLOT, OUTCOME_SLOT):
            if tracker.get_slot(slot) is not None:
                events.append(SlotSet(slot, None))

        if login.verified:
            try:
                if topic == payout.TOPIC:
                    await payout.show_next_payout(dispatcher, tracker, login.national_id)
                else:
                    await case_status.show_cases(dispatcher, tracker, login.national_id, kinds)
            except (SystemUnavailableError, RequestRejectedError) as error:
                logger.warning("personal answer in chat failed: %s", error)
                utter(dispatcher, tracker, _UNAVAILABLE_MESSAGE[topic])
                return events + [SlotSet(ROUTE_SLOT, ROUTE_UNAVAILABLE)]
            return events + [SlotSet(ROUTE_SLOT, ROUTE_IN_CHAT)]

        if login.status == LOGIN_INVALID:
            utter(dispatcher, tracker, "login_not_confirmed")
        if attempts_used(tracker) >= MAX_ATTEMPTS:
            utter(dispatcher, tracker, "national_id_exhausted")
            return events + [SlotSet(ROUTE_SLOT, ROUTE_IN_CHAT)]
        # The rules follow with the topic's explanation and the form.
        return events + [SlotSet(ROUTE_SLOT, ROUTE_BY_SMS)]

    async def _after_form(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        topic = tracker.get_slot(TOPIC_SLOT) or payout.TOPIC
        outcome = tracker.get_slot(OUTCOME_SLOT)
        sealed = tracker.get_slot(NATIONAL_ID_SLOT)
        # The number leaves the tracker in this turn, whatever happens next.
        events: List[EventType] = [SlotSet(NATIONAL_ID_SLOT, None), SlotSet(OUTCOME_SLOT, None)]
        answered = events + [SlotSet(ROUTE_SLOT, ROUTE_IN_CHAT)]

        if outcome == OUTCOME_CANCELLED:
            utter(dispatcher, tracker, "national_id_cancelled")
            return answered
        if outcome == OUTCOME_HANDOFF:
            return answered + hand_over(dispatcher, tracker, REASON_CITIZEN_REQUEST)
        if outcome == OUTCOME_EXHAUSTED:
            utter(dispatcher, tracker, "national_id_exhausted")
            return answered

        national_id = unseal(sealed)
        if national_id is None:
            utter(dispatcher, tracker, "national_id_lost")
            return answered
        # One key per request: the adapter's retries reuse it, so at most one SMS.
        key = f"ddh-{uuid.uuid4().hex}"
        try:
            if topic == case_status.TOPIC:
                await case_status.send_case_status_by_sms(
                    dispatcher, tracker, national_id, key, tracker.get_slot(CASE_KINDS_SLOT)
                )
            else:
                await payout.send_next_payout_by_sms(dispatcher, tracker, national_id, key)
        except SystemUnavailableError as error:
            logger.warning("personal answer by SMS failed: %s", error)
            utter(dispatcher, tracker, _UNAVAILABLE_MESSAGE[topic])
            return events + [SlotSet(ROUTE_SLOT, ROUTE_UNAVAILABLE)]
        except RequestRejectedError as error:
            logger.warning("personal answer by SMS refused: %s", error)
            utter(dispatcher, tracker, "national_id_rejected")
        return answered


class ActionPersonalHandoff(Action):
    """The citizen accepted a person after a municipal system failed."""

    def name(self) -> Text:
        return PERSONAL_HANDOFF_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        return [SlotSet(ROUTE_SLOT, ROUTE_IN_CHAT)] + hand_over(dispatcher, tracker, REASON_SYSTEM_UNAVAILABLE)
