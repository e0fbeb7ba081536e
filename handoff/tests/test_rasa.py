"""Parsing of Rasa's webhook answers (contract 1)."""

import pytest

from handoff_bridge.rasa import RasaUnavailable, parse_turn


def test_parse_turn_keeps_relayed_keys_and_nlu():
    turn = parse_turn({
        "messages": [
            {"text": "Hej", "buttons": [{"title": "Pas", "payload": "/ask_passport"}, {"payload": "/no_title"}]},
            {"custom": {"kind": "map"}}, {"image": "https://example.invalid/a.png"}, {"attachment": {"url": "x"}},
            {"unknown": 1}, "not a dict",
        ],
        "nlu": {"topic": "ask_passport", "confidence": "0.93", "language": "da"},
        "paused": True,
    })
    assert turn.messages == [
        {"text": "Hej", "buttons": [{"title": "Pas", "payload": "/ask_passport"}]},
        {"custom": {"kind": "map"}}, {"image": "https://example.invalid/a.png"}, {"attachment": {"url": "x"}},
    ]
    assert turn.topic == "ask_passport" and turn.confidence == 0.93 and turn.paused is True


def test_parse_turn_tolerates_missing_nlu_and_rejects_non_objects():
    turn = parse_turn({"messages": []})
    assert turn.messages == [] and turn.topic is None and turn.confidence is None and turn.paused is False
    with pytest.raises(RasaUnavailable):
        parse_turn(["not", "an", "object"])


def test_parse_turn_keeps_the_name_of_each_response():
    turn = parse_turn({"messages": [
        {"text": "Hjalp svaret dig?", "buttons": [{"title": "Ja", "payload": "/affirm"}], "response": "utter_ask_helpful"},
        {"text": "Skriv dit CPR-nummer.", "response": "ask_national_id" + "x" * 300},
        {"text": "Uden navn.", "response": 42},
        {"response": "only_a_name"},
    ], "nlu": {"topic": "payout_inquiry"}})
    assert [m.get("response") for m in turn.messages] == ["utter_ask_helpful", "ask_national_id" + "x" * 113, None]
