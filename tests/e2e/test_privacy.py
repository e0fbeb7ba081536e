"""Privacy end to end: the tracker store and the logs of the running servers
hold no personal data, and a conversation can be erased."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid

import pytest

CPR = "010203-1234"


def erase(assistant, sender: str, token: str = None) -> int:
    request = urllib.request.Request(
        f"{assistant.url}/webhooks/bridge/conversations/{sender}",
        method="DELETE",
        headers={"Authorization": f"Bearer {token or assistant.token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_conversation_is_erased_on_request(assistant):
    sender = f"e2e-{uuid.uuid4().hex}"
    assistant.send(sender, "hvordan får jeg nyt sundhedskort", {"language": "da"})
    assert erase(assistant, sender, token="wrong") == 401
    assert erase(assistant, sender) == 204
    assert [e for e in assistant.tracker(sender)["events"] if e["event"] == "user"] == []
    assert erase(assistant, sender) == 404


def test_no_identity_number_in_the_tracker_store_or_the_logs(assistant):
    sender = f"e2e-{uuid.uuid4().hex}"
    assistant.send(sender, f"mit cpr-nummer er {CPR}, hvornår kommer mine penge", {"language": "da"})
    assistant.send(sender, f"{CPR}", {"language": "da"})
    events = assistant.tracker(sender)["events"]
    assert CPR not in str(events) and CPR.replace("-", "") not in str(events)
    for log in ("rasa.log", "actions.log"):
        text = (assistant.workdir / log).read_text()
        assert CPR not in text and CPR.replace("-", "") not in text
