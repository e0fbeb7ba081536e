"""A turn under the conversation's lock, and the lock a killed instance leaves behind."""

import asyncio
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain

from rasa_addons import turns


class Processor:
    def __init__(self):
        self.handled = []

    async def handle_message(self, message):
        self.handled.append(message.text)
        return [{"recipient_id": message.sender_id, "text": "Hej"}]


def assistant():
    return SimpleNamespace(lock_store=InMemoryLockStore(), tracker_store=InMemoryTrackerStore(Domain.empty()),
                           processor=Processor())


def held_by_a_killed_instance(agent, sender):
    # A ticket issued and never given back: the instance died during its turn.
    agent.lock_store.issue_ticket(sender, lock_lifetime=60)


async def test_a_message_waits_while_another_turn_holds_its_conversation():
    agent = assistant()
    held_by_a_killed_instance(agent, "c1")
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(turns.handle(agent, UserMessage("hej", sender_id="c1"), None), 0.5)
    assert agent.processor.handled == []


async def test_a_message_sent_again_after_its_instance_did_not_answer_takes_over_the_lock():
    agent = assistant()
    held_by_a_killed_instance(agent, "c1")
    held_by_a_killed_instance(agent, "c2")
    turn = await asyncio.wait_for(
        turns.handle(agent, UserMessage("hej", sender_id="c1"), "hQzKrWbTyLmNaPdEsVgXcUoF", failover=True), 5)
    assert [m["text"] for m in turn.messages] == ["Hej"] and agent.processor.handled == ["hej"]
    # Only that conversation's lock is taken over.
    assert agent.lock_store.get_lock("c2") is not None and agent.lock_store.get_lock("c2").tickets
