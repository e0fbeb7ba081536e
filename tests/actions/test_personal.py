"""action_personal_answer and action_personal_handoff against the running
sandbox of the municipal systems (tests/conftest.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.formatting import NBSP
from actions.identity import NationalId, seal
from actions.personal import ActionPersonalAnswer, ActionPersonalHandoff
from tests.actions.trackers import make_tracker, slot_events, texts
from tests.support.login_tokens import LoginIssuer

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clean_sandbox")]

ANNA = NationalId("DK", "1503851112")  # kontanthjælp 12.345,50 kr.; BYG-10042, FRI-10043; +4509990001
LONE = NationalId("DK", "0304763332")  # no registered mobile
ERIK = NationalId("DK", "1109544441")  # no payout; PLB-10046, BYG-10047
JONAS = NationalId("DK", "2802992221")  # no payout, no cases
MADS = NationalId("DK", "1205045551")  # INS-10044
SVEA = NationalId("SE", "198503155684")  # ekonomiskt bistånd 9 234,50 kr; EB-20031, FSK-20032; +46701740605
OLLE = NationalId("SE", "199001012393")  # BL-20033
MAJA = NationalId("SE", "197811244628")  # FSK-20034, EB-20035
UNKNOWN = NationalId("DK", "0101011234")

ISSUER = LoginIssuer()


@pytest.fixture(autouse=True)
def environment(monkeypatch, sandbox):
    for name, value in {**sandbox.adapter_env(), **ISSUER.env()}.items():
        monkeypatch.setenv(name, value)


def handoffs(dispatcher):
    """The handoff requests the bot signalled to the bridge in this turn."""
    return [m["custom"]["handoff"] for m in dispatcher.messages if "handoff" in (m.get("custom") or {})]


def question(text, intent, language="da", login=None, **slots):
    metadata = {"language": language}
    if login is not None:
        metadata["login_token"] = ISSUER.token(login.number, login.country)
    return make_tracker(text, intent, slots={"language": language, **slots}, metadata=metadata)


def form_ended(national_id=None, topic="payout", language="da", outcome=None, **slots):
    """The tracker right after national_id_form was completed or left."""
    return make_tracker(
        "et nummer",
        "out_of_scope",
        0.3,
        slots={
            "language": language,
            "personal_topic": topic,
            "personal_route": "by_sms",
            "national_id": seal(national_id) if national_id else None,
            "national_id_outcome": outcome,
            "national_id_attempts": 1.0,
            **slots,
        },
        latest_action_name="national_id_form",
        extra_events=[{"event": "action", "name": "national_id_form"}, {"event": "active_loop", "name": None}],
    )


async def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return dispatcher, events, slot_events(events)


# --- anonymous chat: the question ------------------------------------------------------


@pytest.mark.parametrize(
    "text, intent, topic",
    [("hvornår får jeg mine penge", "payout_inquiry", "payout"), ("hvordan går det med min sag", "case_status_inquiry", "case_status")],
)
async def test_without_login_the_rules_ask_for_the_number(text, intent, topic):
    dispatcher, _, slots = await run(ActionPersonalAnswer(), question(text, intent))
    assert slots["personal_route"] == "by_sms"
    assert slots["personal_topic"] == topic
    assert "national_id" not in slots  # already empty: setting it would make it a form candidate
    assert dispatcher.messages == []  # utter_<topic> and the form follow by rule


async def test_a_number_left_from_a_form_cut_short_is_cleared():
    _, _, slots = await run(
        ActionPersonalAnswer(),
        question("hvornår får jeg mine penge", "payout_inquiry", national_id=seal(ANNA), national_id_outcome="cancelled"),
    )
    assert slots["national_id"] is None and slots["national_id_outcome"] is None


async def test_the_case_kinds_named_in_the_question_are_kept():
    _, _, slots = await run(ActionPersonalAnswer(), question("hvordan går det med min byggesag", "case_status_inquiry"))
    assert slots["case_kinds"] == ["byggesag"]
    _, _, slots = await run(ActionPersonalAnswer(), question("hur går det med bygglovet", "case_status_inquiry", "sv"))
    assert slots["case_kinds"] == ["bygglov"]


async def test_after_three_attempts_no_more_numbers_are_asked_for():
    dispatcher, _, slots = await run(
        ActionPersonalAnswer(), question("hvornår kommer pengene", "payout_inquiry", national_id_attempts=3.0)
    )
    assert slots["personal_route"] == "in_chat"
    [message] = dispatcher.messages
    assert message["text"].startswith("Jeg kan desværre ikke slå flere numre op")
    assert message["buttons"] == [{"title": "Tal med en medarbejder", "payload": "/request_human"}]


async def test_an_invalid_login_falls_back_to_sms():
    tracker = make_tracker(
        "hvornår får jeg mine penge",
        "payout_inquiry",
        metadata={"login_token": ISSUER.token(ANNA.number, "DK", lifetime=dt.timedelta(minutes=-5))},
    )
    dispatcher, _, slots = await run(ActionPersonalAnswer(), tracker)
    assert slots["personal_route"] == "by_sms"
    assert texts(dispatcher) == ["Jeg kunne ikke bekræfte dit MitID-login – det kan være udløbet. Jeg kan i stedet sende svaret som SMS."]


# --- anonymous chat: the answer by SMS ---------------------------------------------------


async def test_payout_by_sms_reaches_the_registered_number(sandbox):
    dispatcher, events, slots = await run(ActionPersonalAnswer(), form_ended(ANNA))
    assert slots == {"national_id": None, "national_id_outcome": None, "personal_route": "in_chat"}
    [reply] = texts(dispatcher)
    assert reply.startswith("Tak. Er der et mobilnummer registreret til NemSMS for CPR-nummeret")
    assert "12.345" not in reply and "1503851112" not in str(events)
    [sms] = sandbox.wait_for_outbox(1)
    assert sms["recipient"] == "+4509990001"
    assert "12.345,50 kr. den 30. november 2026" in sms["text"]


async def test_payout_by_sms_in_swedish(sandbox):
    dispatcher, _, _ = await run(ActionPersonalAnswer(), form_ended(SVEA, language="sv"))
    assert texts(dispatcher)[0].startswith("Tack. Finns det ett mobilnummer registrerat för personnumret")
    [sms] = sandbox.wait_for_outbox(1)
    assert sms["recipient"] == "+46701740605"
    assert "9 234,50 kr den 25 november 2026" in sms["text"]


@pytest.mark.parametrize("national_id", [LONE, UNKNOWN])
async def test_the_reply_is_the_same_whether_or_not_anything_is_sent(sandbox, national_id):
    reference, _, _ = await run(ActionPersonalAnswer(), form_ended(ANNA))
    sandbox.reset()
    dispatcher, _, _ = await run(ActionPersonalAnswer(), form_ended(national_id))
    assert dispatcher.messages == reference.messages
    assert sandbox.wait_for_outbox(1, timeout=0.5) == []


async def test_case_status_by_sms_of_the_kinds_asked_for(sandbox):
    dispatcher, _, slots = await run(
        ActionPersonalAnswer(), form_ended(ERIK, topic="case_status", case_kinds=["plejebolig"])
    )
    assert texts(dispatcher)[0].startswith("Tak. Er der et mobilnummer registreret til NemSMS for CPR-nummeret, sender vi status")
    [sms] = sandbox.wait_for_outbox(1)
    assert sms["recipient"] == "+4509990004"
    assert "PLB-10046" in sms["text"] and "BYG-10047" not in sms["text"]


async def test_case_status_by_sms_in_swedish(sandbox):
    dispatcher, _, _ = await run(ActionPersonalAnswer(), form_ended(SVEA, topic="case_status", language="sv"))
    assert texts(dispatcher)[0].startswith("Tack. Finns det ett mobilnummer registrerat för personnumret")
    [sms] = sandbox.wait_for_outbox(1)
    assert "EB-20031" in sms["text"] and "FSK-20032" in sms["text"]


@pytest.mark.parametrize(
    "system, topic", [("payout-system", "payout"), ("case-system", "case_status")]
)
async def test_a_system_down_gets_an_apology_and_the_offer_of_a_person(sandbox, system, topic):
    sandbox.set_mode(system, mode="down")
    dispatcher, _, slots = await run(ActionPersonalAnswer(), form_ended(ANNA, topic=topic))
    assert slots["personal_route"] == "unavailable"
    assert slots["national_id"] is None  # cleared, also when nothing could be done
    [message] = dispatcher.messages
    assert message["text"].startswith("Beklager")
    assert message["text"].endswith("Vil du tale med en medarbejder?")
    assert [button["payload"] for button in message["buttons"]] == ["/affirm", "/deny"]


async def test_a_slow_system_is_given_up_within_the_deadline(sandbox, monkeypatch):
    monkeypatch.setenv("INTEGRATION_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("INTEGRATION_DEADLINE_SECONDS", "1")
    sandbox.set_mode("payout-system", mode="slow", delay_ms=3000)
    _, _, slots = await run(ActionPersonalAnswer(), form_ended(ANNA))
    assert slots["personal_route"] == "unavailable"


@pytest.mark.parametrize(
    "outcome, expected",
    [
        ("cancelled", "Okay, jeg har ikke slået noget op."),
        ("exhausted", "Jeg kan desværre ikke slå flere numre op i denne samtale."),
    ],
)
async def test_leaving_the_form(sandbox, outcome, expected):
    dispatcher, _, slots = await run(ActionPersonalAnswer(), form_ended(outcome=outcome))
    assert texts(dispatcher)[0].startswith(expected)
    assert slots["national_id_outcome"] is None and slots["personal_route"] == "in_chat"
    assert sandbox.outbox() == []


async def test_asking_for_a_person_in_the_form_hands_over(sandbox):
    dispatcher, events, _ = await run(ActionPersonalAnswer(), form_ended(outcome="handoff"))
    assert [handoff["reason"] for handoff in handoffs(dispatcher)] == ["citizen_request"]
    assert any(event.get("event") == "pause" for event in events)
    # The bridge tells the citizen about the queue; the bot adds no text of its own.
    assert [m.get("text") for m in dispatcher.messages] == [None]


async def test_a_number_that_cannot_be_unsealed_is_not_used(sandbox):
    tracker = form_ended()
    tracker.slots["national_id"] = "150385-1112"  # plain text never passes
    dispatcher, _, slots = await run(ActionPersonalAnswer(), tracker)
    assert texts(dispatcher)[0].startswith("Beklager, noget gik galt med nummeret")
    assert slots["national_id"] is None
    assert sandbox.outbox() == []


# --- authenticated chat ----------------------------------------------------------------


async def test_payout_in_chat_after_login(sandbox):
    dispatcher, events, slots = await run(
        ActionPersonalAnswer(), question("hvornår får jeg mine penge", "payout_inquiry", login=ANNA)
    )
    assert slots["personal_route"] == "in_chat"
    assert texts(dispatcher) == [f"Din næste udbetaling af kontanthjælp er på 12.345,50{NBSP}kr. den 30. november 2026."]
    assert sandbox.outbox() == []
    # The token is nowhere in what goes back to Rasa.
    assert "login_token" not in str(events) and "eyJ" not in str(events)


async def test_payout_in_chat_in_swedish():
    dispatcher, _, _ = await run(
        ActionPersonalAnswer(), question("när kommer mina pengar", "payout_inquiry", "sv", login=SVEA)
    )
    assert texts(dispatcher) == [f"Din nästa utbetalning av ekonomiskt bistånd är 9{NBSP}234,50{NBSP}kr den 25 november 2026."]


async def test_no_payout_in_chat():
    dispatcher, _, _ = await run(ActionPersonalAnswer(), question("hvornår får jeg penge", "payout_inquiry", login=ERIK))
    assert texts(dispatcher)[0].startswith("Jeg kan ikke se nogen planlagt udbetaling til dig lige nu.")
    assert "https://www.borger.dk" in texts(dispatcher)[0]


@pytest.mark.parametrize(
    "national_id, language, lines",
    [
        (
            ANNA,
            "da",
            [
                "Byggesag (BYG-10042): under behandling. Forventet afgørelse: 23. december 2026.",
                "Ansøgning om fritidstilbud (FRI-10043): afgjort den 13. november 2026.",
            ],
        ),
        (MADS, "da", ["Ansøgning om institutionsplads (INS-10044): afventer dokumentation fra dig. Forventet afgørelse: 2. januar 2027."]),
        (
            ERIK,
            "da",
            [
                "Ansøgning om plejebolig (PLB-10046): under behandling. Forventet afgørelse: 28. december 2026.",
                "Byggesag (BYG-10047): afsluttet.",
            ],
        ),
        (NationalId("DK", "0304763332"), "da", ["Ansøgning om socialt botilbud (BOT-10045): modtaget. Forventet afgørelse: 22. januar 2027."]),
        (
            SVEA,
            "sv",
            [
                "Ansökan om ekonomiskt bistånd (EB-20031): under handläggning. Beräknat beslut: 30 november 2026.",
                "Ansökan om förskoleplats (FSK-20032): mottaget. Beräknat beslut: 23 mars 2027.",
            ],
        ),
        (OLLE, "sv", ["Bygglov (BL-20033): väntar på komplettering från dig."]),
        (
            MAJA,
            "sv",
            [
                "Ansökan om förskoleplats (FSK-20034): beslut fattat den 3 november 2026.",
                "Ansökan om ekonomiskt bistånd (EB-20035): avslutat.",
            ],
        ),
    ],
)
async def test_case_status_in_chat_for_every_kind_and_status(national_id, language, lines):
    dispatcher, _, slots = await run(
        ActionPersonalAnswer(), question("min sag", "case_status_inquiry", language, login=national_id)
    )
    assert slots["personal_route"] == "in_chat"
    [text] = texts(dispatcher)
    intro, *shown = text.split("\n")
    assert intro in ("Her er status på dine sager hos kommunen:", "Så här ser dina ärenden hos kommunen ut:")
    assert sorted(shown) == sorted(lines)


async def test_case_status_in_chat_of_one_kind():
    dispatcher, _, _ = await run(
        ActionPersonalAnswer(), question("hvordan går det med min byggesag", "case_status_inquiry", login=ERIK)
    )
    assert texts(dispatcher) == ["Her er status på dine sager hos kommunen:\nByggesag (BYG-10047): afsluttet."]


async def test_case_status_in_chat_when_there_is_no_case_of_that_kind():
    dispatcher, _, _ = await run(
        ActionPersonalAnswer(), question("hvad med min plejebolig", "case_status_inquiry", login=ANNA)
    )
    intro, *lines = texts(dispatcher)[0].split("\n")
    assert intro.startswith("Jeg kan ikke finde en sag af den slags")
    assert len(lines) == 2


async def test_no_cases_in_chat():
    dispatcher, _, _ = await run(ActionPersonalAnswer(), question("min sag", "case_status_inquiry", login=JONAS))
    assert texts(dispatcher)[0].startswith("Jeg kan ikke finde nogen sager hos kommunen i dit navn.")


async def test_a_system_down_after_login_offers_a_person(sandbox):
    sandbox.set_mode("case-system", mode="down")
    dispatcher, _, slots = await run(
        ActionPersonalAnswer(), question("hur går det med mitt ärende", "case_status_inquiry", "sv", login=OLLE)
    )
    assert slots["personal_route"] == "unavailable"
    assert dispatcher.messages[0]["text"].startswith("Tyvärr svarar ärendesystemet inte just nu")
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["Ja, prata med en person", "Nej tack"]


# --- a person after a failure ------------------------------------------------------------


async def test_accepting_a_person_hands_over_as_system_unavailable():
    tracker = make_tracker("/affirm", "affirm", 1.0, slots={"personal_route": "unavailable", "personal_topic": "payout"})
    dispatcher, events, slots = await run(ActionPersonalHandoff(), tracker)
    assert [handoff["reason"] for handoff in handoffs(dispatcher)] == ["system_unavailable"]
    assert slots["personal_route"] == "in_chat"
    assert any(event.get("event") == "pause" for event in events)
