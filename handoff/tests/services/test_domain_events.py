"""Domain events: recorded in the unit of work, published once after commit, never after a rollback."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from handoff_bridge.db.models import Tag
from handoff_bridge.resources import open_resources
from handoff_bridge.services.domain_events import (
    AgentStatusChanged,
    CallbackDone,
    CallbackTaken,
    ChatClaimed,
    ChatClosed,
    ChatTransferredToAgent,
    ChatTransferredToQueue,
    Escalated,
    HandedBack,
    TimedOut,
    publish_events,
    unit_of_work,
)


@pytest.fixture
async def deps(backend_settings):
    from conftest import clean_tables

    await clean_tables(backend_settings)
    async with open_resources(backend_settings, fanout=False) as deps:
        yield deps


@pytest.fixture
def published(deps) -> list:
    """What reaches the bus, batch by batch, and which queues got new positions."""
    batches = []

    async def publish_many(events):
        # Whatever a listener reads on hearing the event is already committed.
        async with deps.sessionmaker() as session:
            committed = set(await session.scalars(select(Tag.code)))
        batches.append((events, committed))

    deps.bus.publish_many = publish_many
    deps.queue_changed = lambda name: batches.append(("queue_changed", name))
    return batches


async def test_events_are_published_once_after_the_commit(deps, published):
    async with unit_of_work(deps) as uow:
        uow.session.add(Tag(code="domain-events-test", labels={"da": "x", "sv": "x"}, active=True))
        uow.record(ChatClosed(conversation_id="c1", agent_id=7))
        assert published == []
    (events, committed), = published
    assert "domain-events-test" in committed
    assert events == [
        ("conv.c1", {"type": "status", "conversation_id": "c1", "mode": "closed", "reason": "agent_closed",
                     "rating_requested": True}),
        ("agent.7", {"type": "chat_released", "conversation_id": "c1", "reason": "closed"}),
    ]


async def test_a_rollback_publishes_nothing(deps, published):
    with pytest.raises(RuntimeError):
        async with unit_of_work(deps) as uow:
            uow.session.add(Tag(code="rolled-back", labels={"da": "x", "sv": "x"}, active=True))
            uow.record(Escalated(conversation_id="c1", escalation_id=1, queue="da-general", language="da",
                                 municipality="101", reason="citizen_request", summary=None, topic=None,
                                 confidence=None, enqueued_at=dt.datetime(2026, 1, 5, 9, 0)))
            raise RuntimeError("the change fails")
    assert published == []
    async with deps.sessionmaker() as session:
        assert await session.scalar(select(Tag).where(Tag.code == "rolled-back")) is None


async def test_publishing_can_wait_for_work_after_the_commit(deps, published):
    async with unit_of_work(deps, publish=False) as uow:
        uow.record(HandedBack(conversation_id="c2", agent_id=3))
    assert published == []
    await uow.publish()
    await uow.publish()  # once only
    (events, _committed), = published
    assert events == [("conv.c2", {"type": "status", "conversation_id": "c2", "mode": "bot"}),
                      ("agent.3", {"type": "chat_released", "conversation_id": "c2", "reason": "handed_back"})]


async def test_each_event_reaches_its_audiences_with_the_fanout_payloads(deps, published):
    enqueued = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)
    await publish_events(deps, [
        Escalated(conversation_id="c1", escalation_id=1, queue="da-general", language="da", municipality="101",
                  reason="citizen_request", summary="s", topic="mitid", confidence=0.5, enqueued_at=enqueued),
        ChatClaimed(conversation_id="c1", escalation_id=1, queue="da-general", agent_id=7, agent_name="Anna",
                    language="da", municipality="101", reason="citizen_request", summary="s"),
        ChatTransferredToQueue(conversation_id="c1", escalation_id=1, queue="sv-general", from_agent_id=7,
                               language="da", municipality="101", reason="citizen_request", summary="s"),
        ChatTransferredToAgent(conversation_id="c1", escalation_id=1, queue="da-general", from_agent_id=7,
                               to_agent_id=8),
        TimedOut(conversation_id="c1", reason="citizen_inactive", mode_before="queued", agent_id=None,
                 abandoned_queue="da-general"),
        TimedOut(conversation_id="c1", reason="citizen_inactive", mode_before="agent", agent_id=8,
                 abandoned_queue=None),
    ])
    (events, _committed), *queue_changes = published
    assert events == [
        ("conv.c1", {"type": "status", "conversation_id": "c1", "mode": "queued"}),
        ("agents", {"type": "chat_waiting", "escalation_id": 1, "conversation_id": "c1", "queue": "da-general",
                    "language": "da", "municipality": "101", "reason": "citizen_request", "summary": "s",
                    "topic": "mitid", "confidence": 0.5, "enqueued_at": "2026-01-05T09:00:00+00:00"}),
        ("conv.c1", {"type": "status", "conversation_id": "c1", "mode": "agent", "agent": {"display_name": "Anna"}}),
        ("agent.7", {"type": "chat_assigned", "escalation_id": 1, "conversation_id": "c1", "queue": "da-general",
                     "language": "da", "municipality": "101", "reason": "citizen_request", "summary": "s"}),
        ("agents", {"type": "chat_claimed", "escalation_id": 1, "conversation_id": "c1", "queue": "da-general",
                    "agent_id": 7}),
        ("conv.c1", {"type": "status", "conversation_id": "c1", "mode": "queued"}),
        ("agent.7", {"type": "chat_released", "conversation_id": "c1", "reason": "transferred"}),
        ("agents", {"type": "chat_waiting", "escalation_id": 1, "conversation_id": "c1", "queue": "sv-general",
                    "language": "da", "municipality": "101", "reason": "citizen_request", "summary": "s",
                    "transferred": True}),
        ("agent.7", {"type": "chat_released", "conversation_id": "c1", "reason": "transferred"}),
        ("agent.8", {"type": "chat_assigned", "escalation_id": 1, "conversation_id": "c1", "queue": "da-general",
                     "transferred_from": 7}),
        ("conv.c1", {"type": "status", "conversation_id": "c1", "mode": "closed", "reason": "citizen_inactive"}),
        ("agents", {"type": "citizen_timeout", "conversation_id": "c1", "reason": "citizen_inactive",
                    "agent_id": None}),
        ("agents", {"type": "citizen_timeout", "conversation_id": "c1", "reason": "citizen_inactive",
                    "agent_id": 8}),
    ]
    assert queue_changes == [("queue_changed", "da-general"), ("queue_changed", "da-general"),
                             ("queue_changed", "sv-general"), ("queue_changed", "da-general")]


async def test_status_and_callback_events_reach_all_agents(deps, published):
    await publish_events(deps, [AgentStatusChanged(agent_id=7, status="available"),
                                CallbackTaken(callback_id=4, agent_id=7), CallbackDone(callback_id=4)])
    (events, _committed), = published
    assert events == [("agents", {"type": "agent_status", "agent_id": 7, "status": "available"}),
                      ("agents", {"type": "callback_taken", "callback_id": 4, "agent_id": 7}),
                      ("agents", {"type": "callback_done", "callback_id": 4})]
