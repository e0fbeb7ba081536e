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


def test_the_handoff_signal_is_read_and_never_kept_as_a_message():
    signal = {"reason": "not_helpful", "summary": "pas", "topic": "passport", "confidence": 0.8, "language": "sv"}
    # As the bridge channel sends it: apart from the messages.
    turn = parse_turn({"messages": [], "nlu": {"topic": "request_human"}, "paused": True, "handoff": signal})
    assert turn.messages == [] and turn.paused is True and turn.handoff == signal
    # A signal left among the messages (an older channel) is taken out all the same.
    turn = parse_turn({"messages": [{"text": "Et øjeblik"}, {"custom": {"handoff": signal}}], "paused": True})
    assert turn.messages == [{"text": "Et øjeblik"}] and turn.handoff == signal


@pytest.mark.parametrize("field, value", [("confidence", 1e308), ("confidence", float("nan")), ("confidence", True),
                                          ("confidence", "high"), ("summary", 5), ("topic", ["x"]), ("language", "en")])
def test_malformed_signal_fields_become_none(field, value):
    turn = parse_turn({"messages": [], "paused": True, "handoff": {"reason": "citizen_request", field: value}})
    assert turn.handoff[field] is None and turn.handoff["reason"] == "citizen_request"


def test_parse_turn_keeps_the_name_of_each_response():
    turn = parse_turn({"messages": [
        {"text": "Hjalp svaret dig?", "buttons": [{"title": "Ja", "payload": "/affirm"}], "response": "utter_ask_helpful"},
        {"text": "Skriv dit CPR-nummer.", "response": "ask_national_id" + "x" * 300},
        {"text": "Uden navn.", "response": 42},
        {"response": "only_a_name"},
    ], "nlu": {"topic": "payout_inquiry"}})
    assert [m.get("response") for m in turn.messages] == ["utter_ask_helpful", "ask_national_id" + "x" * 113, None]


def test_conversations_stay_on_their_instance_and_only_a_failed_instances_move():
    from handoff_bridge.rasa import RasaClient, rendezvous_order

    urls = [f"http://rasa-{i}:5005" for i in range(4)]
    conversations = [f"conversation-{i}" for i in range(400)]
    home = {c: rendezvous_order(urls, c)[0] for c in conversations}
    # Spread over every instance, and the same answer every time.
    assert set(home.values()) == set(urls)
    assert all(rendezvous_order(urls, c)[0] == home[c] for c in conversations)

    client = RasaClient(",".join(urls), "token", 4.0)
    client._mark_down(urls[1], "test")
    for c in conversations:
        order = client.instances_for(c)
        if home[c] == urls[1]:
            # Moved to its next choice; the failed instance is tried last.
            assert order[0] == rendezvous_order(urls, c)[1] and order[-1] == urls[1]
        else:
            assert order[0] == home[c]


def test_message_ids_survive_the_tracker_stores_masking():
    from handoff_bridge.rasa import new_message_id

    ids = {new_message_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(i.isalpha() and len(i) == 24 for i in ids)


async def test_a_message_sent_again_after_an_instance_did_not_answer_says_so():
    """The next instance takes over the conversation's lock only for a resend (rasa_addons/turns.py)."""
    import asyncio
    import json

    from conftest import free_port

    from handoff_bridge.rasa import RasaClient, rendezvous_order

    bodies = []

    async def answer(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        lengths = [int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")]
        if head.startswith(b"POST"):  # a message; anything else is the health check
            bodies.append(json.loads(await reader.readexactly(lengths[0])))
        reply = json.dumps({"messages": [{"text": "Hej"}], "nlu": {}}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(reply), reply))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    up = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens: refused
    client = RasaClient(f"{up},{down}", "token", 4.0)
    try:
        # A conversation at home on the instance that is down, and one at home on the live one.
        moved = next(f"c-{i}" for i in range(100) if rendezvous_order([up, down], f"c-{i}")[0] == down)
        stayed = next(f"c-{i}" for i in range(100) if rendezvous_order([up, down], f"c-{i}")[0] == up)
        assert (await client.send_message(moved, "hej", {})).messages[0]["text"] == "Hej"
        assert bodies[-1]["failover"] is True
        # The down instance is now known: the next message goes straight to the live one.
        await client.send_message(moved, "igen", {})
        await client.send_message(stayed, "hej", {})
        assert [b.get("failover") for b in bodies[1:]] == [None, None]
    finally:
        await client.close()
        server.close()
