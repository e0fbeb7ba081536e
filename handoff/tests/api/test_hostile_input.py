"""Hostile input against the bridge: oversized and malformed JSON, invalid UTF-8,
control characters, script and HTML, SQL injection strings, wrong types, odd
headers and websocket frames.

Each case gets a clear 4xx, or, where it is valid text, is stored verbatim and
read back unchanged (by the citizen and by the agent). At the end nothing is
lost or corrupted: the conversation holds exactly the accepted messages with
consecutive sequence numbers, and the other tables are intact. The counts are
written to test-artifacts/hostile-input-<backend>.txt.
"""

import json
from dataclasses import dataclass

import websockets
from helpers import agent_session, new_conversation
from sqlalchemy import func, select

from conftest import SERVICE_DIR
from handoff_bridge.db.models import Agent, Conversation, Message

SCRIPT_AND_HTML = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '"><svg onload=alert(1)>',
    "javascript:alert(document.cookie)",
    "<iframe src=//evil.example></iframe>",
    "{{7*7}} ${7*7} <%= 7*7 %>",
    "&lt;b&gt;escaped&lt;/b&gt; &amp;",
    "<style>*{display:none}</style>",
]
SQL_INJECTION = [
    "' OR '1'='1",
    "'; DROP TABLE messages; --",
    "1; SELECT pg_sleep(5); --",
    "\" OR \"\"=\"",
    "'); DELETE FROM conversations WHERE ('1'='1",
    "admin'--",
    "1' UNION SELECT token_hash FROM conversations --",
]
UNICODE_TEXT = [
    "Hej 👋🏽 med emoji og æøå ÆØÅ äö",
    "\u202egnp.exe\u202c (right-to-left override)",
    "zero\u200bwidth\u200djoiner",
    "e\u0301\u0301\u0301 combining",
    "tab\tand\nnewline\r\nstay",
    "\U0001F600" * 2000,  # 2000 characters, 8000 bytes: at the limit
    "\u00a0non-breaking\u2028line separator",
]
MALFORMED_BODIES = [
    b"{", b'{"text": }', b"[1, 2]", b'"just a string"', b"null", b'{"text": "a"', b"{'text': 'a'}",
    b"NaN", b"text=hej", b"", b"\xef\xbb\xbf", b"[" * 30000 + b"]" * 30000, b'{"text": "\\ud800"}',
    b'{"text": "nul \\u0000 byte"}', b'{"\\u0000": 1, "text": "x"}',
]
INVALID_UTF8 = [b'{"text": "\xff\xfe"}', b'{"text": "\xc0\xaf"}', b'{"text": "\xed\xa0\x80"}', b"\x80\x81"]
CONTROL_TEXT = ["bell\x07", "escape\x1b[31mred", "del\x7f", "back\x08space", "form\x0cfeed", "\x01start"]
WRONG_TYPES = [
    {"text": 42}, {"text": ["a"]}, {"text": {"a": 1}}, {"text": None}, {"text": True}, {"text": ""}, {"text": "   "},
    {"text": "x", "payload": {"a": 1}}, {"text": "x", "client_msg_id": "x" * 65}, {"text": "x", "login_token": 5},
    {"text": "x" * 2001}, {"text": "x", "payload": "p" * 501},
]


@dataclass
class Tally:
    ran: int = 0
    handled: int = 0
    failures: list = None

    def check(self, name, ok, detail=""):
        self.ran += 1
        if ok:
            self.handled += 1
        else:
            self.failures.append(f"{name}: {detail}")


