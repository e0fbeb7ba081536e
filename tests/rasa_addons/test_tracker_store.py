"""The masking tracker store on SQLite and on the real PostgreSQL server: no
identity number, phone number or login token reaches a stored row."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from ddh_privacy.testing import digits_of, leaks, personal_numbers, split_in_two, words
from rasa_addons.tracker_store import MaskingSQLTrackerStore

POSTGRES = dict(dialect="postgresql", host="127.0.0.1", port=5432, db="test", username="postgres")
DOMAIN = Domain.from_dict({"slots": {"note": {"type": "any", "mappings": [{"type": "custom"}]}}})


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        store = MaskingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    else:
        store = MaskingSQLTrackerStore(domain=DOMAIN, **POSTGRES)
    yield store
    store.engine.dispose()


def stored_rows(store, sender_id):
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id"), {"sender": sender_id}
        )
        return [row[0] for row in rows]


def save(store, sender_id, events):
    tracker = DialogueStateTracker.from_events(sender_id, events, slots=DOMAIN.slots)
    asyncio.run(store.save(tracker))
    return tracker


def test_personal_data_is_masked_in_every_stored_event(store):
    sender = f"t-{uuid.uuid4().hex}"
    save(store, sender, [
        ActionExecuted("action_listen"),
        UserUttered(
            "mit cpr er 010203-1234, ring på +45 12 34 56 78 eller skriv til anna@example.dk",
            parse_data={"text": "mit cpr er 010203-1234", "intent": {"name": "payout_inquiry", "confidence": 0.9}},
            metadata={"language": "da", "login_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIwMTAyMDMxMjM0In0.c2ln"},
        ),
        SlotSet("note", "personnummer 19850315-5684"),
        BotUttered("Tak. Jeg sender svaret til 12345678."),
    ])
    rows = "\n".join(stored_rows(store, sender))
    for secret in ("010203-1234", "12 34 56 78", "anna@example.dk", "19850315-5684", "12345678", "eyJhbGci"):
        assert secret not in rows
    assert "payout_inquiry" in rows and '"language": "da"' in rows


def test_the_current_turn_is_untouched_and_the_next_sees_the_masked_text(store):
    sender = f"t-{uuid.uuid4().hex}"
    tracker = save(store, sender, [ActionExecuted("action_listen"), UserUttered("cpr 010203-1234")])
    assert tracker.latest_message.text == "cpr 010203-1234"
    retrieved = asyncio.run(store.retrieve(sender))
    assert retrieved.latest_message.text == "cpr [skjult]"
    assert [e.type_name for e in retrieved.events] == ["action", "user"]


def test_later_saves_append_only_the_new_events(store):
    sender = f"t-{uuid.uuid4().hex}"
    events = [ActionExecuted("action_listen"), UserUttered("hej")]
    save(store, sender, events)
    save(store, sender, events + [BotUttered("Hej!"), ActionExecuted("action_listen")])
    assert [json.loads(row)["event"] for row in stored_rows(store, sender)] == ["action", "user", "bot", "action"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=personal_numbers(), before=words(), after=words())
def test_no_identity_or_phone_number_survives_in_any_stored_row(store, number, before, after):
    """Numbers in every separator and digit form (ddh_privacy.testing)."""
    sender = f"t-{uuid.uuid4().hex}"
    text = f"{before} {number} {after}"
    save(store, sender, [
        ActionExecuted("action_listen"),
        UserUttered(text, parse_data={"text": text, "intent": {"name": "payout_inquiry"}}),
        SlotSet("note", number),
    ])
    digits = digits_of(number)
    for row in stored_rows(store, sender):
        assert number not in row
        assert digits not in "".join(ch for ch in row if ch.isdigit() or ch == "\n")
        assert not leaks(number, json.dumps(json.loads(row), ensure_ascii=False))


def test_a_conversation_can_be_erased(store):
    sender, other = f"t-{uuid.uuid4().hex}", f"t-{uuid.uuid4().hex}"
    save(store, sender, [ActionExecuted("action_listen"), UserUttered("hej")])
    save(store, other, [ActionExecuted("action_listen"), UserUttered("hej")])
    assert asyncio.run(store.delete(sender)) == 2
    assert stored_rows(store, sender) == []
    assert len(stored_rows(store, other)) == 2
    assert asyncio.run(store.delete(sender)) == 0


def test_retention_deletes_only_inactive_conversations(store):
    import time as clock

    old, recent = f"t-{uuid.uuid4().hex}", f"t-{uuid.uuid4().hex}"
    long_ago = clock.time() - 31 * 24 * 3600
    save(store, old, [ActionExecuted("action_listen", timestamp=long_ago), UserUttered("hej", timestamp=long_ago)])
    save(store, recent, [
        ActionExecuted("action_listen", timestamp=long_ago),
        UserUttered("hej igen"),  # active today: the whole conversation stays
    ])
    asyncio.run(store.purge_inactive(30 * 24 * 3600))
    assert stored_rows(store, old) == []
    assert len(stored_rows(store, recent)) == 2


@pytest.mark.parametrize("first, second", [("min cpr er 040190", "-1239"), ("0401", "90 1239"), ("ring +45 12 34", "56 78")])
def test_a_number_sent_in_two_messages_is_masked_in_both(store, first, second):
    sender = f"t-{uuid.uuid4().hex}"
    events = [ActionExecuted("action_listen"), UserUttered(first, parse_data={"text": first}),
              BotUttered("Tak."), ActionExecuted("action_listen")]
    tracker = save(store, sender, events)
    assert first in "\n".join(stored_rows(store, sender))  # alone, the first part is no number
    save(store, sender, list(asyncio.run(store.retrieve(sender)).events) +
         [UserUttered(second, parse_data={"text": second})])
    rows = [json.loads(row) for row in stored_rows(store, sender)]
    users = [row for row in rows if row["event"] == "user"]
    assert len(users) == 2 and tracker.latest_message.text == first
    for row in users:
        assert "[skjult]" in row["text"] and row["parse_data"]["text"] == row["text"]
    whole = digits_of(first + second)
    assert not leaks(whole[-6:], "\n".join(json.dumps(row) for row in users))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=split_in_two(), before=words(), after=words())
def test_no_number_split_over_two_turns_survives(store, parts, before, after):
    number, head, tail = parts
    sender = f"t-{uuid.uuid4().hex}"
    first, second = f"{before} {head}", f"{tail} {after}"
    save(store, sender, [ActionExecuted("action_listen"), UserUttered(first), ActionExecuted("action_listen")])
    save(store, sender, list(asyncio.run(store.retrieve(sender)).events) + [UserUttered(second)])
    texts = [json.loads(row)["text"] for row in stored_rows(store, sender) if json.loads(row)["event"] == "user"]
    assert digits_of(texts[0][len(before) + 1:] + texts[1][:len(tail)]) == "", texts
