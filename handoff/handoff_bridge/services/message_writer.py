"""Group commit for citizen messages, the relay's hot path.

Every citizen message must be stored, with its sequence number, before it is
acknowledged. One transaction per message spends most of the instance's CPU
and round trips on BEGIN/COMMIT and statement overhead, so the messages that
arrive while a transaction is running are written together in the next one.
No message waits for a timer; a batch is simply whatever is pending when the
previous one has committed, so an idle instance writes each message at once.

PostgreSQL: one statement per batch (lock the conversation rows in id order,
take the sequence numbers, insert the messages), between BEGIN and COMMIT,
sent on the asyncpg connection itself: three round trips per batch.
SQLite: the same in two Core statements (it has no round trips to save).

Each caller still gets its own answer: the stored message, a duplicate (its
client_msg_id was stored before, e.g. a resend after a lost ack), a closed or
unknown conversation (LookupError), or the database error. Duplicates never
cost a sequence number: a batch that meets one is rolled back and written
again without it.

Masking: each text is masked in the light of the conversation's previous
citizen messages (ddh_privacy.find_across_messages), so a number sent in
parts (`040190`, then `-1239`) is masked in every part: the stored earlier
part is rewritten in the same transaction, and subscribers get a
`message_masked` event for it. The last few citizen messages of each
conversation are kept in this instance's memory for a few minutes (bounded
in count and size). With several instances, the parts are joined when the
same instance writes them, as it does for all messages of one citizen
websocket; parts that arrive through different instances (a reconnect in
between) are each masked on their own.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import json
import logging
import time
from dataclasses import dataclass

import ddh_privacy
from sqlalchemy import String, bindparam, case, column, func, select, tuple_, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from ..db.models import Conversation, Message, UTCDateTime, utcnow
from ..errors import Unavailable
from ..privacy import MARKER, mask_in_json

log = logging.getLogger("handoff.writer")

MAX_BATCH = 500
# Bounds memory and wait when the database falls behind: beyond this many
# messages waiting to be written, new ones are refused at once (503).
MAX_PENDING = 10_000
# A batch meets duplicates at most once per resend race; more attempts mean
# something else is wrong, and the remaining messages fail with the error.
MAX_ATTEMPTS = 3

# citizen_seen_at is indexed (the sweeper looks for citizens who left): moving
# it on every message would make every row update a non-HOT one with new index
# entries. It only needs to be this fresh (the leave grace is minutes).
SEEN_RESOLUTION_SECONDS = 5

# The previous citizen messages a new one is read with: how many, for how
# long, in how many conversations, and up to what length (a longer message is
# masked on its own).
TAIL_MESSAGES = 3
TAIL_SECONDS = 600
TAIL_CONVERSATIONS = 20_000
TAIL_MAX_CHARS = 300

_NOW = bindparam("p_now", type_=UTCDateTime())
_SEEN_BEFORE = bindparam("p_seen_before", type_=UTCDateTime())
_SET_ON_CITIZEN_MESSAGE = {
    "last_message_at": _NOW,
    "citizen_active_at": _NOW,
    "citizen_seen_at": case((Conversation.citizen_seen_at < _SEEN_BEFORE, _NOW), else_=Conversation.citizen_seen_at),
    "timed_out_at": None,
    "updated_at": _NOW,
}


def _sqlite_sequence_update():
    """UPDATE ... FROM <(conversation id, message count) pairs> RETURNING the new last_seq.

    The pairs are one JSON parameter, so the statement text is the same for
    every batch size.
    """
    each = func.json_each(bindparam("p_json", type_=String)).table_valued(column("value", String)).alias("each")
    pairs = select(func.json_extract(each.c.value, "$[0]").label("id"),
                   func.json_extract(each.c.value, "$[1]").label("n")).subquery("batch")
    return (
        update(Conversation)
        .where(Conversation.id == pairs.c.id, Conversation.mode != "closed")
        .values(last_seq=Conversation.last_seq + pairs.c.n, **_SET_ON_CITIZEN_MESSAGE)
        .returning(Conversation.id, Conversation.last_seq, Conversation.mode)
    )


_SQLITE_SEQ_UPDATE = _sqlite_sequence_update()
_SQLITE_INSERT = (
    sqlite_insert(Message)
    .on_conflict_do_nothing(index_elements=["conversation_id", "client_msg_id"])
    .returning(Message.id, Message.conversation_id, Message.seq)
)

# PostgreSQL, one statement per batch. Arrays keep the text the same for every
# batch size, so asyncpg keeps it prepared.
#   locked:   the batch's conversation rows, locked in id order, so instances
#             writing overlapping batches cannot deadlock (every new lock in
#             this statement is taken here, in that order);
#   taken:    last_seq += the conversation's message count (closed ones skipped);
#   numbered: each message's seq, in the order the messages came in;
#   inserted: the messages (a known client_msg_id is skipped: a duplicate).
# The result lists what was taken and what was inserted.
_POSTGRES_BATCH = f"""
WITH batch AS (
    SELECT id, n FROM unnest($1::text[], $2::int[]) AS b(id, n)
), locked AS (
    SELECT c.id FROM {Conversation.__tablename__} AS c JOIN batch USING (id) ORDER BY c.id FOR UPDATE OF c
), taken AS (
    UPDATE {Conversation.__tablename__} AS c
    SET last_seq = c.last_seq + batch.n, last_message_at = $3, citizen_active_at = $3,
        citizen_seen_at = CASE WHEN c.citizen_seen_at < $8 THEN $3 ELSE c.citizen_seen_at END,
        timed_out_at = NULL, updated_at = $3
    FROM batch JOIN locked USING (id)
    WHERE c.id = batch.id AND c.mode <> 'closed'
    RETURNING c.id, c.last_seq, c.mode, batch.n
), numbered AS (
    SELECT m.conversation_id, m.text, m.payload, m.client_msg_id,
           taken.last_seq - taken.n + row_number() OVER (PARTITION BY m.conversation_id ORDER BY m.ord) AS seq
    FROM unnest($4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY
         AS m(conversation_id, text, payload, client_msg_id, ord)
    JOIN taken ON taken.id = m.conversation_id
), inserted AS (
    INSERT INTO {Message.__tablename__} (conversation_id, seq, sender, text, payload, client_msg_id, created_at)
    SELECT conversation_id, seq, 'citizen', text, payload::json, client_msg_id, $3 FROM numbered
    ON CONFLICT (conversation_id, client_msg_id) DO NOTHING
    RETURNING id, conversation_id, seq
)
SELECT conversation_id, seq, NULL AS mode, id AS message_id FROM inserted
UNION ALL
SELECT id, last_seq, mode, NULL FROM taken
"""


@dataclass(eq=False)
class _Pending:
    conversation_id: str
    text: str
    payload: dict | None
    client_msg_id: str | None
    future: asyncio.Future
    # Set for a repeat of a client_msg_id earlier in the same batch.
    same_as: "_Pending | None" = None


@dataclass
class _TailEntry:
    """A citizen message as written (in memory only) and as stored."""

    raw: str
    stored: str
    at: float
    message_id: int | None = None
    seq: int | None = None
    pending: "_Pending | None" = None  # written in the same batch, not stored yet


class _Masking:
    """Masked texts for a batch, and the earlier messages they make masked."""

    def __init__(self, texts: dict, rewrites: dict, tails: dict):
        self.texts = texts  # _Pending -> stored text
        self.rewrites = rewrites  # stored message id -> (conversation id, seq, new text)
        self.tails = tails  # conversation id -> its tail after this batch


class WriterBusy(Unavailable):
    def __init__(self):
        super().__init__("busy", "too many messages are waiting to be stored; please resend shortly")


class CitizenMessageWriter:
    """One per instance: started with the app, stopped (after draining) before the database closes.

    `lanes` transactions run at once (PostgreSQL); a conversation always uses
    the same lane, so its messages are numbered in the order they came in.
    SQLite has one writer at a time, so it gets one lane.
    """

    def __init__(self, engine: AsyncEngine, publish, *, publish_masked=None, lanes: int = 1,
                 max_batch: int = MAX_BATCH, max_pending: int = MAX_PENDING):
        self._engine = engine
        self._dialect = engine.dialect.name
        # Called after commit with the stored messages, for live delivery.
        self._publish = publish
        # Called after commit with [(conversation id, seq, masked text)] of earlier
        # messages that a later part made recognisable as a number.
        self._publish_masked = publish_masked
        self._max_batch = max_batch
        self._max_pending = max_pending
        lanes = 1 if self._dialect == "sqlite" else max(1, lanes)
        self._lanes = [collections.deque() for _ in range(lanes)]
        self._wake = [asyncio.Event() for _ in range(lanes)]
        self._tasks: list[asyncio.Task] = []
        self._waiting = 0
        self._stopping = False
        # conversation id -> its last citizen messages, oldest first (LRU order).
        self._tails: collections.OrderedDict[str, list[_TailEntry]] = collections.OrderedDict()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._run(i), name=f"citizen-message-writer-{i}")
                       for i in range(len(self._lanes))]

    async def stop(self, timeout: float = 10.0) -> None:
        """Write what is pending (bounded in time), then end the writer."""
        self._stopping = True
        for wake in self._wake:
            wake.set()
        if self._tasks:
            _done, late = await asyncio.wait(self._tasks, timeout=timeout)
            for task in late:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(BaseException):
                    await task
        for lane in self._lanes:
            for item in lane:
                if not item.future.done():
                    item.future.set_exception(WriterBusy())
            lane.clear()

    async def append(self, conversation_id: str, text: str, *, payload: dict | None = None,
                     client_msg_id: str | None = None) -> tuple[Message, str, bool]:
        """Store one citizen message; returns (message, conversation mode, duplicate).

        Raises LookupError when the conversation is closed or unknown, WriterBusy
        when too much is waiting, or the database error of its batch.
        """
        if self._stopping or self._waiting >= self._max_pending:
            raise WriterBusy()
        future = asyncio.get_running_loop().create_future()
        lane = hash(conversation_id) % len(self._lanes)
        self._lanes[lane].append(_Pending(conversation_id, text, payload, client_msg_id, future))
        self._waiting += 1
        self._wake[lane].set()
        # The write goes on if the caller goes away: a resend finds it as a duplicate.
        return await asyncio.shield(future)

    async def _run(self, lane: int) -> None:
        pending, wake = self._lanes[lane], self._wake[lane]
        while True:
            if not pending:
                if self._stopping:
                    return
                wake.clear()
                await wake.wait()
                continue
            batch = [pending.popleft() for _ in range(min(self._max_batch, len(pending)))]
            self._waiting -= len(batch)
            try:
                await self._write(batch)
            except Exception as exc:  # noqa: BLE001 - every caller hears of it; the writer carries on
                log.warning("storing %d citizen messages failed: %r", len(batch), exc)
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(exc)

    async def _write(self, batch: list[_Pending]) -> None:
        first_of: dict[tuple[str, str], _Pending] = {}
        todo = []
        for item in batch:
            if item.client_msg_id is not None:
                key = (item.conversation_id, item.client_msg_id)
                if key in first_of:
                    item.same_as = first_of[key]
                    continue
                first_of[key] = item
            todo.append(item)

        for _attempt in range(MAX_ATTEMPTS):
            stored, closed, duplicates, rewrites = await self._transaction(todo)
            if duplicates:
                await self._resolve_duplicates(duplicates)
                todo = [item for item in todo if item not in duplicates]
                continue  # rolled back: write the rest again
            for item in closed:
                item.future.set_exception(LookupError(item.conversation_id))
            if rewrites and self._publish_masked is not None:
                try:
                    await self._publish_masked(list(rewrites.values()))
                except Exception as exc:  # noqa: BLE001 - stored is stored; a reload shows it masked
                    log.warning("live delivery of %d masked messages failed: %r", len(rewrites), exc)
            if stored:
                try:
                    await self._publish([message for message, _mode in stored.values()])
                except Exception as exc:  # noqa: BLE001 - stored is stored; clients resync by seq
                    log.warning("live delivery of %d messages failed: %r", len(stored), exc)
            for item, (message, mode) in stored.items():
                if not item.future.done():
                    item.future.set_result((message, mode, False))
            break
        else:
            raise RuntimeError("a batch kept meeting duplicates")

        for item in batch:
            if item.same_as is not None and not item.future.done():
                source = item.same_as.future
                if source.done() and source.exception() is None:
                    message, mode, _duplicate = source.result()
                    item.future.set_result((message, mode, True))
                else:
                    item.future.set_exception(source.exception() if source.done() else WriterBusy())

    def _mask(self, todo: list[_Pending]) -> _Masking:
        """Mask each text, with the previous citizen messages of its conversation."""
        now = time.monotonic()
        texts: dict[_Pending, str] = {}
        rewrites: dict[int, tuple[str, int, str]] = {}
        tails: dict[str, list[_TailEntry]] = {}
        for item in todo:
            cid = item.conversation_id
            if cid not in tails:
                tails[cid] = [e for e in self._tails.get(cid, ()) if now - e.at <= TAIL_SECONDS]
            tail = tails[cid]
            raw = item.text or ""
            earlier, findings = ddh_privacy.find_across_messages([e.raw for e in tail], raw)
            texts[item] = ddh_privacy.apply_marker(raw, findings, MARKER) if findings else raw
            for entry, extra in zip(tail, earlier):
                if not extra:
                    continue
                own = ddh_privacy.find_personal_data(entry.raw)
                entry.stored = ddh_privacy.apply_marker(entry.raw, own + extra, MARKER)
                if entry.pending is not None:
                    texts[entry.pending] = entry.stored
                elif entry.message_id is not None:
                    rewrites[entry.message_id] = (cid, entry.seq, entry.stored)
            if len(raw) <= TAIL_MAX_CHARS:
                tail.append(_TailEntry(raw, texts[item], now, pending=item))
                del tail[:-TAIL_MESSAGES]
            else:
                tail.clear()
        return _Masking(texts, rewrites, tails)

    def _remember(self, masking: _Masking, stored: dict) -> None:
        """After commit: keep the batch's messages as their conversations' tails."""
        for cid, tail in masking.tails.items():
            kept = []
            for entry in tail:
                if entry.pending is not None:
                    found = stored.get(entry.pending)
                    if found is None:
                        continue  # not stored (closed conversation or duplicate)
                    entry.message_id, entry.seq, entry.pending = found[0].id, found[0].seq, None
                kept.append(entry)
            self._tails[cid] = kept
            self._tails.move_to_end(cid)
        while len(self._tails) > TAIL_CONVERSATIONS:
            self._tails.popitem(last=False)

    @staticmethod
    def _row(item: _Pending, seq: int, now, text: str) -> dict:
        return {
            "conversation_id": item.conversation_id,
            "seq": seq,
            "sender": "citizen",
            # Masked where citizen text enters the database (see _mask).
            "text": text,
            "payload": mask_in_json(item.payload) if item.payload else None,
            "topic": None,
            "confidence": None,
            "agent_id": None,
            "client_msg_id": item.client_msg_id,
            "created_at": now,
        }

    async def _transaction(self, todo: list[_Pending]):
        """One transaction for the batch: (stored, closed, duplicates, rewritten earlier
        messages {id: (conversation id, seq, text)}); rolled back when duplicates."""
        if self._dialect == "postgresql":
            return await self._transaction_postgres(todo)
        return await self._transaction_sqlite(todo)

    async def _transaction_postgres(self, todo: list[_Pending]):
        counts = collections.Counter(item.conversation_id for item in todo)
        ids = sorted(counts)
        now = utcnow()
        masking = self._mask(todo)
        rows = [self._row(item, 0, now, masking.texts[item]) for item in todo]
        async with self._engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            transaction = driver.transaction()
            await transaction.start()
            try:
                result = await driver.fetch(
                    _POSTGRES_BATCH, ids, [counts[i] for i in ids], now,
                    [r["conversation_id"] for r in rows], [r["text"] for r in rows],
                    [json.dumps(r["payload"]) if r["payload"] is not None else None for r in rows],
                    [r["client_msg_id"] for r in rows], now - dt.timedelta(seconds=SEEN_RESOLUTION_SECONDS))
                taken = {r["conversation_id"]: r["mode"] for r in result if r["mode"] is not None}
                inserted = {(r["conversation_id"], r["seq"]): r["message_id"] for r in result if r["mode"] is None}
                # The seq each message was given, in the order they came in.
                next_seq = {cid: seq - counts[cid] + 1 for (cid, seq) in
                            ((r["conversation_id"], r["seq"]) for r in result if r["mode"] is not None)}
                stored, closed, duplicates = {}, [], []
                for item, row in zip(todo, rows):
                    if item.conversation_id not in taken:
                        closed.append(item)
                        continue
                    row["seq"] = next_seq[item.conversation_id]
                    next_seq[item.conversation_id] += 1
                    new_id = inserted.get((item.conversation_id, row["seq"]))
                    if new_id is None:
                        duplicates.append(item)
                    else:
                        stored[item] = (Message(id=new_id, **row), taken[item.conversation_id])
                if duplicates:
                    await transaction.rollback()
                    return {}, [], duplicates, {}
                if masking.rewrites:
                    await driver.executemany(
                        f"UPDATE {Message.__tablename__} SET text = $1 WHERE id = $2",
                        [(text, message_id) for message_id, (_cid, _seq, text) in masking.rewrites.items()])
                await transaction.commit()
            except BaseException:
                with contextlib.suppress(Exception):
                    await transaction.rollback()
                if driver.is_closed():
                    # Used past SQLAlchemy here, so tell its pool not to hand it out again.
                    await conn.invalidate()
                raise
        self._remember(masking, stored)
        return stored, closed, [], masking.rewrites

    async def _transaction_sqlite(self, todo: list[_Pending]):
        counts = collections.Counter(item.conversation_id for item in todo)
        now = utcnow()
        params = {"p_json": json.dumps([[i, counts[i]] for i in sorted(counts)]), "p_now": now,
                  "p_seen_before": now - dt.timedelta(seconds=SEEN_RESOLUTION_SECONDS)}
        rows: list[tuple[_Pending, dict]] = []
        closed: list[_Pending] = []
        masking = self._mask(todo)
        async with self._engine.begin() as conn:
            taken = {cid: (last, mode) for cid, last, mode in await conn.execute(_SQLITE_SEQ_UPDATE, params)}
            next_seq = {cid: last - counts[cid] + 1 for cid, (last, _mode) in taken.items()}
            for item in todo:
                if item.conversation_id not in taken:
                    closed.append(item)
                    continue
                rows.append((item, self._row(item, next_seq[item.conversation_id], now, masking.texts[item])))
                next_seq[item.conversation_id] += 1
            ids_by_seq = {}
            if rows:
                result = await conn.execute(_SQLITE_INSERT, [row for _item, row in rows])
                ids_by_seq = {(cid, seq): new_id for new_id, cid, seq in result}
            duplicates = [item for item, row in rows if (row["conversation_id"], row["seq"]) not in ids_by_seq]
            if duplicates:
                await conn.rollback()
                return {}, [], duplicates, {}
            if masking.rewrites:
                await conn.execute(update(Message).where(Message.id == bindparam("p_id")).values(
                    text=bindparam("p_text")), [{"p_id": i, "p_text": t} for i, (_c, _s, t) in masking.rewrites.items()])
        stored = {item: (Message(id=ids_by_seq[(row["conversation_id"], row["seq"])], **row),
                         taken[item.conversation_id][1]) for item, row in rows}
        self._remember(masking, stored)
        return stored, closed, [], masking.rewrites

    async def _resolve_duplicates(self, duplicates: list[_Pending]) -> None:
        """Answer resends with the message stored the first time."""
        keys = [(item.conversation_id, item.client_msg_id) for item in duplicates]
        async with self._engine.connect() as conn:
            found = {
                (m.conversation_id, m.client_msg_id): m
                for m in (await conn.execute(
                    select(Message).where(tuple_(Message.conversation_id, Message.client_msg_id).in_(keys))
                )).all()
            }
            modes = dict((await conn.execute(
                select(Conversation.id, Conversation.mode).where(Conversation.id.in_({k[0] for k in keys}))
            )).all())
        for item in duplicates:
            row = found.get((item.conversation_id, item.client_msg_id))
            if row is None:  # deleted in between
                item.future.set_exception(LookupError(item.conversation_id))
            else:
                message = Message(**{c.key: getattr(row, c.key) for c in Message.__table__.columns})
                item.future.set_result((message, modes.get(item.conversation_id, "closed"), True))
