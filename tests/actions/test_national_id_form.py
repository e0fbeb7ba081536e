"""validate_national_id_form and action_ask_national_id, with trackers as the
action server receives them while the form asks for the identity number."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import NationalId, unseal
from actions.national_id_form import ActionAskNationalId, ValidateNationalIdForm, wants_to_cancel
from tests.actions.trackers import make_tracker, slot_events, texts

DOMAIN = {
    "slots": {
        "national_id": {"type": "text", "mappings": [{"type": "custom"}]},
        "national_id_attempts": {"type": "float", "mappings": [{"type": "custom"}]},
        "national_id_outcome": {"type": "categorical", "mappings": [{"type": "custom"}]},
    },
    "forms": {"national_id_form": {"required_slots": ["national_id"]}},
}


def asking(text, intent="out_of_scope", confidence=0.4, language="da", attempts=0.0):
    """The tracker of a message sent while the form asks for the number, as
    the form sends it to its validation action."""
    return make_tracker(
        text,
        intent,
        confidence,
        slots={"language": language, "requested_slot": "national_id", "national_id_attempts": attempts},
        active_loop="national_id_form",
        latest_action_name="national_id_form",
        earlier_events=[
            {"event": "action", "name": "national_id_form"},
            {"event": "active_loop", "name": "national_id_form"},
            {"event": "slot", "name": "requested_slot", "value": "national_id"},
            {"event": "action", "name": "action_listen"},
        ],
        extra_events=[
            {"event": "slot", "name": "requested_slot", "value": "national_id"},
            {"event": "action", "name": "national_id_form"},
        ],
    )


async def validate(tracker):
    dispatcher = CollectingDispatcher()
    events = await ValidateNationalIdForm().run(dispatcher, tracker, DOMAIN)
    return dispatcher, events, slot_events(events)


async def test_a_valid_cpr_number_is_sealed_in_the_slot():
    dispatcher, events, slots = await validate(asking("150385-1112"))
    assert unseal(slots["national_id"]) == NationalId("DK", "1503851112")
    assert slots["national_id_attempts"] == 1.0
    assert "requested_slot" not in slots  # Rasa's form takes it from here: all slots are filled
    assert dispatcher.messages == []
    # Nothing the action returns holds the number in plain text.
    assert "1503851112" not in str(events) and "150385" not in str(events)


async def test_a_valid_personnummer_in_a_swedish_conversation():
    _, events, slots = await validate(asking("mitt personnummer är 19850315-5684", language="sv"))
    assert unseal(slots["national_id"]) == NationalId("SE", "198503155684")
    assert "5684" not in str(events)


@pytest.mark.parametrize(
    "text, language, expected",
    [
        ("12345", "da", "Det ligner ikke et CPR-nummer"),
        ("310285-1112", "da", "Datoen i CPR-nummeret findes ikke"),
        ("hvad skal jeg skrive", "da", "Jeg kan ikke se et CPR-nummer"),
        ("19850315-5685", "sv", "Kontrollsiffran stämmer inte"),
        ("19850230-5684", "sv", "Datumet i personnumret finns inte"),
        ("vad menar du", "sv", "Jag ser inget personnummer"),
    ],
)
async def test_an_invalid_number_is_explained_and_counted(text, language, expected):
    dispatcher, _, slots = await validate(asking(text, language=language))
    assert slots == {"national_id": None, "national_id_attempts": 1.0}
    [reply] = texts(dispatcher)
    assert reply.startswith(expected)
    assert ("2 gange mere" in reply) if language == "da" else ("2 gånger till" in reply)


async def test_the_last_attempt_is_announced_in_the_singular():
    dispatcher, _, slots = await validate(asking("12345", attempts=1.0))
    assert slots["national_id_attempts"] == 2.0
    assert texts(dispatcher)[0].endswith("Du kan prøve 1 gang mere.")


async def test_the_third_invalid_attempt_ends_the_form():
    dispatcher, events, slots = await validate(asking("12345", attempts=2.0))
    assert slots == {
        "national_id": None,
        "national_id_attempts": 3.0,
        "national_id_outcome": "exhausted",
        "requested_slot": None,
    }
    assert dispatcher.messages == []  # action_personal_answer says it


async def test_a_valid_number_on_the_third_attempt_still_counts():
    _, _, slots = await validate(asking("150385-1112", attempts=2.0))
    assert slots["national_id_attempts"] == 3.0
    assert unseal(slots["national_id"]) is not None
    assert "national_id_outcome" not in slots


@pytest.mark.parametrize(
    "text, intent, language",
    [
        ("stop", "out_of_scope", "da"),
        ("Annuller", "selfservice_problem", "da"),
        ("nej tak, glem det", "deny", "da"),
        ("afbryd!", "out_of_scope", "da"),
        ("avbryt", "out_of_scope", "sv"),
        ("Nej tack, jag ångrar mig", "deny", "sv"),
        ("jeg gider ikke mere", "deny", "da"),  # a confident no, without a cancel word
        ("hej hej", "goodbye", "da"),
    ],
)
async def test_the_citizen_can_leave_the_form(text, intent, language):
    confidence = 0.9 if intent in ("deny", "goodbye") else 0.3
    dispatcher, _, slots = await validate(asking(text, intent, confidence, language=language, attempts=1.0))
    assert slots["national_id_outcome"] == "cancelled"
    assert slots["national_id"] is None
    assert slots["requested_slot"] is None
    assert "national_id_attempts" not in slots  # leaving costs no attempt
    assert dispatcher.messages == []


async def test_asking_for_a_person_leaves_the_form_as_a_handoff():
    _, _, slots = await validate(asking("/request_human", "request_human", 1.0))
    assert slots["national_id_outcome"] == "handoff"
    assert slots["requested_slot"] is None


async def test_a_message_with_digits_is_always_read_as_a_number():
    """Whatever the NLU thinks a number is, it is not a "no" or a wish for a person."""
    _, _, slots = await validate(asking("150385-1112", "deny", 0.99))
    assert unseal(slots["national_id"]) is not None
    _, _, slots = await validate(asking("nej 12345", "request_human", 0.99))
    assert slots == {"national_id": None, "national_id_attempts": 1.0}


async def test_nothing_is_read_in_the_turn_that_starts_the_form():
    """Rasa validates when the form starts too, with the question as the
    latest message and `requested_slot` already set."""
    tracker = make_tracker(
        "hvornår får jeg mine penge 150385-1112",
        "payout_inquiry",
        slots={"requested_slot": "national_id"},
        latest_action_name="national_id_form",
        extra_events=[
            {"event": "action", "name": "action_personal_answer"},
            {"event": "slot", "name": "personal_route", "value": "by_sms"},
            {"event": "action", "name": "utter_payout_inquiry"},
            {"event": "bot", "text": "Jeg kan få dato og beløb ..."},
            {"event": "slot", "name": "requested_slot", "value": "national_id"},
            {"event": "action", "name": "national_id_form"},
        ],
    )
    dispatcher, events, _ = await validate(tracker)
    assert events == []
    assert dispatcher.messages == []


async def test_a_slot_cleared_by_another_action_is_no_answer():
    """Rasa passes slots set since the message as candidates, also None."""
    tracker = make_tracker(
        "hvornår får jeg mine penge",
        "payout_inquiry",
        slots={"requested_slot": None},
        latest_action_name="national_id_form",
        extra_events=[
            {"event": "action", "name": "action_personal_answer"},
            {"event": "slot", "name": "requested_slot", "value": None},
            {"event": "action", "name": "national_id_form"},
            {"event": "slot", "name": "national_id", "value": None},
        ],
    )
    dispatcher, events, slots = await validate(tracker)
    assert "national_id_attempts" not in slots and "national_id_outcome" not in slots
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "text, cancel",
    [
        ("stop", True),
        ("STOP!", True),
        ("nej", True),
        ("ångra", True),
        ("glöm det", True),
        ("jeg vil gerne stoppe nu tak", True),
        ("stop 150385-1112", False),
        ("hvordan stopper jeg nemsms beskederne fra kommunen nu", False),
        ("hvornår", False),
    ],
)
def test_cancel_words(text, cancel):
    assert wants_to_cancel(text) is cancel


@pytest.mark.parametrize(
    "language, expected",
    [("da", "Skriv dit CPR-nummer (DDMMÅÅ-XXXX)"), ("sv", "Skriv ditt personnummer (ÅÅÅÅMMDD-XXXX)")],
)
async def test_the_question_in_each_language(language, expected):
    dispatcher = CollectingDispatcher()
    events = await ActionAskNationalId().run(dispatcher, make_tracker(slots={"language": language}), DOMAIN)
    assert events == []
    assert texts(dispatcher)[0].startswith(expected)


@pytest.mark.parametrize(
    "language, topic, kind, number_format, reason",
    [
        ("da", "payout", "cpr", "DDMMÅÅ-XXXX", "udbetaling"),
        ("da", "case_status", "cpr", "DDMMÅÅ-XXXX", "din sag"),
        ("sv", "payout", "personnummer", "ÅÅÅÅMMDD-XXXX", "utbetalning"),
        ("sv", "case_status", "personnummer", "ÅÅÅÅMMDD-XXXX", "ärende"),
    ],
)
async def test_the_question_carries_an_identity_request_for_the_widget(language, topic, kind, number_format, reason):
    dispatcher = CollectingDispatcher()
    await ActionAskNationalId().run(
        dispatcher, make_tracker(slots={"language": language, "personal_topic": topic}), DOMAIN
    )
    [question] = dispatcher.messages
    request = question["custom"]["identity_request"]
    assert question["text"].startswith("Skriv")
    assert request["kind"] == kind and request["format"] == number_format
    assert reason in request["reason"] and not any(char.isdigit() for char in request["reason"])
