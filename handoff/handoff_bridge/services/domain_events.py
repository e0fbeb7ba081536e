"""Domain events: what a state change did, recorded in its transaction and
published once it is committed.

A service changes state inside `unit_of_work(deps)` and records one event per
change (`uow.record(ChatClosed(...))`). When the transaction commits, the
events are handed to the listeners below, each of which maps an event to what
one audience hears live: the conversation's channel (citizen and agent), the
channel of the agent concerned, the channel all agents listen to, and the
coalesced queue-position broadcast. A transaction that rolls back publishes
nothing. The payloads are the fan-out's contract with the widget and the
console (docs/handoff/): keep them as they are.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

from ..db.models import MODE_AGENT, MODE_BOT, MODE_CLOSED, MODE_QUEUED, Message
from ..events import AGENTS_CHANNEL, agent_channel, conv_channel
from .messages import message_to_dict


@dataclass(frozen=True)
class MessageStored:
    message: Message


@dataclass(frozen=True)
class Escalated:
    conversation_id: str
    escalation_id: int
    queue: str
    language: str
    municipality: str
    reason: str
    summary: str | None
    topic: str | None
    confidence: float | None
    enqueued_at: dt.datetime


@dataclass(frozen=True)
class ChatClaimed:
    conversation_id: str
    escalation_id: int
    queue: str
    agent_id: int
    agent_name: str
    language: str
    municipality: str
    reason: str
    summary: str | None


@dataclass(frozen=True)
class ChatTransferredToQueue:
    conversation_id: str
    escalation_id: int
    queue: str
    from_agent_id: int
    language: str
    municipality: str
    reason: str
    summary: str | None


@dataclass(frozen=True)
class ChatTransferredToAgent:
    conversation_id: str
    escalation_id: int
    queue: str
    from_agent_id: int
    to_agent_id: int


@dataclass(frozen=True)
class ChatClosed:
    conversation_id: str
    agent_id: int


@dataclass(frozen=True)
class HandedBack:
    conversation_id: str
    agent_id: int


@dataclass(frozen=True)
class TimedOut:
    conversation_id: str
    reason: str
    mode_before: str
    # The agent holding the chat (agent chats stay with the agent), else None.
    agent_id: int | None
    # The queue the citizen was waiting in, when the wait was abandoned.
    abandoned_queue: str | None


@dataclass(frozen=True)
class AgentStatusChanged:
    agent_id: int
    status: str


@dataclass(frozen=True)
class CallbackTaken:
    callback_id: int
    agent_id: int


@dataclass(frozen=True)
class CallbackDone:
    callback_id: int


# --- listeners: one audience each ------------------------------------------------------------

def _status(conversation_id: str, mode: str, **extra) -> tuple[str, dict]:
    return conv_channel(conversation_id), {"type": "status", "conversation_id": conversation_id, "mode": mode, **extra}


def to_conversation(event) -> list[tuple[str, dict]]:
    """The conversation's channel: its citizen and the agent with the chat."""
    if isinstance(event, MessageStored):
        return [(conv_channel(event.message.conversation_id), message_to_dict(event.message, for_agent=True))]
    if isinstance(event, (Escalated, ChatTransferredToQueue)):
        return [_status(event.conversation_id, MODE_QUEUED)]
    if isinstance(event, ChatClaimed):
        return [_status(event.conversation_id, MODE_AGENT, agent={"display_name": event.agent_name})]
    if isinstance(event, ChatClosed):
        return [_status(event.conversation_id, MODE_CLOSED, reason="agent_closed", rating_requested=True)]
    if isinstance(event, HandedBack):
        return [_status(event.conversation_id, MODE_BOT)]
    if isinstance(event, TimedOut) and event.mode_before != MODE_AGENT:
        return [_status(event.conversation_id, MODE_CLOSED, reason=event.reason)]
    return []


def _released(agent_id: int, conversation_id: str, reason: str) -> tuple[str, dict]:
    return agent_channel(agent_id), {"type": "chat_released", "conversation_id": conversation_id, "reason": reason}


