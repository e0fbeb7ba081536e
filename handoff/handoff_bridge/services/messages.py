"""Storing messages with per-conversation sequence numbers, and reading them back."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Conversation, Message, UTCDateTime, utcnow
from ..events import AGENTS_CHANNEL, conv_channel
from ..privacy import MASKED_SENDERS, mask_in_json, mask_personal_data


def message_to_dict(m: Message, *, for_agent: bool = False) -> dict:
    d = {
        "type": "message",
        "conversation_id": m.conversation_id,
        "seq": m.seq,
        "sender": m.sender,
        "text": m.text,
        "payload": m.payload,
        "created_at": m.created_at.isoformat(),
    }
    if m.client_msg_id:
        d["client_msg_id"] = m.client_msg_id
    if for_agent:
        d["topic"] = m.topic
        d["confidence"] = m.confidence
        d["agent_id"] = m.agent_id
    return d


class DuplicateMessage(Exception):
    """A message with this client_msg_id is already stored (a resend after a lost ack).

    Raised inside the caller's transaction, which must roll back: the sequence
    number taken for the duplicate is then given back, so there is no gap.
    """

    def __init__(self, conversation_id: str, client_msg_id: str):
        super().__init__(client_msg_id)
        self.conversation_id = conversation_id
        self.client_msg_id = client_msg_id


async def find_by_client_id(session: AsyncSession, conversation_id: str, client_msg_id: str) -> Message | None:
    return await session.scalar(
        select(Message).where(Message.conversation_id == conversation_id, Message.client_msg_id == client_msg_id)
    )


# Built once: constructing and cache-keying a new statement per message cost
# more CPU than executing it.
_SEQ_STATEMENT = (
    update(Conversation)
    .where(Conversation.id == bindparam("p_cid"))
    .values(last_seq=Conversation.last_seq + 1, last_message_at=bindparam("p_now", type_=UTCDateTime()))
    .returning(Conversation.last_seq, Conversation.mode)
    .execution_options(synchronize_session=False)
)

_INSERT = insert(Message).returning(Message.id)
_INSERT_IGNORING_DUPLICATES = {
    "postgresql": pg_insert(Message).on_conflict_do_nothing(
        index_elements=["conversation_id", "client_msg_id"]).returning(Message.id),
    "sqlite": sqlite_insert(Message).on_conflict_do_nothing(
        index_elements=["conversation_id", "client_msg_id"]).returning(Message.id),
}


async def append_message(
    db,
    conversation_id: str,
    sender: str,
    text: str | None,
    *,
    payload: dict | None = None,
    topic: str | None = None,
    confidence: float | None = None,
    agent_id: int | None = None,
    client_msg_id: str | None = None,
) -> tuple[Message, str]:
    """Store an agent, bot or system message inside the caller's transaction;
    returns (message, conversation mode). Citizen messages go through the
    group commit (message_writer.py).

    `db` is an AsyncSession or a Core AsyncConnection (no ORM overhead, for
    agent replies). The sequence number comes from UPDATE ... RETURNING on the
    conversation row: the row lock it takes is held until commit, so sequence
    order equals commit order on PostgreSQL; SQLite serialises writers (BEGIN
    IMMEDIATE). A resend with a known client_msg_id raises DuplicateMessage.
    """
    if isinstance(db, AsyncSession):
        # Same transaction, Core execution: keeps the ORM out of these statements.
        db = await db.connection()
    now = utcnow()
    found = (await db.execute(_SEQ_STATEMENT, {"p_cid": conversation_id, "p_now": now})).first()
    if found is None:
        raise LookupError(conversation_id)
    seq, mode = found
    masked = sender in MASKED_SENDERS
    row = {
        "conversation_id": conversation_id,
        "seq": seq,
        "sender": sender,
        # What agents type is masked here; the assistant's and the bridge's own
        # messages are published content (answers give authorities' phone numbers).
        "text": mask_personal_data(text) if masked else text,
        "payload": (mask_in_json(payload) if masked else payload) if payload else None,
        "topic": topic,
        "confidence": confidence,
        "agent_id": agent_id,
        "client_msg_id": client_msg_id,
        "created_at": now,
    }
    if client_msg_id is None:
        stmt = _INSERT
    else:
        stmt = _INSERT_IGNORING_DUPLICATES[db.dialect.name]
    new_id = await db.scalar(stmt, row)
    if new_id is None:
        raise DuplicateMessage(conversation_id, client_msg_id)
    return Message(id=new_id, **row), mode


async def messages_after(session: AsyncSession, conversation_id: str, after_seq: int, limit: int = 500) -> list[Message]:
    rows = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.seq > after_seq)
        .order_by(Message.seq)
        .limit(limit)
    )
    return list(rows)


async def last_seqs(session: AsyncSession, conversation_ids: list[str]) -> dict[str, int]:
    """The last sequence number of each of these conversations."""
    rows = await session.execute(
        select(Conversation.id, Conversation.last_seq).where(Conversation.id.in_(conversation_ids)))
    return {cid: seq for cid, seq in rows}


async def publish_messages(deps, messages: list[Message], agent_id: int | None = None) -> None:
    """Live delivery after commit: to the conversation's subscribers (citizen and agent)."""
    await deps.bus.publish_many([(conv_channel(m.conversation_id), message_to_dict(m, for_agent=True)) for m in messages])


async def publish_masked_messages(deps, masked: list[tuple[str, int, str]]) -> None:
    """Earlier citizen messages stored again masked (a later message completed a
    number): subscribers replace the text they show for that seq."""
    await deps.bus.publish_many([
        (conv_channel(cid), {"type": "message_masked", "conversation_id": cid, "seq": seq, "text": text})
        for cid, seq, text in masked
    ])


async def publish_status(deps, conversation_id: str, mode: str, **extra) -> None:
    event = {"type": "status", "conversation_id": conversation_id, "mode": mode, **extra}
    await deps.bus.publish(conv_channel(conversation_id), event)


async def publish_agents(deps, event: dict) -> None:
    await deps.bus.publish(AGENTS_CHANNEL, event)
