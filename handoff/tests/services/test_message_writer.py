"""Group commit of citizen messages: every caller gets its own answer, sequence
numbers stay contiguous per conversation, duplicates cost nothing."""

import asyncio

import pytest
from helpers import new_conversation
from sqlalchemy import select, update

from handoff_bridge.db.models import Conversation, Message
from handoff_bridge.events import conv_channel
from handoff_bridge.services.message_writer import CitizenMessageWriter, WriterBusy


async def stored(deps, cid):
    async with deps.sessionmaker() as s:
        return [(m.seq, m.text, m.client_msg_id)
                for m in await s.scalars(select(Message).where(Message.conversation_id == cid).order_by(Message.seq))]


async def close(deps, cid):
    async with deps.sessionmaker() as s, s.begin():
        await s.execute(update(Conversation).where(Conversation.id == cid).values(mode="closed"))


async def test_concurrent_messages_are_stored_in_order_with_contiguous_numbers(client, bridge):
    d = bridge.deps
    convs = [(await new_conversation(client))[0] for _ in range(5)]
    # 5 conversations x 20 messages submitted at once: they share transactions.
    calls = [d.writer.append(cid, f"besked {i}", client_msg_id=f"m{i}") for i in range(20) for cid in convs]
    results = await asyncio.gather(*calls)
    assert all(not duplicate and mode == "bot" for _message, mode, duplicate in results)
    for cid in convs:
        rows = await stored(d, cid)
        assert rows == [(i + 1, f"besked {i}", f"m{i}") for i in range(20)]
        async with d.sessionmaker() as s:
            assert (await s.get(Conversation, cid)).last_seq == 20


async def test_a_resend_is_a_duplicate_and_leaves_no_gap(client, bridge):
    d = bridge.deps
    cid, _ = await new_conversation(client)
    first, _mode, duplicate = await d.writer.append(cid, "hej", client_msg_id="a")
    assert not duplicate and first.seq == 1
    # A resend of "a" in the same batch as a new message "b".
    (again, _, dup_again), (new, _, dup_new) = await asyncio.gather(
        d.writer.append(cid, "hej", client_msg_id="a"), d.writer.append(cid, "igen", client_msg_id="b"))
    assert dup_again and again.seq == 1 and again.id == first.id
    assert not dup_new and new.seq == 2
    assert await stored(d, cid) == [(1, "hej", "a"), (2, "igen", "b")]


async def test_the_same_message_twice_in_one_batch_is_stored_once(client, bridge):
    d = bridge.deps
    cid, _ = await new_conversation(client)
    results = await asyncio.gather(*(d.writer.append(cid, "hej", client_msg_id="x") for _ in range(3)))
    assert sorted(duplicate for _m, _mode, duplicate in results) == [False, True, True]
    assert {message.seq for message, _mode, _dup in results} == {1}
    assert await stored(d, cid) == [(1, "hej", "x")]


async def test_a_closed_conversation_takes_nothing_and_does_not_stop_the_others(client, bridge):
    d = bridge.deps
    open_cid, _ = await new_conversation(client)
    closed_cid, _ = await new_conversation(client)
    await close(d, closed_cid)
    ok, refused = await asyncio.gather(d.writer.append(open_cid, "hej"), d.writer.append(closed_cid, "hej"),
                                       return_exceptions=True)
    assert isinstance(refused, LookupError)
    assert ok[0].seq == 1 and await stored(d, open_cid) == [(1, "hej", None)]
    assert await stored(d, closed_cid) == []
    with pytest.raises(LookupError):
        await d.writer.append("no-such-conversation", "hej")


async def test_personal_numbers_are_masked_before_storage(client, bridge):
    d = bridge.deps
    cid, _ = await new_conversation(client)
    message, _mode, _dup = await d.writer.append(cid, "mit cpr er 010203-1234")
    assert "010203-1234" not in message.text
    assert "010203-1234" not in (await stored(d, cid))[0][1]


async def test_stored_messages_are_published_after_commit(client, bridge):
    d = bridge.deps
    cid, _ = await new_conversation(client)
    with d.bus.subscribe(conv_channel(cid)) as sub:
        await d.bus.ready(sub)
        await asyncio.gather(d.writer.append(cid, "en"), d.writer.append(cid, "to"))
        events = [await sub.get(timeout=5) for _ in range(2)]
    assert [(e["seq"], e["text"], e["sender"]) for _c, e in events] == [(1, "en", "citizen"), (2, "to", "citizen")]


async def test_too_much_waiting_is_refused_at_once_and_stop_drains(client, bridge):
    d = bridge.deps
    cid, _ = await new_conversation(client)
    writer = CitizenMessageWriter(d.engine, lambda messages: asyncio.sleep(0), max_pending=2)
    # Not started yet: nothing is written, so the third message finds the queue full.
    waiting = [asyncio.ensure_future(writer.append(cid, f"m{i}")) for i in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(WriterBusy):
        await writer.append(cid, "m2")
    writer.start()
    await writer.stop()
    assert [m.seq for m, _mode, _dup in await asyncio.gather(*waiting)] == [1, 2]
    with pytest.raises(WriterBusy):
        await writer.append(cid, "after stop")


async def stored_texts(deps, cid):
    return [text for _seq, text, _client_id in await stored(deps, cid)]


@pytest.mark.parametrize("first, second", [
    ("min cpr er 040190", "-1239"),
    ("0401", "90 1239"),
    ("mit nummer er +45 12 34", "56 78"),
    ("personnummer 19850315", "5684 tack"),
])
async def test_a_number_sent_in_two_messages_is_masked_in_both(client, bridge, first, second):
    d = bridge.deps
    cid, _ = await new_conversation(client)
    with d.bus.subscribe(conv_channel(cid)) as sub:
        await d.bus.ready(sub)
        await d.writer.append(cid, first)
        await d.writer.append(cid, second)
        events = [await sub.get(timeout=5) for _ in range(3)]
    texts = await stored_texts(d, cid)
    assert len(texts) == 2
    assert not any(ch.isdigit() for ch in texts[1].split()[0]), texts
    assert not any(ch.isdigit() for ch in texts[0][-4:]), texts
    # The earlier part is published again, masked; nothing is published in clear.
    masked = [e for _c, e in events if e["type"] == "message_masked"]
    assert masked == [{"type": "message_masked", "conversation_id": cid, "seq": 1, "text": texts[0]}]
    first_part_digits = "".join(ch for ch in first if ch.isdigit())[-4:]
    assert all(first_part_digits not in e["text"] for _c, e in events if e["seq"] == 2)


async def test_parts_written_in_one_batch_are_masked_together(client, bridge):
    d = bridge.deps
    cid, _ = await new_conversation(client)
    await asyncio.gather(d.writer.append(cid, "040190"), d.writer.append(cid, "-1239"))
    assert await stored_texts(d, cid) == ["######", "-####"]


async def test_dates_amounts_and_other_conversations_are_not_joined(client, bridge):
    d = bridge.deps
    cid, _ = await new_conversation(client)
    other, _ = await new_conversation(client)
    await d.writer.append(cid, "brevet kom 12-03-2026")
    await d.writer.append(other, "1239")
    await d.writer.append(cid, "og jeg fik 1.250 kr")
    assert await stored_texts(d, cid) == ["brevet kom 12-03-2026", "og jeg fik 1.250 kr"]
    assert await stored_texts(d, other) == ["1239"]
