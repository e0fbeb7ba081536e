"""A tracker store that never stores personal data in plain text.

Rasa stores every event as the citizen wrote it. This SQL tracker store masks
identity numbers, phone numbers, e-mail addresses, card numbers and signed
login tokens in every event (user text, parse data, slot values, bot text,
metadata) on the way into the database, a citizen message together with the
earlier ones of the conversation (a number sent in parts is masked in every
part, the stored earlier part rewritten). Within a turn the actions still see
what the citizen wrote, because the processor hands them the in-memory
tracker; from the next turn on only the masked version exists.

Configured in endpoints.yml (`type: rasa_addons.tracker_store.MaskingSQLTrackerStore`)
with the same options as Rasa's SQL tracker store (SQLite or PostgreSQL).
It can also erase: one conversation on request (the bridge channel's DELETE
route) and every conversation inactive for longer than the retention period
(rasa_addons.retention).
"""

from __future__ import annotations

import json
import re
import time
from typing import Iterator

import ddh_privacy
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons.privacy import MASK, mask_structure

# How many earlier citizen messages a new one is read with (a number may be
# sent in parts: "040190", then "-1239").
EARLIER_MESSAGES = 3


# Bot messages that are published content, not composed from the citizen's
# data: a knowledge-base answer (its authorities' phone numbers must survive a
# replay of the turn, rasa_addons/turns.py).
PUBLISHED_CONTENT_KEYS = frozenset({"knowledge_answer"})


def masked_event(event: Event, text: str | None = None) -> Event:
    """The event masked; `text` replaces a user message's masked text."""
    if isinstance(event, BotUttered) and (event.metadata or {}).get("content_key") in PUBLISHED_CONTENT_KEYS:
        return event
    data = mask_structure(event.as_dict())
    if text is not None:
        data["text"] = text
        if isinstance(data.get("parse_data"), dict) and "text" in data["parse_data"]:
            data["parse_data"]["text"] = text
    return Event.from_parameters(data)


# Up to six digits (with single separators) opening a message.
_OPENING_DIGITS = re.compile(r"^[\s\-\u2010-\u2015\u2212\uff0d./]*(\d(?:[\s\-\u2010-\u2015\u2212\uff0d.]?\d){0,5})(?!\d)")


def _rest_of_a_masked_number(stored_before: str, text: str) -> list:
    """The earlier part of a number may already be masked on its own (eight
    digits of a personnummer read as a phone number), so joining the stored
    texts finds nothing: a short digit fragment opening the next message is
    then the rest of that number and is masked too."""
    if not stored_before.rstrip().endswith(MASK):
        return []
    match = _OPENING_DIGITS.match(text)
    if not match:
        return []
    return [ddh_privacy.Finding(match.start(1), match.end(1), "national_id")]


class MaskingSQLTrackerStore(SQLTrackerStore):
    def _additional_events(self, session, tracker: DialogueStateTracker) -> Iterator[Event]:
        new = list(super()._additional_events(session, tracker))
        events = list(tracker.events)
        # The citizen messages each new one is read with: [event, its text as
        # stored or about to be stored], oldest first.
        earlier = [[e, e.text or ""] for e in events[:len(events) - len(new)]
                   if isinstance(e, UserUttered)][-EARLIER_MESSAGES:]
        stored_before = {id(event) for event, _text in earlier}
        texts: dict[int, str] = {}  # new citizen messages: the text to store
        rewrites: dict[int, list] = {}  # stored citizen messages a later part completed
        for event in new:
            if not isinstance(event, UserUttered):
                continue
            reach, findings = ddh_privacy.find_across_messages([text for _e, text in earlier], event.text or "")
            for entry, extra in zip(earlier, reach):
                if not extra:
                    continue
                entry[1] = ddh_privacy.apply_marker(entry[1], extra, MASK)
                if id(entry[0]) in stored_before:
                    rewrites[id(entry[0])] = entry
                else:
                    texts[id(entry[0])] = entry[1]
            if earlier and not findings:
                findings = _rest_of_a_masked_number(earlier[-1][1], event.text or "")
            texts[id(event)] = ddh_privacy.apply_marker(event.text or "", findings, MASK)
            earlier = (earlier + [[event, texts[id(event)]]])[-EARLIER_MESSAGES:]
        for event, text in rewrites.values():
            self._rewrite_stored_text(session, tracker.sender_id, event, text)
        for event in new:
            yield masked_event(event, texts.get(id(event)))

    def _rewrite_stored_text(self, session, sender_id: str, event: UserUttered, text: str) -> None:
        """A stored citizen message that a later one completed into a number."""
        rows = session.query(self.SQLEvent).filter(
            self.SQLEvent.sender_id == sender_id, self.SQLEvent.type_name == UserUttered.type_name,
            self.SQLEvent.timestamp == event.timestamp)
        for row in rows:
            data = json.loads(row.data)
            data["text"] = text
            if isinstance(data.get("parse_data"), dict) and "text" in data["parse_data"]:
                data["parse_data"]["text"] = text
            row.data = json.dumps(data)

    # ------------------------------------------------------------ erasure

    async def delete(self, sender_id: str) -> int:
        """Delete every event of one conversation (the citizen's own wish)."""
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        return deleted

    async def purge_inactive(self, older_than_seconds: float) -> int:
        """Delete conversations whose latest event is older than the period.

        Idempotent, so several instances may run it at the same time.
        """
        import sqlalchemy as sa

        cutoff = time.time() - older_than_seconds
        with self.session_scope() as session:
            stale = (
                sa.select(self.SQLEvent.sender_id)
                .group_by(self.SQLEvent.sender_id)
                .having(sa.func.max(self.SQLEvent.timestamp) < cutoff)
            )
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id.in_(stale.scalar_subquery()))
                .delete(synchronize_session=False)
            )
            session.commit()
        return deleted
