"""Property-based: no CPR number or personnummer survives in any stored row or log line.

Hypothesis generates numbers in the formats citizens write them (DDMMYY-XXXX,
DDMMYYXXXX, DDMMYY XXXX; YYMMDD-XXXX, YYMMDD+XXXX, YYYYMMDD-XXXX,
YYYYMMDDXXXX) inside ordinary text, sends them as citizen messages, an
escalation summary, a callback description, an agent reply, a closing note and
a rating comment, then scans every column of every table and every captured
log line (including Sanic's access-log fields) for them.
"""

import io
import json
import logging
import secrets

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from helpers import agent_session, new_conversation, send, wait_for_messages
from sqlalchemy import select

from handoff_bridge.db.models import Base

LETTERS = "abcdefghijklmnopqrstuvwxyzæøåäö ,.?"


@st.composite
def personal_number(draw):
    day, month = draw(st.integers(1, 28)), draw(st.integers(1, 12))
    serial = draw(st.integers(0, 9999))
    if draw(st.booleans()):  # Danish CPR: DDMMYY
        yy = draw(st.integers(0, 99))
        sep = draw(st.sampled_from(["-", "", " "]))
        return f"{day:02d}{month:02d}{yy:02d}{sep}{serial:04d}"
    year = draw(st.integers(1900, 2025))  # Swedish personnummer: (YY)YYMMDD
    head = f"{year}" if draw(st.booleans()) else f"{year % 100:02d}"
    sep = draw(st.sampled_from(["-", "+", ""]))
    return f"{head}{month:02d}{day:02d}{sep}{serial:04d}"


def words():
    return st.text(alphabet=LETTERS, min_size=0, max_size=30)


def digits(s):
    return "".join(ch for ch in s if ch.isdigit())


async def all_stored_strings(deps):
    out = []
    async with deps.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in (await conn.execute(select(table))).mappings():
                for column, value in row.items():
                    if isinstance(value, str):
                        out.append((table.name, column, value))
                    elif isinstance(value, (dict, list)):
                        out.append((table.name, column, json.dumps(value, ensure_ascii=False)))
    return out


def leaked(number, haystack):
    return number in haystack or digits(number) in haystack.replace("-", "").replace("+", "").replace(" ", "")


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(numbers=st.lists(personal_number(), min_size=6, max_size=6), before=words(), after=words())
async def test_no_personal_number_survives_in_rows_or_logs(client, bridge, fake_rasa, numbers, before, after):
    d = bridge.deps
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s %(request)s", defaults={"request": ""}))
    loggers = [logging.getLogger(), logging.getLogger("sanic.access"), logging.getLogger("sanic.error")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        def say(n):
            return f"{before} {n} {after}".strip()

        # Conversation A: a message, an escalation summary from the bot, a callback description.
        a, ah = await new_conversation(client, municipality="closed-town")
        await send(client, a, ah, say(numbers[0]))
        # The bot asks for a person with a summary (its handoff signal); the queue is closed.
        fake_rasa.handoff_overrides = {"summary": say(numbers[1])}
        await send(client, a, ah, "human, please")
        await wait_for_messages(client, a, ah, lambda m: any("lukket" in (x["text"] or "") for x in m))
        r = await client.post(f"/api/v1/citizen/conversations/{a}/callback", headers=ah,
                              json={"phone": "+45 12 34 56 78", "description": say(numbers[2])})
        assert r.status_code == 201, r.text

        # Conversation B: an agent chat with a reply, a closing note and a rating comment.
        b, bh = await new_conversation(client)
        await client.post(f"/api/v1/citizen/conversations/{b}/handoff", headers=bh)
        # Examples share the bridge: a fresh agent each time, claiming this chat by its queue entry.
        agent = await agent_session(d, client, f"bo-{secrets.token_hex(4)}")
        queues = (await client.get("/api/v1/agent/queues", headers=agent)).json()["queues"]
        esc = next(w["escalation_id"] for q in queues for w in q["waiting"] if w["conversation_id"] == b)
        assert (await client.post(f"/api/v1/agent/escalations/{esc}/claim", headers=agent)).status_code == 200
        r = await client.post(f"/api/v1/agent/conversations/{b}/messages", headers=agent, json={"text": say(numbers[3])})
        assert r.status_code == 201
        r = await client.post(f"/api/v1/agent/conversations/{b}/close", headers=agent,
                              json={"tags": ["borgerservice.pas"], "note": say(numbers[4])})
        assert r.status_code == 200, r.text
        r = await client.post(f"/api/v1/citizen/conversations/{b}/rating", headers=bh,
                              json={"score": 7, "comment": say(numbers[5])})
        assert r.status_code == 201, r.text

        # Log lines of the bridge, libraries and Sanic's access log carrying the numbers.
        logging.getLogger("handoff.citizen").warning("citizen wrote %s", say(numbers[0]))
        logging.getLogger("sanic.access").info("", extra={"request": f"GET /x?q={numbers[1]}", "host": "", "status": 200, "byte": 0, "duration": ""})
        logging.getLogger("httpx").info("sent %r", {"message": say(numbers[2])})

        stored = await all_stored_strings(d)
    finally:
        for lg, level in zip(loggers, levels):
            lg.removeHandler(handler)
            lg.setLevel(level)
    log_text = stream.getvalue()
    assert "citizen wrote" in log_text
    for n in numbers:
        hits = [(t, c) for t, c, v in stored if leaked(n, v)]
        assert hits == [], (n, hits)
        assert not leaked(n, log_text), n
