"""The widget's field for the CPR number / personnummer: the number goes to the
assistant only; the bridge stores and publishes a neutral line instead."""

import json
import logging

from helpers import WsClient, forwarded_after_marker, is_msg, new_conversation, send, wait_for_messages
from sqlalchemy import text

NUMBER = "150385-1112"


async def _asked(client, cid, headers):
    await send(client, cid, headers, "payout hvornår kommer mine penge")
    await wait_for_messages(client, cid, headers,
                            lambda m: any((x["payload"] or {}).get("custom", {}).get("identity_request") for x in m))


async def _everything_stored(bridge) -> str:
    async with bridge.deps.sessionmaker() as s:
        rows = (await s.execute(text("SELECT text, payload FROM messages"))).all()
        audit = (await s.execute(text("SELECT * FROM audit_log"))).all() if await _has_table(s, "audit_log") else []
    return json.dumps([list(map(str, r)) for r in rows + audit])


async def _has_table(session, name) -> bool:
    try:
        await session.execute(text(f"SELECT 1 FROM {name} LIMIT 1"))
        return True
    except Exception:  # noqa: BLE001 - table absent in this schema
        await session.rollback()
        return False


async def test_a_number_from_the_field_reaches_only_the_assistant(client, bridge, fake_rasa, caplog):
    caplog.set_level(logging.DEBUG)
    cid, headers = await new_conversation(client)
    await _asked(client, cid, headers)
    resp = await client.post(f"/api/v1/citizen/conversations/{cid}/identity", headers=headers,
                             json={"kind": "cpr", "number": NUMBER, "client_msg_id": "id-1"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["message"]["text"] == "[CPR-nummer sendt]"
    msgs = await wait_for_messages(client, cid, headers, lambda m: any("Du får en SMS" in (x["text"] or "") for x in m))
    request = fake_rasa.requests[-1]
    assert request["message"] == "150385-1112" and request["metadata"]["identity_input"] == "cpr"
    # Not in any message the citizen or an agent can read, not in the database, not in a log line.
    assert "1112" not in json.dumps(msgs) and "150385" not in json.dumps(msgs)
    assert "150385" not in await _everything_stored(bridge)
    assert "150385" not in caplog.text and "1503851112" not in caplog.text


async def test_the_websocket_frame_is_acknowledged_and_published_as_the_neutral_line(client, bridge, fake_rasa):
    cid, headers = await new_conversation(client, language="da")
    await _asked(client, cid, headers)
    ws = await WsClient.citizen(bridge.url, cid, headers)
    try:
        await ws.recv_until(lambda f: f["type"] == "hello")
        await ws.send({"type": "identity", "kind": "cpr", "number": "1503851112", "client_msg_id": "id-2"})
        await ws.recv_until(is_msg("bot", "Du får en SMS"))
    finally:
        await ws.close()
    [ack] = [f for f in ws.frames if f["type"] == "ack"]
    [line] = [f for f in ws.frames if is_msg("citizen")(f) and f["seq"] == ack["seq"]]
    assert ack["client_msg_id"] == "id-2" and line["text"] == "[CPR-nummer sendt]"
    assert line["payload"] == {"identity_input": "cpr"}
    assert fake_rasa.requests[-1]["message"] == "1503851112"


async def test_a_number_is_refused_when_the_assistant_did_not_ask(client, bridge, fake_rasa):
    cid, headers = await new_conversation(client)
    await send(client, cid, headers, "hej")
    await wait_for_messages(client, cid, headers, lambda m: any(x["sender"] == "bot" for x in m))
    resp = await client.post(f"/api/v1/citizen/conversations/{cid}/identity", headers=headers,
                             json={"kind": "cpr", "number": NUMBER})
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "identity_not_requested"
    # Asked for a CPR number, given a personnummer: refused too.
    await _asked(client, cid, headers)
    resp = await client.post(f"/api/v1/citizen/conversations/{cid}/identity", headers=headers,
                             json={"kind": "personnummer", "number": "19850315-5684"})
    assert resp.status_code == 409
    assert all(r["message"] not in (NUMBER, "19850315-5684") for r in fake_rasa.requests)


async def test_bad_shapes_and_sizes_are_refused_without_echoing_the_number(client, bridge, fake_rasa):
    cid, headers = await new_conversation(client)
    await _asked(client, cid, headers)
    for body in ({"kind": "cpr", "number": "15038511"}, {"kind": "cpr", "number": "1" * 5000},
                 {"kind": "cpr", "number": 1503851112}, {"kind": "passport", "number": NUMBER},
                 {"kind": "cpr", "number": "150385-1112 og mere"}):
        resp = await client.post(f"/api/v1/citizen/conversations/{cid}/identity", headers=headers, json=body)
        assert resp.status_code == 400, body
        assert "1503" not in resp.text and "1111" not in resp.text
    # Nothing refused was forwarded: only the question before and the later marker got there.
    assert len(await forwarded_after_marker(client, fake_rasa, cid, headers)) == 2
    assert len(fake_rasa.requests) == 2


async def test_a_number_typed_into_the_chat_box_reaches_the_assistant_and_is_stored_masked(client, bridge, fake_rasa):
    cid, headers = await new_conversation(client)
    await _asked(client, cid, headers)
    await send(client, cid, headers, f"mit cpr er {NUMBER}")
    await wait_for_messages(client, cid, headers, lambda m: len([x for x in m if x["sender"] == "bot"]) >= 2)
    assert fake_rasa.texts_for(cid)[-1] == f"mit cpr er {NUMBER}"
    assert "150385" not in await _everything_stored(bridge)
