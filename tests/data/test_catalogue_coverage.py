"""The training data and answers cover the topic catalogue, which is a contract."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
import yaml

from bench.heldout import heldout, load_examples
from tests.conftest import ROOT

MIN_EXAMPLES = 20


def _responses(path):
    return yaml.safe_load(path.read_text(encoding="utf-8")).get("responses", {})


def test_domain_intents_are_exactly_the_catalogue_ids(topics, domain):
    assert set(domain["intents"]) == {topic["id"] for topic in topics}


def test_every_topic_has_enough_distinct_examples_per_language(topics):
    missing = []
    for topic in topics:
        for language in topic["languages"]:
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
    """{topic id: list of response variations} for FAQ and personal topics."""
    result = {}
    for topic in topics:
        if topic["kind"] == "dialogue":
            continue
        path = ROOT / "data" / topic["kind"] / f"{topic['id']}.yml"
        assert path.exists(), f"no answer file for {topic['id']}"
        result[topic["id"]] = _responses(path)[f"utter_{topic['id']}"]
    return result


def _language_of(variation):
    for condition in variation.get("condition") or []:
        if condition.get("name") == "language":
            return condition["value"]
    return None


def test_every_answer_has_a_danish_and_a_swedish_variation(answers):
    for topic, variations in answers.items():
        conditioned = {_language_of(v) for v in variations}
        assert None in conditioned, f"{topic} has no default variation"
        assert len(variations) == 2 and len(conditioned) == 2, topic


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
                assert button["payload"].lstrip("/") in domain["intents"], topic
