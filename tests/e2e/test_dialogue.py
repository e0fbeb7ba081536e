"""The dialogue end to end, through the running Rasa server and action server:
language from metadata or text, greeting, FAQ answers (from the knowledge
base) and follow-ups, unclear questions, and the way to a person."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest

DA = {"language": "da", "municipality": "101"}
SV = {"language": "sv", "municipality": "1481"}


def conversation() -> str:
    return f"e2e-{uuid.uuid4().hex}"


def texts(reply) -> str:
    return " ".join(message.get("text") or "" for message in reply["messages"])


def buttons(reply) -> list:
    return [button for message in reply["messages"] for button in message.get("buttons") or []]


# ---------------------------------------------------------------- /model/parse

@pytest.mark.parametrize(
    "text, language, topic",
    [
        ("min mitid er spaerret hvad goer jeg", "da", "mitid_blocked"),
        ("hvordan bestiller jeg nyt pas til min søn", "da", "passport"),
        ("hur byter jag adress nar jag flyttar", "sv", "moving"),
        ("mitt bankid är spärrat", "sv", "bankid_blocked"),
    ],
)
def test_parse_without_metadata_names_language_and_topic(assistant, text, language, topic):
    result = assistant.parse(text)
    # FAQ topics are knowledge base answers with the topic's id.
    assert result["intent"]["name"] == "knowledge_question"
    assert result["knowledge"]["answer_id"] == topic
    assert result["language"] == language
    assert result["language_source"] == "text"
    assert 0.5 <= result["language_confidence"] <= 1.0


# ---------------------------------------------------------------- language

def test_greeting_in_danish_says_what_the_bot_can_do(assistant):
    reply = assistant.send(conversation(), "hej", DA)
    assert "MitID" in texts(reply) and "medarbejder" in texts(reply)
    assert reply["nlu"]["language"] == "da"
    assert {"title": "Tal med en medarbejder", "payload": "/request_human"} in buttons(reply)


def test_greeting_in_swedish_from_metadata(assistant):
    reply = assistant.send(conversation(), "hej", SV)
    assert "BankID" in texts(reply) and "person" in texts(reply)
    assert reply["nlu"]["language"] == "sv"


def test_language_from_text_when_the_website_sends_none(assistant):
    reply = assistant.send(conversation(), "hej! hur ansöker jag om bostadsbidrag?", {})
    assert reply["nlu"] == {**reply["nlu"], "topic": "housing_benefit", "language": "sv"}
    assert "Fick du svar på din fråga?" in texts(reply)


def test_a_citizen_who_switches_language_gets_answers_in_the_new_one(assistant):
    sender = conversation()
    first = assistant.send(sender, "jeg skal flytte, hvordan melder jeg flytning?", DA)
    assert "Hjalp svaret dig?" in texts(first)
    second = assistant.send(sender, "ursäkta, kan du svara på svenska? hur gör jag en flyttanmälan?", DA)
    assert second["nlu"]["language"] == "sv"
    assert "Fick du svar på din fråga?" in texts(second)


@pytest.mark.parametrize("metadata, words", [(SV, "Jag"), (DA, "Jeg")])
def test_english_is_answered_in_the_conversations_language(assistant, metadata, words):
    sender = conversation()
    assistant.send(sender, "hej", metadata)
    reply = assistant.send(sender, "something about the code from yesterday", metadata)
    assert reply["nlu"]["language"] == metadata["language"]
    # Whatever the assistant makes of it, it answers in the conversation's language.
    assert words.lower() in texts(reply).lower().split()
    # Nor does an English question switch the conversation.
    reply = assistant.send(sender, "my bankid does not work", metadata)
    assert reply["reply_language"] == metadata["language"]


# ---------------------------------------------------------------- FAQ

def test_faq_answer_links_to_the_official_page_and_asks_whether_it_helped(assistant):
    reply = assistant.send(conversation(), "jeg har fået ny telefon, hvordan flytter jeg mitid appen", DA)
    assert reply["nlu"]["topic"] == "mitid_new_phone"
    assert "https://" in texts(reply)
    assert [b["payload"] for b in reply["messages"][-1]["buttons"]] == ["/affirm", "/deny"]


def test_follow_up_questions_in_the_same_conversation(assistant):
    sender = conversation()
    assistant.send(sender, "hvordan får jeg et nyt sundhedskort", DA)
    reply = assistant.send(sender, "og hvad med mit kørekort, det er også blevet væk", DA)
    assert reply["nlu"]["topic"] == "drivers_license"
    assert "Hjalp svaret dig?" in texts(reply)


def test_helpful_yes_and_no(assistant):
    sender = conversation()
    assistant.send(sender, "hvornår udbetales kontanthjælp", DA)
    assert "Dejligt" in texts(assistant.send(sender, "/affirm", DA))

    sender = conversation()
    assistant.send(sender, "hvornår udbetales kontanthjælp", DA)
    reply = assistant.send(sender, "nej det hjalp ikke", DA)
    assert "andre ord" in texts(reply)
    assert {"title": "Tal med en medarbejder", "payload": "/request_human"} in buttons(reply)


# ---------------------------------------------------------------- clarification

def test_an_unclear_question_gets_likely_answers_or_an_honest_no_answer(assistant):
    sender = conversation()
    first = assistant.send(sender, "det der med koden fra i går", DA)
    assert "Mener du" in texts(first) or "ikke et svar" in texts(first)
    suggested = [b["payload"] for b in buttons(first)]
    assert "/request_human" in suggested
    assert all(p.startswith("/knowledge_question") for p in suggested if p != "/request_human")

    # Offered, never pushed: the citizen chooses a person.
    assert first["paused"] is False and first["handoff"] is None
    reply = assistant.send(sender, "/request_human", DA)
    assert reply["paused"] is True
    assert reply["handoff"]["language"] == "da"


def test_a_suggestion_button_answers_the_topic(assistant):
    reply = assistant.send(conversation(), '/knowledge_question{"answer_id": "passport"}', SV)
    assert "polisen.se" in texts(reply)


# ---------------------------------------------------------------- handoff

def test_a_person_on_request_pauses_the_bot_and_signals_the_bridge(assistant):
    sender = conversation()
    assistant.send(sender, "mit cpr er 010203-1234 og min mitid er blevet spærret", DA)
    reply = assistant.send(sender, "jeg vil gerne tale med en rigtig person", DA)
    assert reply["paused"] is True
    # The bridge tells the citizen about the queue; the signal is not a message.
    assert reply["messages"] == []
    handoff = reply["handoff"]
    assert handoff["reason"] == "citizen_request"
    assert handoff["topic"] == "mitid_blocked" and 0 < handoff["confidence"] <= 1
    assert handoff["language"] == "da"
    assert "010203-1234" not in handoff["summary"] and "mitid" in handoff["summary"].lower()
    # The bot stays silent until an agent hands the conversation back.
    assert assistant.send(sender, "hallo?", DA)["messages"] == []
    # The tracker store keeps only the masked text.
    stored = [e.get("text") for e in assistant.tracker(sender)["events"] if e["event"] == "user"]
    assert stored[0] == "mit cpr er [skjult] og min mitid er blevet spærret"


def test_a_person_after_an_answer_that_did_not_help(assistant):
    sender = conversation()
    assistant.send(sender, "hur ansöker jag om ekonomiskt bistånd", SV)
    offer = assistant.send(sender, "/deny", SV)
    assert offer["paused"] is False and {"title": "Prata med en person", "payload": "/request_human"} in buttons(offer)
    reply = assistant.send(sender, "/request_human", SV)
    assert reply["paused"] is True
    assert reply["handoff"]["reason"] == "not_helpful"
    assert reply["handoff"]["language"] == "sv"


def test_the_bridge_pauses_and_resumes_the_bot_with_the_token_in_a_header(assistant):
    sender = conversation()
    assistant.send(sender, "hej", DA)
    assert assistant.tracker_event(sender, "pause", token="wrong") == 401
    assert assistant.tracker_event(sender, "pause") == 200
    assert assistant.send(sender, "hvordan får jeg et pas", DA)["messages"] == []
    assert assistant.tracker_event(sender, "resume") == 200
    assert "pas" in texts(assistant.send(sender, "hvordan får jeg et pas", DA)).lower()


def test_the_action_server_only_answers_rasa(assistant):
    call = json.dumps({"next_action": "action_handoff", "sender_id": "x", "tracker": {"sender_id": "x", "events": []},
                       "domain": {}, "version": "3.6.2"}).encode()
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        request = urllib.request.Request(f"{assistant.action_url}/webhook", data=call, method="POST",
                                         headers={"Content-Type": "application/json", **headers})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 401
    with urllib.request.urlopen(f"{assistant.action_url}/health", timeout=10) as health:
        assert health.status == 200

# ---------------------------------------------------------------- response names (for the bridge's insight)

def responses(reply) -> list:
    return [message.get("response") for message in reply["messages"]]


def test_every_message_names_the_response_it_came_from(assistant):
    sender = conversation()
    answer = assistant.send(sender, "jeg har fået ny telefon, hvordan flytter jeg mitid appen", DA)
    assert responses(answer)[-1] == "utter_ask_helpful"
    assert answer["nlu"]["topic"] == "mitid_new_phone" and "knowledge_answer" in responses(answer)
    unclear = assistant.send(conversation(), "det der med koden fra i går", DA)
    assert responses(unclear)[0] in {"knowledge_did_you_mean", "knowledge_no_answer", "knowledge_no_answer_with_site"}
    identity = assistant.send(conversation(), "hvornår får jeg mine penge", DA)
    assert "ask_national_id" in responses(identity)
