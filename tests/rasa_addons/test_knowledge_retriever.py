"""The KnowledgeRetriever component: it searches only questions, in the
message's language, from the live publication merged with the phrasings the
model learned, and lets a sure classifier settle a close call."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.shared.nlu.training_data.message import Message

from rasa_addons.knowledge import index as retrieval
from rasa_addons.nlu import sentence_embeddings
from rasa_addons.nlu.knowledge_retriever import KnowledgeRetriever, LearnedQuestions
from rasa_addons.nlu.topic_classifier import SUBRANKING_KEY
from tests.support.knowledge import publish_into


@pytest.fixture(scope="module")
def component(tmp_path_factory):
    root = tmp_path_factory.mktemp("knowledge")
    publish_into(root)
    phrasings = ["mit pas er udløbet hvad nu", "skal have nyt pas inden ferien"]
    learned = LearnedQuestions({"da": (phrasings, ["passport", "passport"], sentence_embeddings.embed(phrasings))})
    return KnowledgeRetriever({"index_root": str(root), "check_interval": 60}, None, None, learned)


def parse(component, text, intent="knowledge_question", language="da", subranking=None):
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": 0.99}, "language": language})
    if subranking:
        message.set(SUBRANKING_KEY, subranking)
    component.process([message])
    return message.get("knowledge")


def test_a_question_gets_the_answer_and_the_version(component):
    knowledge = parse(component, "hvordan melder jeg flytning")
    assert knowledge["decision"] == "answer" and knowledge["answer_id"] == "moving"
    assert knowledge["version"]


def test_learned_phrasings_join_their_answer(component):
    publication = component._live().get()
    merged = component._index_for(publication)["da"]
    passport = merged.documents[merged.position["passport"]]
    assert "mit pas er udløbet hvad nu" in passport.questions
    assert len(merged.question_vectors) == sum(len(d.questions) for d in merged.documents)


def test_dialogue_intents_and_button_payloads_are_not_searched(component):
    assert parse(component, "hej med dig", intent="greet") is None
    assert parse(component, '/knowledge_question{"answer_id": "moving"}') is None


def test_a_sure_classifier_settles_a_close_call_it_agrees_with(component):
    close = retrieval.Result(
        retrieval.CLOSE_CALL, 0.4,
        [retrieval.Candidate("mitid_blocked", "MitID er spærret", 1.6), retrieval.Candidate("mitid_get", "Få MitID", 1.55)],
    )
    sure = [{"name": "mitid_get", "confidence": 0.9}]
    settled = component._with_classifier(close, sure, None)
    assert settled.decision == retrieval.ANSWER and settled.answer_id == "mitid_get"
    # Not when the classifier is unsure, names an answer the retriever does not rank, or retrieval ruled everything out.
    assert component._with_classifier(close, [{"name": "mitid_get", "confidence": 0.4}], None).decision == retrieval.CLOSE_CALL
    assert component._with_classifier(close, [{"name": "passport", "confidence": 0.9}], None).decision == retrieval.CLOSE_CALL
    hopeless = retrieval.Result(retrieval.NO_ANSWER, 0.05, close.candidates)
    assert component._with_classifier(hopeless, sure, None).decision == retrieval.NO_ANSWER


def test_the_bridge_sees_the_answer_or_out_of_scope_as_the_topic():
    from rasa_addons.channels.bridge import nlu_summary

    intent = {"name": "knowledge_question", "confidence": 0.99}
    answered = {"intent": intent, "language": "da", "knowledge": {"decision": "answer", "answer_id": "moving", "confidence": 0.9}}
    unanswered = {"intent": intent, "language": "da", "knowledge": {"decision": "no_answer", "answer_id": None, "confidence": 0.1}}
    asked_back = {"intent": intent, "language": "da", "knowledge": {"decision": "close_call", "answer_id": None, "confidence": 0.5}}
    assert nlu_summary(answered) == {"topic": "moving", "confidence": 0.9, "language": "da"}
    assert nlu_summary(unanswered)["topic"] == "out_of_scope"
    assert nlu_summary(asked_back)["topic"] == "knowledge_question"
    assert nlu_summary({"intent": {"name": "greet", "confidence": 0.9}, "language": "sv"})["topic"] == "greet"


def test_loading_assembles_the_index_before_the_first_question(tmp_path):
    from contextlib import contextmanager

    class NoStoredQuestions:
        @contextmanager
        def read_from(self, resource):
            raise ValueError("nothing stored")
            yield

    publish_into(tmp_path)
    component = KnowledgeRetriever.load({"index_root": str(tmp_path), "check_interval": 60}, NoStoredQuestions(), None, None)
    publication = component._live().get()
    assert component._merged_for == publication.version
    assert set(component._merged) == set(publication.languages)
