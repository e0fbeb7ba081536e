"""action_knowledge_answer: the answer in the conversation's language and the
municipality's variant, "Did you mean" buttons, and the honest no-answer."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge
from actions.knowledge import ActionKnowledgeAnswer, answer_payload, render_answer
from rasa_addons.knowledge.publish import ensure_published, index_root, load_publication
from tests.actions.trackers import make_tracker


@pytest.fixture(scope="module")
def publication():
    return load_publication(index_root(), ensure_published(), with_index=False)


def run(tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionKnowledgeAnswer().run(dispatcher, tracker, {}))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def with_knowledge(text, decision, candidates, publication, language="da", metadata=None, entities=None):
    tracker = make_tracker(text, "knowledge_question", slots={"language": language}, metadata=metadata)
    tracker.latest_message["knowledge"] = {
        "decision": decision,
        "answer_id": candidates[0] if decision == "answer" else None,
        "confidence": 0.9,
        "candidates": [{"answer_id": c, "title": c, "score": 1.0} for c in candidates],
        "version": publication.version,
    }
    tracker.latest_message["entities"] = entities or []
    return tracker


def test_an_answer_in_the_conversations_language_with_its_related_buttons(publication):
    messages, slots = run(with_knowledge("hvordan melder jeg flytning", "answer", ["moving"], publication))
    [sent] = messages
    assert sent["text"].startswith("Du melder flytning på borger.dk") and sent["text"].endswith("https://www.borger.dk")
    assert sent["buttons"] == [{"title": "Sundhedskort", "payload": answer_payload("health_card")}]
    assert slots == {"knowledge_outcome": "answered"}


def test_the_swedish_text_of_the_same_answer(publication):
    messages, _ = run(with_knowledge("hur anmäler jag flytt", "answer", ["moving"], publication, language="sv"))
    assert "Skatteverket" in messages[0]["text"]


def test_the_municipality_variant_and_the_municipality_site(publication):
    plain = render_answer(publication, "childcare_place", "da", None)["text"]
    copenhagen = render_answer(publication, "childcare_place", "da", "101")["text"]
    gentofte = render_answer(publication, "childcare_place", "da", "157")["text"]
    assert "https://" not in plain
    assert copenhagen == f"{plain} Læs mere på https://www.kk.dk"  # its own link (variant)
    assert gentofte == f"{plain} Læs mere på https://www.gentofte.dk"  # its website (municipal answer)
    assert render_answer(publication, "moving", "da", "101")["text"].endswith("https://www.borger.dk")


def test_a_button_names_the_answer(publication):
    tracker = make_tracker('/knowledge_question{"answer_id": "passport"}', "knowledge_question", slots={"language": "sv"})
    tracker.latest_message["entities"] = [{"entity": "answer_id", "value": "passport"}]
    messages, slots = run(tracker)
    assert "polisen.se" in messages[0]["text"] and slots == {"knowledge_outcome": "answered"}


def test_a_close_call_asks_with_the_answer_titles_as_buttons(publication):
    messages, slots = run(with_knowledge("mitid", "close_call", ["mitid_blocked", "mitid_get"], publication))
    [sent] = messages
    assert "Mener du" in sent["text"]
    assert sent["buttons"][:2] == [
        {"title": "MitID er spærret", "payload": answer_payload("mitid_blocked")},
        {"title": "Få MitID", "payload": answer_payload("mitid_get")},
    ]
    assert sent["buttons"][-1]["payload"] == "/request_human"
    assert slots == {"knowledge_outcome": "close_call"}


@pytest.mark.parametrize(
    "metadata, expected",
    [({"municipality": "101"}, "https://www.kk.dk"), ({}, "https://www.borger.dk"), ({"municipality": "999"}, "https://www.borger.dk")],
)
def test_no_answer_is_said_honestly_with_a_person_and_the_municipality_site(publication, metadata, expected):
    messages, slots = run(with_knowledge("hvornår tømmes skraldespanden", "no_answer", ["moving"], publication, metadata=metadata))
    [sent] = messages
    assert "ikke et svar" in sent["text"] and expected in sent["text"]
    assert "Flytning" not in sent["text"], "never a guess"
    assert sent["buttons"] == [{"title": "Tal med en medarbejder", "payload": "/request_human"}]
    assert slots == {"knowledge_outcome": "no_answer"}


def test_an_answer_removed_since_the_decision_gets_the_no_answer(publication, monkeypatch):
    tracker = with_knowledge("hvordan melder jeg flytning", "answer", ["no_longer_there"], publication)
    messages, slots = run(tracker)
    assert slots == {"knowledge_outcome": "no_answer"}
