"""Personal answers end to end, through the running Rasa server, action
server and municipal sandbox: payout and case status by SMS for anonymous
citizens, in the chat after a login, invalid numbers, leaving the form, and
a failing system, in Danish and Swedish."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from actions.formatting import NBSP

DA = {"language": "da", "municipality": "101"}
SV = {"language": "sv", "municipality": "1481"}

ANNA = "150385-1112"  # +45 09 99 00 01, kontanthjælp 12.345,50 kr., BYG-10042 and FRI-10043
SVEA = "19850315-5684"  # +46 70 174 06 05, ekonomiskt bistånd 9 234,50 kr, EB-20031 and FSK-20032


@pytest.fixture(autouse=True)
def clean(assistant, clean_sandbox):
    """Every test starts with the seeded sandbox, systems up."""


def conversation() -> str:
    return f"e2e-personal-{uuid.uuid4().hex}"


def texts(reply) -> str:
    return " ".join(message.get("text") or "" for message in reply["messages"])


def buttons(reply) -> list:
    return [button for message in reply["messages"] for button in message.get("buttons") or []]


def logged_in(assistant, metadata, national_id, **token_options):
    return {**metadata, "login_token": assistant.login.token(national_id, **token_options)}


def stored(assistant, sender) -> str:
    """The conversation as the tracker store keeps it."""
    return json.dumps(assistant.tracker(sender), ensure_ascii=False)


def assert_not_stored(assistant, sender, *secrets):
    """Neither the identity number (in any spelling) nor a login token is kept:
    slots hold the number only sealed, and the tracker store masks the rest."""
    conversation_as_stored = stored(assistant, sender)
    for secret in secrets:
        for spelling in {secret, secret.replace("-", ""), secret.replace("-", "")[-10:]}:
            assert spelling not in conversation_as_stored
    assert assistant.tracker(sender)["slots"]["national_id"] is None


# ---------------------------------------------------------------- anonymous: by SMS

def test_payout_by_sms_in_danish(assistant):
    sender = conversation()
    reply = assistant.send(sender, "hvornår får jeg mine penge", DA)
    assert "NemSMS" in texts(reply)
    assert "Skriv dit CPR-nummer" in texts(reply)

    reply = assistant.send(sender, ANNA, DA)
    assert texts(reply).startswith("Tak. Er der et mobilnummer registreret til NemSMS for CPR-nummeret")
    assert "12.345" not in texts(reply)
    [sms] = assistant.sandbox.wait_for_outbox(1)
    assert sms["recipient"] == "+4509990001"
    assert "12.345,50 kr. den 30. november 2026" in sms["text"]
    assert_not_stored(assistant, sender, ANNA)


def test_payout_by_sms_in_swedish(assistant):
    sender = conversation()
    reply = assistant.send(sender, "när får jag mina pengar", SV)
    assert "Skriv ditt personnummer" in texts(reply)

    reply = assistant.send(sender, f"mitt personnummer är {SVEA}", SV)
    assert texts(reply).startswith("Tack. Finns det ett mobilnummer registrerat för personnumret")
    [sms] = assistant.sandbox.wait_for_outbox(1)
    assert sms["recipient"] == "+46701740605"
    assert "9 234,50 kr den 25 november 2026" in sms["text"]
    assert_not_stored(assistant, sender, SVEA)


def test_the_reply_does_not_tell_whether_the_number_exists(assistant):
    replies = []
    for number in (ANNA, "030476-3332", "010101-1234"):  # registered; no mobile; unknown
        sender = conversation()
        assistant.send(sender, "hvornår får jeg mine penge", DA)
        reply = assistant.send(sender, number, DA)
        replies.append([(message.get("text"), message.get("buttons")) for message in reply["messages"]])
    assert replies[0] == replies[1] == replies[2]
    assert len(assistant.sandbox.wait_for_outbox(1)) == 1


def test_case_status_by_sms_of_the_kind_asked_for_in_danish(assistant):
    sender = conversation()
    reply = assistant.send(sender, "hvor langt er I med min byggesag", DA)
    assert "Skriv dit CPR-nummer" in texts(reply)
    reply = assistant.send(sender, ANNA, DA)
    assert "status på dine sager som SMS" in texts(reply)
    [sms] = assistant.sandbox.wait_for_outbox(1)
    assert "BYG-10042" in sms["text"] and "FRI-10043" not in sms["text"]


def test_case_status_by_sms_in_swedish(assistant):
    sender = conversation()
    assistant.send(sender, "hur går det med mitt ärende", SV)
    reply = assistant.send(sender, SVEA, SV)
    assert "status för dina ärenden i ett sms" in texts(reply)
    [sms] = assistant.sandbox.wait_for_outbox(1)
    assert "EB-20031" in sms["text"] and "FSK-20032" in sms["text"]


# ---------------------------------------------------------------- invalid numbers, leaving

def test_invalid_number_then_retry_then_cancel_in_danish(assistant):
    sender = conversation()
    assistant.send(sender, "hvornår får jeg mine penge", DA)
    reply = assistant.send(sender, "310285-1112", DA)
    assert "Datoen i CPR-nummeret findes ikke" in texts(reply)
    assert "2 gange mere" in texts(reply) and "Skriv dit CPR-nummer" in texts(reply)
    reply = assistant.send(sender, "12345", DA)
    assert "Det ligner ikke et CPR-nummer" in texts(reply) and "1 gang mere" in texts(reply)
    reply = assistant.send(sender, "stop", DA)
    assert texts(reply) == "Okay, jeg har ikke slået noget op. Er der andet, jeg kan hjælpe med?"
    assert assistant.sandbox.outbox() == []
    # The form is over: the next question is answered normally.
    reply = assistant.send(sender, "hvordan bestiller jeg nyt pas", DA)
    assert "pas" in texts(reply).lower()


def test_invalid_number_then_retry_then_cancel_in_swedish(assistant):
    sender = conversation()
    assistant.send(sender, "när kommer mitt försörjningsstöd", SV)
    reply = assistant.send(sender, "19850315-5685", SV)
    assert "Kontrollsiffran stämmer inte" in texts(reply) and "Skriv ditt personnummer" in texts(reply)
    reply = assistant.send(sender, "avbryt", SV)
    assert texts(reply) == "Okej, jag har inte slagit upp något. Finns det något annat jag kan hjälpa dig med?"
    assert assistant.sandbox.outbox() == []


def test_three_attempts_per_conversation(assistant):
    sender = conversation()
    assistant.send(sender, "hvornår får jeg mine penge", DA)
    assistant.send(sender, "12345", DA)
    assistant.send(sender, "310285-1112", DA)
    reply = assistant.send(sender, "99999", DA)
    assert "Jeg kan desværre ikke slå flere numre op" in texts(reply)
    assert {"title": "Tal med en medarbejder", "payload": "/request_human"} in buttons(reply)
    # Asking again in the same conversation does not open the form.
    reply = assistant.send(sender, "hvordan går det med min sag", DA)
    assert "Jeg kan desværre ikke slå flere numre op" in texts(reply)
    assert "CPR-nummer (DDMMÅÅ" not in texts(reply)


def test_a_person_instead_of_the_number(assistant):
    sender = conversation()
    assistant.send(sender, "hvornår får jeg mine penge", DA)
    reply = assistant.send(sender, "/request_human", DA)
    assert reply["paused"] is True
    assert reply["handoff"]["reason"] == "citizen_request"


# ---------------------------------------------------------------- authenticated chat

def test_payout_in_chat_after_mitid_login(assistant):
    sender = conversation()
    metadata = logged_in(assistant, DA, ANNA, country="DK")
    reply = assistant.send(sender, "hvornår får jeg mine penge", metadata)
    assert texts(reply) == f"Din næste udbetaling af kontanthjælp er på 12.345,50{NBSP}kr. den 30. november 2026."
    assert assistant.sandbox.outbox() == []
    assert_not_stored(assistant, sender, ANNA, metadata["login_token"])


def test_payout_in_chat_after_bankid_login(assistant):
    sender = conversation()
    reply = assistant.send(sender, "när kommer mina pengar", logged_in(assistant, SV, SVEA, country="SE"))
    assert texts(reply) == f"Din nästa utbetalning av ekonomiskt bistånd är 9{NBSP}234,50{NBSP}kr den 25 november 2026."


@pytest.mark.parametrize(
    "metadata, number, question, expected",
    [
        (DA, "150385-1112", "hvad er status på min sag", ["Byggesag (BYG-10042): under behandling.", "Ansøgning om fritidstilbud (FRI-10043): afgjort den 13. november 2026."]),
        (DA, "120504-5551", "hvor langt er I med min sag", ["Ansøgning om institutionsplads (INS-10044): afventer dokumentation fra dig."]),
        (DA, "030476-3332", "hvor langt er I med min sag", ["Ansøgning om socialt botilbud (BOT-10045): modtaget."]),
        (DA, "110954-4441", "hvad er status på min sag", ["Ansøgning om plejebolig (PLB-10046): under behandling.", "Byggesag (BYG-10047): afsluttet."]),
        (SV, "19850315-5684", "hur går det med mitt ärende", ["Ansökan om ekonomiskt bistånd (EB-20031): under handläggning.", "Ansökan om förskoleplats (FSK-20032): mottaget."]),
        (SV, "19900101-2393", "hur går det med mitt ärende", ["Bygglov (BL-20033): väntar på komplettering från dig."]),
        (SV, "19781124-4628", "hur går det med mitt ärende", ["Ansökan om förskoleplats (FSK-20034): beslut fattat den 3 november 2026.", "Ansökan om ekonomiskt bistånd (EB-20035): avslutat."]),
    ],
)
def test_case_status_in_chat_for_every_kind(assistant, metadata, number, question, expected):
    reply = assistant.send(conversation(), question, logged_in(assistant, metadata, number))
    for line in expected:
        assert line in texts(reply)


def test_an_expired_login_falls_back_to_sms(assistant):
    sender = conversation()
    metadata = logged_in(assistant, DA, ANNA, lifetime=dt.timedelta(minutes=-5))
    reply = assistant.send(sender, "hvornår får jeg mine penge", metadata)
    assert "Jeg kunne ikke bekræfte dit MitID-login" in texts(reply)
    assert "Skriv dit CPR-nummer" in texts(reply)
    assert "12.345" not in texts(reply)


# ---------------------------------------------------------------- a system down

def test_payout_system_down_then_a_person_in_danish(assistant):
    assistant.sandbox.set_mode("payout-system", mode="down")
    sender = conversation()
    assistant.send(sender, "hvornår får jeg mine penge", DA)
    reply = assistant.send(sender, ANNA, DA)
    assert texts(reply).startswith("Beklager, udbetalingssystemet svarer ikke lige nu")
    assert [button["payload"] for button in buttons(reply)] == ["/affirm", "/deny"]
    reply = assistant.send(sender, "/affirm", DA)
    assert reply["paused"] is True
    handoff = reply["handoff"]
    assert handoff["reason"] == "system_unavailable"
    assert "1503851112" not in json.dumps(handoff) and ANNA not in json.dumps(handoff)


def test_case_system_down_after_login_then_no_person_in_swedish(assistant):
    assistant.sandbox.set_mode("case-system", mode="down")
    sender = conversation()
    reply = assistant.send(sender, "har ni fattat beslut om mitt bygglov än", logged_in(assistant, SV, "19900101-2393"))
    assert texts(reply).startswith("Tyvärr svarar ärendesystemet inte just nu")
    reply = assistant.send(sender, "/deny", SV)
    assert reply["paused"] is False and reply["handoff"] is None