def to_agent_concerned(event) -> list[tuple[str, dict]]:
    """The channel of the agent who gets or loses the chat."""
    if isinstance(event, ChatClaimed):
        return [(agent_channel(event.agent_id), {
            "type": "chat_assigned", "escalation_id": event.escalation_id, "conversation_id": event.conversation_id,
            "queue": event.queue, "language": event.language, "municipality": event.municipality,
            "reason": event.reason, "summary": event.summary})]
    if isinstance(event, ChatTransferredToQueue):
        return [_released(event.from_agent_id, event.conversation_id, "transferred")]
    if isinstance(event, ChatTransferredToAgent):
        return [_released(event.from_agent_id, event.conversation_id, "transferred"),
                (agent_channel(event.to_agent_id), {
                    "type": "chat_assigned", "escalation_id": event.escalation_id,
                    "conversation_id": event.conversation_id, "queue": event.queue,
                    "transferred_from": event.from_agent_id})]
    if isinstance(event, ChatClosed):
        return [_released(event.agent_id, event.conversation_id, "closed")]
    if isinstance(event, HandedBack):
        return [_released(event.agent_id, event.conversation_id, "handed_back")]
    return []


def to_all_agents(event) -> list[tuple[str, dict]]:
    """The channel every agent's console listens to: the queues' waiting chats."""
    if isinstance(event, Escalated):
        return [(AGENTS_CHANNEL, {
            "type": "chat_waiting", "escalation_id": event.escalation_id, "conversation_id": event.conversation_id,
            "queue": event.queue, "language": event.language, "municipality": event.municipality,
            "reason": event.reason, "summary": event.summary, "topic": event.topic,
            "confidence": event.confidence, "enqueued_at": event.enqueued_at.isoformat()})]
    if isinstance(event, ChatClaimed):
        return [(AGENTS_CHANNEL, {
            "type": "chat_claimed", "escalation_id": event.escalation_id, "conversation_id": event.conversation_id,
            "queue": event.queue, "agent_id": event.agent_id})]
    if isinstance(event, ChatTransferredToQueue):
        return [(AGENTS_CHANNEL, {
            "type": "chat_waiting", "escalation_id": event.escalation_id, "conversation_id": event.conversation_id,
            "queue": event.queue, "language": event.language, "municipality": event.municipality,
            "reason": event.reason, "summary": event.summary, "transferred": True})]
    if isinstance(event, TimedOut):
        return [(AGENTS_CHANNEL, {"type": "citizen_timeout", "conversation_id": event.conversation_id,
                                  "reason": event.reason, "agent_id": event.agent_id})]
    if isinstance(event, AgentStatusChanged):
        return [(AGENTS_CHANNEL, {"type": "agent_status", "agent_id": event.agent_id, "status": event.status})]
    if isinstance(event, CallbackTaken):
        return [(AGENTS_CHANNEL, {"type": "callback_taken", "callback_id": event.callback_id,
                                  "agent_id": event.agent_id})]
    if isinstance(event, CallbackDone):
        return [(AGENTS_CHANNEL, {"type": "callback_done", "callback_id": event.callback_id})]
    return []


def changed_queue(event) -> str | None:
    """The queue whose waiting citizens get new positions."""
    if isinstance(event, (Escalated, ChatClaimed, ChatTransferredToQueue)):
        return event.queue
    if isinstance(event, TimedOut):
        return event.abandoned_queue
    return None


CHANNEL_LISTENERS = (to_conversation, to_agent_concerned, to_all_agents)


async def publish_events(deps, events: list) -> None:
    """After commit: every event to every listener, in the order recorded, as one batch."""
    batch = [pair for event in events for listener in CHANNEL_LISTENERS for pair in listener(event)]
    if batch:
        await deps.bus.publish_many(batch)
    for event in events:
        queue_name = changed_queue(event)
        if queue_name:
            deps.queue_changed(queue_name)


# --- unit of work --------------------------------------------------------------------------------

EVENTS_KEY = "domain_events"


class UnitOfWork:
    """One transaction on `session` and the domain events it records (kept in session.info)."""

    def __init__(self, deps, session):
        self.deps = deps
        self.session = session
        session.info[EVENTS_KEY] = []

    def record(self, *events) -> None:
        self.session.info[EVENTS_KEY].extend(events)

    async def publish(self) -> None:
        """Publish what was recorded (once; the transaction must have committed)."""
        events = self.session.info.pop(EVENTS_KEY, [])
        await publish_events(self.deps, events)


@contextlib.asynccontextmanager
async def unit_of_work(deps, *, publish: bool = True) -> AsyncIterator[UnitOfWork]:
    """A session in a transaction; on leaving, commit, then publish the events recorded.

    An exception rolls the transaction back and nothing is published.
    publish=False: the caller does something after the commit first and then
    calls `uow.publish()` itself.
    """
    async with deps.sessionmaker() as session:
        uow = UnitOfWork(deps, session)
        async with session.begin():
            yield uow
    if publish:
        await uow.publish()