async def test_hostile_input_is_refused_or_stored_verbatim(client, bridge, backend):
    d = bridge.deps
    t = Tally(failures=[])
    cid, headers = await new_conversation(client)
    other_cid, other_headers = await new_conversation(client)
    agent = await agent_session(d, client, "bo")
    sup = await agent_session(d, client, "sara", role="supervisor")
    url = f"/api/v1/citizen/conversations/{cid}/messages"
    json_headers = {**headers, "Content-Type": "application/json"}
    accepted: list[str] = []

    async def must_store(name, text):
        r = await client.post(url, headers=headers, json={"text": text})
        ok = r.status_code == 201 and r.json()["message"]["text"] == text.strip()
        if ok:
            accepted.append(text.strip())
        t.check(name, ok, f"{r.status_code} {r.text[:200]}")

    async def must_refuse(name, resp, codes=(400,)):
        ok = resp.status_code in codes and "error" in resp.json()
        t.check(name, ok, f"{resp.status_code} {resp.text[:200]}")

    # Valid text, however odd: stored verbatim (these go to a conversation in bot mode and Rasa answers).
    for i, text in enumerate(SCRIPT_AND_HTML):
        await must_store(f"html {i}", text)
    for i, text in enumerate(SQL_INJECTION):
        await must_store(f"sql {i}", text)
    for i, text in enumerate(UNICODE_TEXT):
        await must_store(f"unicode {i}", text)

    # Malformed JSON and invalid UTF-8: 400; oversized: 413.
    for i, body in enumerate(MALFORMED_BODIES):
        await must_refuse(f"malformed {i}", await client.post(url, headers=json_headers, content=body))
    for i, body in enumerate(INVALID_UTF8):
        await must_refuse(f"utf8 {i}", await client.post(url, headers=json_headers, content=body))
    for size in (70_000, 1_000_000):
        body = b'{"text": "' + b"x" * size + b'"}'
        await must_refuse(f"oversized {size}", await client.post(url, headers=json_headers, content=body), (413,))
    for i, text in enumerate(CONTROL_TEXT):
        await must_refuse(f"control {i}", await client.post(url, headers=headers, json={"text": text}))
    for i, body in enumerate(WRONG_TYPES):
        await must_refuse(f"type {i}", await client.post(url, headers=headers, json=body), (400, 413))

    # SQL injection and odd values where they are identifiers, not text.
    for i, bad_id in enumerate(["' OR 1=1 --", "x'; DROP TABLE conversations; --", "a" * 500, "%00", "..%2f..%2f"]):
        await must_refuse(f"sqli path {i}", await client.get(f"/api/v1/citizen/conversations/{bad_id}", headers=headers),
                          (400, 401, 404))
    for i, after in enumerate(["1 OR 1=1", "-1", "99999999999999999999", "1e3", "%00"]):
        await must_refuse(f"query {i}", await client.get(url, headers=headers, params={"after": after}))
    for i, creds in enumerate([{"login": "' OR '1'='1", "password": "' OR '1'='1"},
                               {"login": "bo'--", "password": "x" * 12},
                               {"login": "bo", "password": {"$ne": None}},
                               {"login": ["bo"], "password": "x"},
                               {"login": "bo\u0000", "password": "x" * 12}]):
        await must_refuse(f"login {i}", await client.post("/api/v1/agent/login", json=creds), (400, 401))
    for i, body in enumerate([{"municipality": "<script>", "language": "xx"}, {"municipality": "", "language": "da"},
                              {"municipality": "m" * 65, "language": "da"}, {"municipality": 101, "language": "da"},
                              {"municipality": "101\u0000", "language": "da"}]):
        await must_refuse(f"create {i}", await client.post("/api/v1/citizen/conversations", json=body))
    for i, body in enumerate(['{"score": "9"}', '{"score": 10}', '{"score": 1.5}', '{"score": 1e999}',
                              '{"score": true}', '{"score": NaN}', '{"score": 9, "comment": ["x"]}']):
        r = await client.post(f"/api/v1/citizen/conversations/{cid}/rating", headers=json_headers, content=body)
        await must_refuse(f"rating {i}", r, (400, 409))
    for i, body in enumerate([{"phone": {"n": 1}}, {"phone": "<script>"}, {"phone": "1" * 40},
                              {"phone": "12345678", "description": "d" * 1001}]):
        r = await client.post(f"/api/v1/citizen/conversations/{cid}/callback", headers=headers, json=body)
        await must_refuse(f"callback {i}", r, (400, 409))
    # Odd authorisation headers.
    for i, auth in enumerate(["Bearer " + "A" * 8000, "Basic YWRtaW46YWRtaW4=", "Bearer", "bearer ' OR 1=1 --"]):
        r = await client.get(f"/api/v1/citizen/conversations/{cid}", headers={"Authorization": auth})
        await must_refuse(f"auth {i}", r, (400, 401, 413, 431))
    # Agent-side: hostile tag lists and notes, supervisor inputs.
    for i, body in enumerate([{"language": "da", "title": "t", "body": "b\u0000"}, {"language": "en", "title": "t", "body": "b"},
                              {"language": "da", "title": "", "body": "b"}, {"language": "da", "title": ["t"], "body": "b"}]):
        await must_refuse(f"canned {i}", await client.post("/api/v1/agent/canned", headers=sup, json=body))
    for i, q in enumerate(["' OR 1=1 --", "\u0000"]):
        await must_refuse(f"claim-next {i}", await client.post("/api/v1/agent/queue/claim-next", headers=agent,
                                                                json={"queue": q}), (400, 403))
    for i, params in enumerate([{"period": "'; DROP TABLE"}, {"period": "today", "tz": "../../etc/passwd"}]):
        await must_refuse(f"stats {i}", await client.get("/api/v1/agent/stats/summary", headers=sup, params=params))

    # Websocket frames: invalid JSON, invalid UTF-8 in a binary frame, NUL, control characters,
    # then a valid hostile text that is stored verbatim; an oversized frame closes the socket.
    ws_url = bridge.url.replace("http://", "ws://") + f"/api/v1/citizen/conversations/{cid}/ws"
    async with websockets.connect(ws_url) as ws:
        await ws.send(json.dumps({"type": "hello", "token": headers["Authorization"][7:], "last_seq": 10_000}))
        assert json.loads(await ws.recv())["type"] == "hello"
        bad_frames = ["{not json", b"\xff\xfe\xfd", json.dumps([1, 2]), '{"type": "message", "text": "\\u0000"}',
                      json.dumps({"type": "message", "text": "ansi \x1b[2J", "client_msg_id": "ctl"}),
                      json.dumps({"type": "<script>"})]
        for i, frame in enumerate(bad_frames):
            await ws.send(frame)
            reply = json.loads(await ws.recv())
            t.check(f"ws frame {i}", reply["type"] == "error", str(reply)[:200])
        text = "<b>ws</b> '; DROP TABLE messages; --"
        await ws.send(json.dumps({"type": "message", "text": text, "client_msg_id": "ok-1"}))
        while True:
            reply = json.loads(await ws.recv())
            if reply.get("type") in ("ack", "error"):
                break
        t.check("ws valid hostile text", reply["type"] == "ack", str(reply))
        if reply["type"] == "ack":
            accepted.append(text)
    async with websockets.connect(ws_url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "hello", "token": headers["Authorization"][7:], "last_seq": 10_000}))
        await ws.recv()
        await ws.send(json.dumps({"type": "message", "text": "x" * 20_000}))
        try:
            while True:
                await ws.recv()
        except websockets.ConnectionClosed as closed:
            t.check("ws oversized frame", closed.rcvd is not None and closed.rcvd.code == 1009, str(closed.rcvd))

    # Nothing lost or corrupted: exactly the accepted citizen messages, in order, verbatim,
    # for the citizen and in the agent's transcript; sequence numbers without gaps.
    msgs = (await client.get(url, headers=headers, params={"after": 0})).json()["messages"]
    citizen_texts = [m["text"] for m in msgs if m["sender"] == "citizen"]
    t.check("stored verbatim, in order", citizen_texts == accepted,
            f"{len(citizen_texts)} stored vs {len(accepted)} accepted")
    seqs = [m["seq"] for m in msgs]
    t.check("sequence without gaps", seqs == list(range(1, len(seqs) + 1)), str(seqs[:5]))
    transcript = await client.get(f"/api/v1/agent/conversations/{cid}/transcript", headers=sup)
    agent_texts = [m["text"] for m in transcript.json()["messages"] if m["sender"] == "citizen"]
    t.check("agent sees the same text", agent_texts == accepted, "")
    async with d.sessionmaker() as session:
        n_conv = await session.scalar(select(func.count()).select_from(Conversation))
        n_agents = await session.scalar(select(func.count()).select_from(Agent))
        n_other = await session.scalar(select(func.count()).select_from(Message).where(Message.conversation_id == other_cid))
    t.check("tables intact", n_conv == 2 and n_agents == 2 and n_other == 0, f"{n_conv} {n_agents} {n_other}")

    report = SERVICE_DIR / "test-artifacts" / f"hostile-input-{backend}.txt"
    report.parent.mkdir(exist_ok=True)
    report.write_text(f"hostile input cases ran: {t.ran}\nhandled: {t.handled}\n" +
                      "".join(f"NOT HANDLED {f}\n" for f in t.failures), encoding="utf-8")
    assert t.failures == [], t.failures
    assert t.ran >= 116


