"""Folding, tokenisation, the conversation language and the confidence gate."""

from __future__ import annotations

import pytest

from rasa.shared.nlu.training_data.message import Message

from rasa_addons.core.confidence_gate import is_uncertain
from rasa_addons.core.language_policy import conversation_language
from rasa_addons.nlu.folding_tokenizer import FoldingTokenizer
from rasa_addons.nlu.language_detector import LanguageDetector, looks_english
from rasa_addons.text import fold


@pytest.mark.parametrize(
    "variants",
    [
        ("spærret", "spaerret", "SPÆRRET", "sparet"),
        ("flyttanmälan", "flyttanmalan", "flytanmalan"),
        ("sundhedskørt", "sundhedskoert", "sundhedskort"),
        ("får", "faar", "far"),
        ("café", "cafe"),
    ],
)
def test_spelling_variants_fold_to_one_skeleton(variants):
    assert len({fold(word) for word in variants}) == 1


def test_fold_is_idempotent():
    for word in ("spærret", "hjälp", "kørekort", "aaaa"):
        assert fold(fold(word)) == fold(word)


def test_tokens_keep_the_text_and_carry_the_folded_lemma():
    tokenizer = FoldingTokenizer(FoldingTokenizer.get_default_config())
    tokens = tokenizer.tokenize(Message(data={"text": "Min MitID er spærret"}), "text")
    assert [t.text for t in tokens] == ["Min", "MitID", "er", "spærret"]
    assert [t.lemma for t in tokens] == ["min", "mitid", "er", "sparet"]


def test_optional_lemmas_follow_the_message_language():
    tokenizer = FoldingTokenizer({**FoldingTokenizer.get_default_config(), "lemmatize": True})
    danish = tokenizer.tokenize(Message(data={"text": "spærret flyttet", "language": "da"}), "text")
    swedish = tokenizer.tokenize(Message(data={"text": "spärrat flyttade", "language": "sv"}), "text")
    assert [t.lemma for t in danish] == [fold("spærre"), fold("flytte")]
    assert [t.lemma for t in swedish] == [fold("spärra"), fold("flytta")]


# ------------------------------------------------------------ conversation language

def parse(language, confidence=0.99, source="text"):
    return {"language": language, "language_confidence": confidence, "language_source": source}


def test_the_first_message_sets_the_language():
    assert conversation_language(None, parse("sv"), 0.85) == "sv"


def test_a_clearly_swedish_message_switches_a_danish_conversation():
    assert conversation_language("da", parse("sv", 0.97), 0.85) == "sv"


def test_a_short_ambiguous_message_does_not_switch():
    assert conversation_language("sv", parse("da", 0.6), 0.85) == "sv"


def test_the_website_language_does_not_switch_an_ongoing_conversation():
    assert conversation_language("sv", parse("da", 1.0, "metadata"), 0.85) == "sv"


def test_a_button_payload_takes_the_website_language():
    assert conversation_language(None, {}, 0.85, {"language": "sv"}) == "sv"
    assert conversation_language("da", {}, 0.85, {"language": "sv"}) == "da"


# ------------------------------------------------------------ confidence gate

def ranked(*confidences, text="hvad med det"):
    ranking = [{"name": f"t{i}", "confidence": c} for i, c in enumerate(confidences)]
    return {"text": text, "intent": ranking[0], "intent_ranking": ranking}


@pytest.mark.parametrize(
    "parse_data, uncertain",
    [
        (ranked(0.9, 0.05), False),
        (ranked(0.45, 0.2), True),  # too unsure
        (ranked(0.55, 0.5), True),  # two meanings too close
        (ranked(0.3, 0.2, text="/passport"), False),  # a button is never unsure
    ],
)
def test_confidence_gate(parse_data, uncertain):
    assert is_uncertain(parse_data, threshold=0.5, ambiguity_threshold=0.1) is uncertain


@pytest.mark.parametrize(
    "text, english",
    [
        ("I need help with my passport", True),
        ("what is the weather tomorrow", True),
        ("my bankid does not work", True),
        ("hvordan får jeg et pas", False),
        ("hur byter jag adress nar jag flyttar", False),
        ("login virker ikke", False),
        ("app", False),
        ("det der med koden fra i går", False),
    ],
)
def test_english_is_told_apart_from_danish_and_swedish(text, english):
    assert looks_english(text) is english


def test_an_english_message_keeps_the_websites_language():
    detector = LanguageDetector({}, None, None)
    for declared in ("da", "sv"):
        message = Message(data={"text": "my bankid does not work", "metadata": {"language": declared}})
        detector.process([message])
        assert (message.get("language"), message.get("language_source")) == (declared, "metadata")
    # Without a declared language the text decides as before.
    message = Message(data={"text": "my bankid does not work"})
    detector.process([message])
    assert message.get("language_source") == "text"
