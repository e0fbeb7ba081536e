"""One citizen message through the assistant, safe to retry on any instance.

Several Rasa instances share the tracker store and the lock store, and the
bridge sends a message again to another instance when the first one failed
(handoff_bridge/rasa.py). The instance may have died after it stored the turn
but before its answer reached the bridge; running the message again would
answer it twice. So a message carries the bridge's `message_id`, and under
the conversation's lock the turn first checks whether the latest message of
the conversation already has that id. If so, the stored answer is replayed
instead of running the turn again.

The lock is held for at most TURN_LOCK_SECONDS (RASA_TURN_LOCK_SECONDS): a
dead instance's lock expires that soon, so its conversations move on within
the bridge's 4 s bound. A turn takes well under a second; one that outlasts
the lock may overlap with the next message of its conversation, which the
bridge sends only after this one was answered or given up.

A message the bridge sends again because the instance it went to first did
not answer (refused, dropped the connection: killed) comes `failover`. That
instance may have died holding the conversation's lock for this very message;
the bridge sends a conversation's messages one at a time, so the lock guards
nothing any more and is taken over at once instead of waiting for it to
expire. The stored-answer check above still decides whether the message runs.
"""

from __future__ import annotations

import json
import logging
import os
import re
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Dict, List, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered, UserUttered

from rasa_addons import rasa_patches
from rasa_addons.privacy import MASK

logger = logging.getLogger(__name__)

TURN_LOCK_SECONDS = float(os.environ.get("RASA_TURN_LOCK_SECONDS", "3"))
# How often a waiting turn looks at the lock (Rasa's default is 1 s).
LOCK_POLL_SECONDS = 0.05
# Letters only: the tracker store masks digit runs in everything it stores,
# and the id must come back from it exactly as it was sent.
MESSAGE_ID = re.compile(r"^[A-Za-z_-]{16,64}$")
# As in the bridge channel (rasa_addons/channels/bridge.py).
MAX_RESPONSE_NAME_CHARS = 128
# The parts of a bot message the output channel passes on.
MESSAGE_KEYS = ("text", "buttons", "image", "attachment", "custom", "elements", "quick_replies")


@dataclass
class Turn:
    messages: List[Dict[Text, Any]] = field(default_factory=list)
    parse_data: Dict[Text, Any] = field(default_factory=dict)
    tracker: Any = None
    replayed: bool = False


@asynccontextmanager
async def conversation_lock(agent: Any, sender_id: Text) -> AsyncIterator[None]:
    """The conversation's lock, shared by every instance (the lock store)."""
    async with agent.lock_store.lock(
        sender_id, lock_lifetime=TURN_LOCK_SECONDS, wait_time_in_seconds=LOCK_POLL_SECONDS
    ):
        yield


def _sql_store(tracker_store: Any) -> Optional[Any]:
    store = getattr(tracker_store, "_tracker_store", tracker_store)
    return store if hasattr(store, "SQLEvent") and hasattr(store, "session_scope") else None


async def latest_message_id(tracker_store: Any, sender_id: Text) -> Optional[Text]:
    """The id of the conversation's latest citizen message (one indexed row, not the tracker)."""
    store = _sql_store(tracker_store)
    if store is None:
        tracker = await tracker_store.retrieve(sender_id)
        latest = tracker.latest_message if tracker is not None else None
        return latest.message_id if latest is not None else None
    with store.session_scope() as session:
        row = (
            session.query(store.SQLEvent.data)
            .filter(store.SQLEvent.sender_id == sender_id, store.SQLEvent.type_name == UserUttered.type_name)
            .order_by(store.SQLEvent.id.desc())
            .limit(1)
            .first()
        )
    return json.loads(row.data).get("message_id") if row is not None else None


async def _stored_answer(agent: Any, sender_id: Text, message_id: Text) -> Turn:
    """The answer the assistant gave to `message_id`, from the tracker store."""
    tracker = await agent.tracker_store.retrieve(sender_id)
    events = list(tracker.events) if tracker is not None else []
    start = max(
        (i for i, e in enumerate(events) if isinstance(e, UserUttered) and e.message_id == message_id),
        default=None,
    )
    turn = Turn(tracker=tracker, replayed=True)
    if start is None:
        return turn
    turn.parse_data = dict(events[start].parse_data or {})
    for event in events[start + 1:]:
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            turn.messages.append(await _replayed_message(agent, sender_id, event, tracker))
    return turn


async def _replayed_message(agent: Any, sender_id: Text, event: BotUttered, tracker: Any) -> Dict[Text, Any]:
    stored = {"text": event.text, **(event.data or {})}
    response = (event.metadata or {}).get("utter_action")
    if response and MASK in (event.text or ""):
        # The store masked digits in a written answer (an authority's phone
        # number): render the response again rather than relay the mask.
        rendered = await agent.nlg.generate(response, tracker, "bridge")
        if rendered:
            stored = rendered
    message = {key: stored.get(key) for key in MESSAGE_KEYS if stored.get(key) not in (None, "", [])}
    # Named as the bridge channel's collector names a message sent the first time.
    name = response or (event.metadata or {}).get("content_key")
    if isinstance(name, str):
        message["response"] = name[:MAX_RESPONSE_NAME_CHARS]
    return {"recipient_id": sender_id, **message}


async def handle(agent: Any, message: UserMessage, message_id: Optional[Text], failover: bool = False) -> Turn:
    """Run `message` (already parsed: message.parse_data) unless it was answered before.

    Returns the bot's messages, what it understood and the tracker after the turn.
    `failover`: the message comes from an instance that did not answer; its lock is void.
    """
    sender = message.sender_id
    if failover:
        logger.info("message of %s comes from an instance that did not answer; taking over its lock", sender)
        agent.lock_store.delete_lock(sender)
    async with conversation_lock(agent, sender):
        if message_id and await latest_message_id(agent.tracker_store, sender) == message_id:
            logger.info("message of %s was answered before; replaying the stored answer", sender)
            return await _stored_answer(agent, sender, message_id)
        with rasa_patches.recording_turn(sender) as record:
            messages = await agent.processor.handle_message(message)
        # Without the serving patches the saved tracker is not recorded: read it back.
        tracker = record.tracker if record.tracker is not None else await agent.tracker_store.retrieve(sender)
        return Turn(messages=list(messages or []), parse_data=message.parse_data or {}, tracker=tracker)