HUGE_AND_ODD_NUMBERS = ["10**30", "2147483648", "-1", "1e308", "NaN", "Infinity", "-Infinity", '"abc"', "1.5", "true"]
HOSTILE_STATIC_PATHS = [
    "/shared/%00.js", "/widget/a%00b.js", "/console/%00", "/supervisor/%7f", "/demo/assets/%0a.css",
    "/shared/..%2f..%2fapp.py", "/shared/../../app.py", "/widget/%2e%2e/%2e%2e/settings.py",
    "/console/..%5c..%5capp.py", "/shared/%c0%ae%c0%ae/app.py", "/shared/" + "a" * 300 + ".js",
    "/widget/" + "a/" * 600 + "x.js", "/shared/%", "/shared/%zz.js", "/demo/assets/%ff%fe.js",
]


def json_number(literal: str) -> str:
    return str(10**30) if literal == "10**30" else literal


async def test_hostile_numbers_paths_and_hellos_get_a_clear_answer(client, bridge, backend):
    """Numbers out of range of their column (or not finite), static paths no file
    can have, and websocket hellos with odd sequence numbers: each gets a 4xx
    with an error code, or an error frame and close code 4400, never a 500 or a
    database overflow."""
    d = bridge.deps
    t = Tally(failures=[])
    cid, headers = await new_conversation(client)
    sup = await agent_session(d, client, "sara", role="supervisor")
    agent = await agent_session(d, client, "bo")

    async def must_refuse(name, resp, codes=(400,)):
        try:
            ok = resp.status_code in codes and "error" in resp.json()
        except ValueError:
            ok = False
        t.check(name, ok, f"{resp.status_code} {resp.text[:200]}")

    for path in HOSTILE_STATIC_PATHS:
        r = await client.get(path)
        t.check(f"static {path[:40]}", r.status_code in (400, 404), f"{r.status_code}")

    # Numbers in JSON bodies: ratings, transfers, agent capacity (the bot's confidence is checked in test_rasa.py).
    for literal in HUGE_AND_ODD_NUMBERS:
        body = '{"score": %s}' % json_number(literal)
        r = await client.post(f"/api/v1/citizen/conversations/{cid}/rating",
                              headers={**headers, "Content-Type": "application/json"}, content=body)
        await must_refuse(f"score {literal}", r, (400, 409))
    for literal in HUGE_AND_ODD_NUMBERS:
        base = {"login": "carl", "password": "another long password", "display_name": "Carl", "role": "agent",
                "languages": ["da"]}
        body = json.dumps(base)[:-1] + ', "capacity": %s}' % json_number(literal)
        r = await client.post("/api/v1/agent/agents", headers={**sup, "Content-Type": "application/json"}, content=body)
        await must_refuse(f"capacity {literal}", r)
        me = (await client.get("/api/v1/agent/me", headers=agent)).json()["id"]
        r = await client.patch(f"/api/v1/agent/agents/{me}", headers={**sup, "Content-Type": "application/json"},
                               content='{"capacity": %s}' % json_number(literal))
        await must_refuse(f"patch capacity {literal}", r)
    await client.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)
    claimed = await client.post("/api/v1/agent/queue/claim-next", headers=agent)
    t.check("claim for transfer", claimed.status_code == 200, claimed.text[:200])
    for literal in HUGE_AND_ODD_NUMBERS:
        r = await client.post(f"/api/v1/agent/conversations/{cid}/transfer",
                              headers={**agent, "Content-Type": "application/json"},
                              content='{"agent_id": %s}' % json_number(literal))
        await must_refuse(f"transfer agent_id {literal}", r, (400, 404, 409))
    # A non-finite number anywhere in a body is refused as invalid JSON.
    for literal in ("NaN", "Infinity", "-Infinity"):
        r = await client.post(f"/api/v1/citizen/conversations/{cid}/messages",
                              headers={**headers, "Content-Type": "application/json"},
                              content='{"text": "hej", "payload": {"n": %s}}' % literal)
        await must_refuse(f"non-finite in body {literal}", r)

    # Integers in paths and query strings.
    for number in ("99999999999999999999", "2147483648", "-1", "0"):
        for method, path in (("POST", f"/api/v1/agent/escalations/{number}/claim"),
                             ("POST", f"/api/v1/agent/callbacks/{number}/take"),
                             ("POST", f"/api/v1/agent/callbacks/{number}/complete"),
                             ("PUT", f"/api/v1/agent/canned/{number}"),
                             ("DELETE", f"/api/v1/agent/canned/{number}"),
                             ("PATCH", f"/api/v1/agent/agents/{number}")):
            r = await client.request(method, path, headers=sup, json={"title": "t"} if method in ("PUT", "PATCH") else None)
            await must_refuse(f"{method} {path}", r, (400, 404, 409))
    for after in ("2147483648", "1e3", "NaN"):
        await must_refuse(f"messages after {after}",
                          await client.get(f"/api/v1/citizen/conversations/{cid}/messages", headers=headers,
                                           params={"after": after}))
        await must_refuse(f"transcript after {after}",
                          await client.get(f"/api/v1/agent/conversations/{cid}/transcript", headers=sup,
                                           params={"after": after}))
    for wait in ("NaN", "inf", "-inf", "abc"):
        await must_refuse(f"wait {wait}", await client.get(f"/api/v1/citizen/conversations/{cid}/messages",
                                                           headers=headers, params={"after": 0, "wait": wait}))

    # Websocket hellos with odd sequence numbers and cursors: an error frame, then close code 4400.
    base = bridge.url.replace("http://", "ws://")
    token = headers["Authorization"][7:]
    agent_token = agent["Authorization"][7:]
    hellos = [(f"{base}/api/v1/citizen/conversations/{cid}/ws",
               '{"type": "hello", "token": "%s", "last_seq": %s}' % (token, json_number(literal)))
              for literal in HUGE_AND_ODD_NUMBERS + ["null", "[1]"]]
    hellos += [(f"{base}/api/v1/agent/ws", '{"type": "hello", "token": "%s", "cursors": {"%s": %s}}'
                % (agent_token, cid, json_number(literal))) for literal in HUGE_AND_ODD_NUMBERS]
    for i, (url, hello) in enumerate(hellos):
        async with websockets.connect(url) as ws:
            await ws.send(hello)
            frames, code = [], None
            try:
                while True:
                    frames.append(json.loads(await ws.recv()))
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
            ok = code == 4400 and [f["type"] for f in frames] == ["error"] and frames[0]["error"]["code"] == "invalid_hello"
            t.check(f"hello {i} {hello[-30:]}", ok, f"{code} {frames}")
    # The sockets still work with a valid hello afterwards.
    async with websockets.connect(f"{base}/api/v1/citizen/conversations/{cid}/ws") as ws:
        await ws.send(json.dumps({"type": "hello", "token": token, "last_seq": 2**31 - 1}))
        t.check("hello at the limit", json.loads(await ws.recv())["type"] == "hello", "")

    report = SERVICE_DIR / "test-artifacts" / f"hostile-numbers-{backend}.txt"
    report.parent.mkdir(exist_ok=True)
    report.write_text(f"hostile number, path and hello cases ran: {t.ran}\nhandled: {t.handled}\n" +
                      "".join(f"NOT HANDLED {f}\n" for f in t.failures), encoding="utf-8")
    assert t.failures == [], t.failures
    assert t.ran >= 116
