"""A message sent again with the same id (the bridge retrying on another
instance) gets the stored answer, not a second turn; the bridge channel's
health check says when the instance can serve."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

DA = {"language": "da", "municipality": "101"}


def _post(assistant, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{assistant.url}/webhooks/bridge/webhook",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {assistant.token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_message_sent_again_is_answered_once(assistant):
    sender = f"e2e-{uuid.uuid4().hex}"
    # A phone number in the answer: the replay must show it, not the store's mask.
    body = {"sender": sender, "message": "min mitid er spaerret hvad goer jeg", "metadata": DA,
            "message_id": "retriedMessageIdentifier"}
    status, first = _post(assistant, body)
    assert status == 200 and "33 98 00 10" in first["messages"][0]["text"]
    status, again = _post(assistant, body)
    assert status == 200
    assert again == first
    users = [e for e in assistant.tracker(sender)["events"] if e["event"] == "user"]
    assert [e["text"] for e in users] == ["min mitid er spaerret hvad goer jeg"]

    # A new id is a new message.
    status, next_turn = _post(assistant, {**body, "message_id": "anotherMessageIdentifier"})
    assert status == 200
    users = [e for e in assistant.tracker(sender)["events"] if e["event"] == "user"]
    assert len(users) == 2


def test_message_ids_that_the_store_could_alter_are_refused(assistant):
    sender = f"e2e-{uuid.uuid4().hex}"
    for bad in ("12345678901234567890", "short", 42, "x" * 65):
        status, answer = _post(assistant, {"sender": sender, "message": "hej", "metadata": DA, "message_id": bad})
        assert status == 400 and "message_id" in answer["error"]


def test_the_health_check_answers_once_the_model_is_loaded(assistant):
    with urllib.request.urlopen(f"{assistant.url}/webhooks/bridge/", timeout=10) as response:
        assert response.status == 200 and json.loads(response.read()) == {"status": "ok"}
