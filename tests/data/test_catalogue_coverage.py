"""The training data, the knowledge base and the answers cover the topic
catalogue, which is a contract: dialogue and personal topics are intents, FAQ
topics are knowledge base answers with the same id."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
import yaml

from bench.heldout import KNOWLEDGE_INTENT, NO_ANSWER_TOPIC, heldout, load_examples
from rasa_addons.knowledge.schema import load_knowledge_base
from tests.conftest import ROOT

MIN_EXAMPLES = 20


def _is_intent(topic) -> bool:
    return topic["kind"] != "faq" and topic["id"] != NO_ANSWER_TOPIC


def _phrasings(language, answer_id):
    """Training phrasings of one knowledge base answer (data/nlu/*/knowledge_question.yml)."""
    document = yaml.safe_load((ROOT / "data" / "nlu" / language / f"{KNOWLEDGE_INTENT}.yml").read_text(encoding="utf-8"))
    texts = set()
    for block in document["nlu"]:
        if (block.get("metadata") or {}).get("answer") == answer_id:
            texts.update(line[2:].strip().lower() for line in block["examples"].splitlines() if line.strip().startswith("- "))
    return texts


def _responses(path):
    return yaml.safe_load(path.read_text(encoding="utf-8")).get("responses", {})


def test_domain_intents_are_the_dialogue_and_personal_ids_and_questions(topics, domain):
    assert set(domain["intents"]) == {t["id"] for t in topics if _is_intent(t)} | {KNOWLEDGE_INTENT}


def test_every_faq_topic_is_a_knowledge_base_answer_in_its_languages(topics):
    kb = load_knowledge_base()
    for topic in (t for t in topics if t["kind"] == "faq"):
        assert topic["id"] in kb.answers, topic["id"]
        assert set(topic["languages"]) <= set(kb.answers[topic["id"]].languages()), topic["id"]


def test_every_topic_has_enough_distinct_examples_per_language(topics):
    missing = []
    for topic in topics:
        if topic["id"] == NO_ANSWER_TOPIC:
            continue
        for language in topic["languages"]:
            if topic["kind"] == "faq":
                texts = _phrasings(language, topic["id"])
            else:
                path = ROOT / "data" / "nlu" / language / f"{topic['id']}.yml"
                examples = load_examples(path) if path.exists() else []
                texts = {text.lower() for text, intent in examples if intent == topic["id"]}
            if len(texts) < MIN_EXAMPLES:
                missing.append(f"{language}/{topic['id']}: {len(texts)}")
    assert not missing, f"fewer than {MIN_EXAMPLES} examples: {missing}"


def test_example_files_declare_their_language():
    for language in ("da", "sv"):
        for path in (ROOT / "data" / "nlu" / language).glob("*.yml"):
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
            for block in document["nlu"]:
                assert block.get("metadata", {}).get("language") == language, path
                assert path.stem == block["intent"], f"{path} holds {block['intent']}"


def test_no_example_is_labelled_twice():
    seen = defaultdict(set)
    for language in ("da", "sv"):
        for path in (ROOT / "data" / "nlu" / language).glob("*.yml"):
            for text, intent in load_examples(path):
                seen[text.lower()].add((language, intent))
    conflicts = {text: labels for text, labels in seen.items() if len(labels) > 1}
    assert not conflicts


def test_heldout_messages_never_appear_in_training():
    training = {
        text.lower()
        for language in ("da", "sv")
        for path in (ROOT / "data" / "nlu" / language).glob("*.yml")
        for text, _ in load_examples(path)
    }
    leaked = [text for pairs in heldout().values() for text, _ in pairs if text.lower() in training]
    assert not leaked


def test_heldout_sets_cover_every_topic_of_their_language(topics):
    sets = heldout()
    for language, pairs in sets.items():
        expected = {t["id"] for t in topics if language in t["languages"]}
        assert {topic for _, topic in pairs} == expected


@pytest.fixture(scope="module")
def answers(topics):
    """{topic id: [{"text", "buttons"}...]}: the knowledge base answer of each
    FAQ topic per language, the response variations of each personal topic."""
    kb = load_knowledge_base()
    result = {}
    for topic in topics:
        if topic["kind"] == "faq":
            answer = kb.answers[topic["id"]]
            result[topic["id"]] = [{"text": answer.entry(language).answer} for language in answer.languages()]
        elif topic["kind"] == "personal":
            path = ROOT / "data" / "personal" / f"{topic['id']}.yml"
            assert path.exists(), f"no answer file for {topic['id']}"
            result[topic["id"]] = _responses(path)[f"utter_{topic['id']}"]
    return result


def test_every_answer_is_in_danish_and_swedish(answers):
    for topic, variations in answers.items():
        assert len(variations) == 2, topic


def test_answers_are_short(answers):
    for topic, variations in answers.items():
        for variation in variations:
            assert len(variation["text"]) <= 600, topic


def test_answer_numbers_come_from_the_catalogue(answers, topics):
    """No invented phone numbers, fees or deadlines: every number is a fact."""
    facts = " ".join(
        " ".join(topic.get("facts") or []) for topic in topics
    )
    fact_numbers = set(re.findall(r"\d+(?:[ .]\d+)*", facts))
    for topic, variations in answers.items():
        for variation in variations:
            for number in re.findall(r"\d+(?:[ .]\d+)*", variation["text"]):
                assert number in fact_numbers, f"{topic}: '{number}' is not in the catalogue"


def test_buttons_lead_to_known_intents(answers, domain):
    for topic, variations in answers.items():
        for variation in variations:
            for button in variation.get("buttons") or []:
                assert button["payload"].lstrip("/").split("{")[0] in domain["intents"], topic
