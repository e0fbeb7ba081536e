#!/usr/bin/env python3
"""What Rasa's event broker (Pika / RabbitMQ) would cost and give the insight reports.

Loads the trained assistant (models/ddh.tar.gz) in-process with Rasa's
PikaEventBroker on a queue of its own at RabbitMQ (default 127.0.0.1:5672,
guest/guest), and plays --conversations short conversations (a question, the
"did it help?" answer, thanks). It measures:

* Rasa's own time per citizen message with and without the broker;
* how many events and bytes the broker publishes per citizen message, and of
  which kinds (what a consumer would have to read and store);
* how fast one aio-pika consumer reads them back;
* what the events say that the bridge's tables do not (the response each bot
  message came from, the actions run) and what they cannot say (escalations,
  waits, ratings, tags happen in the bridge).

Run with the assistant's virtualenv from the repository root:
`.venv/bin/python bench/event_broker.py --help`. The queue is deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import secrets
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = [
    ("Hvordan får jeg MitID?", "Hej, hvordan flytter jeg?", "Hvordan fornyer jeg mit pas?"),
    ("/affirm", "/deny"),
    ("tak",),
]


def timed_ms(values: list[float]) -> dict:
    values = sorted(values)
    return {"n": len(values), "median_ms": round(statistics.median(values) * 1000, 1),
            "p90_ms": round(values[int(0.9 * (len(values) - 1))] * 1000, 1)}


def inner_store(tracker_store):
    # Rasa wraps the configured store in a fail-safe wrapper.
    return getattr(tracker_store, "_tracker_store", tracker_store)


async def play(agent, conversations: int, prefix: str) -> list[float]:
    times = []
    for i in range(conversations):
        sender = f"{prefix}-{i}"
        for options in SCRIPT:
            text = options[i % len(options)]
            t0 = time.perf_counter()
            await agent.handle_text(text, sender_id=sender)
            times.append(time.perf_counter() - t0)
    return times


async def main_async(args) -> dict:
    import aio_pika
    import rasa.shared.core.events  # noqa: F401 - the Pika broker uses it without importing it
    from rasa.core.agent import load_agent
    from rasa.core.brokers.pika import PikaEventBroker
    from rasa.core.tracker_store import InMemoryTrackerStore

    queue_name = f"insight_bench_{secrets.token_hex(3)}"
    t0 = time.perf_counter()
    agent = await load_agent(model_path=str(args.model))
    load_seconds = time.perf_counter() - t0
    store = InMemoryTrackerStore(agent.domain)
    agent.tracker_store = store
    agent.processor.tracker_store = store

    await play(agent, 3, "warm")  # the first predictions build caches
    without = await play(agent, args.conversations, "plain")

    # What the broker would publish: every event of those conversations, as Rasa streams them.
    bodies = []
    for i in range(args.conversations):
        tracker = await store.retrieve(f"plain-{i}")
        for event in tracker.events:
            bodies.append({"sender_id": tracker.sender_id, **event.as_dict()})

    broker = PikaEventBroker(args.host, args.user, args.password, port=args.port, queues=[queue_name],
                             raise_on_failure=True)
    await broker.connect()
    store.event_broker = broker
    with_broker = await play(agent, args.conversations, "broker")
    t0 = time.perf_counter()
    for body in bodies:
        broker.publish(body)
    await asyncio.sleep(0)
    while any(not t.done() for t in asyncio.all_tasks() if "_publish" in repr(t.get_coro())):
        await asyncio.sleep(0.01)
    publish_seconds = time.perf_counter() - t0
    await asyncio.sleep(0.5)
    await broker.close()

    connection = await aio_pika.connect(f"amqp://{args.user}:{args.password}@{args.host}:{args.port}/")
    received = []
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True)
        t0 = time.perf_counter()
        while True:
            message = await queue.get(no_ack=True, fail=False)
            if message is None:
                break
            received.append(message.body)
        consume_seconds = time.perf_counter() - t0
        await queue.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()

    kinds = collections.Counter()
    actions = collections.Counter()
    responses = collections.Counter()
    for event in bodies:
        kinds[event.get("event")] += 1
        if event.get("event") == "action":
            actions[event.get("name")] += 1
        if event.get("event") == "bot":
            responses[(event.get("metadata") or {}).get("utter_action")] += 1
    citizen_messages = len(without)
    total_bytes = sum(len(json.dumps(b)) for b in bodies)
    return {
        "model": str(args.model),
        "model_load_seconds": round(load_seconds, 1),
        "citizen_messages": citizen_messages,
        "rasa_per_message_without_broker": timed_ms(without),
        "rasa_per_message_with_broker": timed_ms(with_broker),
        "events_per_citizen_message": round(len(bodies) / citizen_messages, 1),
        "json_bytes_per_citizen_message": round(total_bytes / citizen_messages),
        "events_published_and_received": [len(bodies), len(received)],
        "publish_events_per_second": round(len(bodies) / publish_seconds) if publish_seconds else None,
        "consumer_events_per_second": round(len(received) / consume_seconds) if consume_seconds else None,
        "event_kinds": dict(kinds.most_common()),
        "actions": dict(actions.most_common(12)),
        "bot_messages_by_response": {str(k): v for k, v in responses.most_common(12)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "ddh.tar.gz")
    parser.add_argument("--conversations", type=int, default=60)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5672)
    parser.add_argument("--user", default=os.environ.get("RABBITMQ_USER", "guest"))
    parser.add_argument("--password", default=os.environ.get("RABBITMQ_PASSWORD", "guest"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(asyncio.run(main_async(args)), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
