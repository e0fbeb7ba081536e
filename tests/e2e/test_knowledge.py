"""The knowledge base end to end, through the running Rasa server and action
server: answers in the municipality's variant, "Did you mean", the honest
no-answer, and a published change going live without a restart."""

from __future__ import annotations

import time
import uuid

from rasa_addons.knowledge.publish import read_current
from tests.support.knowledge import EXTRA_ANSWER_ID, knowledge_copy, publish_into

DA_COPENHAGEN = {"language": "da", "municipality": "101"}
DA_GENTOFTE = {"language": "da", "municipality": "157"}
SV = {"language": "sv", "municipality": "1281"}
LIVE_WITHIN_SECONDS = 60


def conversation() -> str:
    return f"e2e-kb-{uuid.uuid4().hex}"


def texts(reply) -> str:
    return " ".join(message.get("text") or "" for message in reply["messages"])


def buttons(reply) -> list:
    return [button for message in reply["messages"] for button in message.get("buttons") or []]


def test_the_parse_result_names_the_answer(assistant):
    result = assistant.parse("min mitid er spaerret hvad goer jeg")
    assert result["intent"]["name"] == "knowledge_question"
    assert result["knowledge"]["decision"] == "answer"
    assert result["knowledge"]["answer_id"] == "mitid_blocked"
    assert result["knowledge"]["version"] == read_current(assistant.knowledge_root)


def test_an_answer_in_the_municipalitys_variant(assistant):
    question = "hvordan skriver jeg mit barn op til vuggestue"
    copenhagen = assistant.send(conversation(), question, DA_COPENHAGEN)
    gentofte = assistant.send(conversation(), question, DA_GENTOFTE)
    assert copenhagen["nlu"]["topic"] == "childcare_place"
    assert "https://www.kk.dk" in texts(copenhagen) and "Hjalp svaret dig?" in texts(copenhagen)
    assert "https://www.gentofte.dk" in texts(gentofte)


def test_a_question_no_answer_covers_is_told_so_and_offered_a_person(assistant):
    sender = conversation()
    reply = assistant.send(sender, "hvornår tømmes skraldespanden på min vej", DA_COPENHAGEN)
    assert "ikke et svar" in texts(reply) and "https://www.kk.dk" in texts(reply)
    assert {"title": "Tal med en medarbejder", "payload": "/request_human"} in buttons(reply)
    assert "Hjalp svaret dig?" not in texts(reply)
    assert reply["paused"] is False and reply["handoff"] is None
    handed_over = assistant.send(sender, "/request_human", DA_COPENHAGEN)
    assert handed_over["paused"] is True and handed_over["handoff"]["language"] == "da"


def test_a_did_you_mean_button_gives_that_answer(assistant):
    reply = assistant.send(conversation(), '/knowledge_question{"answer_id": "passport"}', SV)
    assert "polisen.se" in texts(reply)
    assert "Fick du svar på din fråga?" in texts(reply)


def test_a_published_answer_goes_live_without_a_restart(assistant, tmp_path):
    question = "hvornår har genbrugspladsen åbent"
    root = assistant.knowledge_root
    original = read_current(root)
    sender = conversation()
    before = assistant.send(sender, question, DA_COPENHAGEN)
    assert before["nlu"]["topic"] != EXTRA_ANSWER_ID

    publish_into(root, knowledge_copy(tmp_path / "content", extra_answer=True))
    published = time.monotonic()
    try:
        while True:
            reply = assistant.send(sender, question, DA_COPENHAGEN)
            if reply["nlu"]["topic"] == EXTRA_ANSWER_ID:
                break
            assert time.monotonic() - published < LIVE_WITHIN_SECONDS, "the change was not live within 60 s"
            time.sleep(1)
        assert "Genbrugspladsens åbningstider" in texts(reply) and "https://www.kk.dk" in texts(reply)
        # The same conversation went on throughout: nothing was dropped.
        events = [e for e in assistant.tracker(sender)["events"] if e["event"] == "user"]
        assert len(events) >= 2
    finally:
        publish_into(root)  # the shipped content again, for the other tests
        restored = time.monotonic()
        while assistant.parse(question).get("knowledge", {}).get("answer_id") == EXTRA_ANSWER_ID:
            assert time.monotonic() - restored < LIVE_WITHIN_SECONDS
            time.sleep(1)
    assert read_current(root) != original  # a new version, with the original content
