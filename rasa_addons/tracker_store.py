"""A tracker store that never stores personal data in plain text.

Rasa stores every event as the citizen wrote it. This SQL tracker store masks
identity numbers, phone numbers, e-mail addresses, card numbers and signed
login tokens in every event (user text, parse data, slot values, bot text,
metadata) on the way into the database. Within a turn the actions still see
what the citizen wrote, because the processor hands them the in-memory
tracker; from the next turn on only the masked version exists.

Configured in endpoints.yml (`type: rasa_addons.tracker_store.MaskingSQLTrackerStore`)
with the same options as Rasa's SQL tracker store (SQLite or PostgreSQL).
It can also erase: one conversation on request (the bridge channel's DELETE
route) and every conversation inactive for longer than the retention period
(rasa_addons.retention).
"""

from __future__ import annotations

import time
from typing import Iterator

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons.privacy import mask_structure


def masked_event(event: Event) -> Event:
    return Event.from_parameters(mask_structure(event.as_dict()))


class MaskingSQLTrackerStore(SQLTrackerStore):
    def _additional_events(self, session, tracker: DialogueStateTracker) -> Iterator[Event]:
        for event in super()._additional_events(session, tracker):
            yield masked_event(event)

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
