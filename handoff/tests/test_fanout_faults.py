"""Agents never miss a message when the fan-out fails: two bridge instances as
real processes on PostgreSQL and the real Redis.

1. Redis is cut for 5 s under load (a TCP proxy between the bridges and Redis
   drops every connection and refuses new ones): the bridges tell their
   websockets to resync (close code 4408), the agent's console reconnects with
   its cursors and gets every citizen message exactly once.
2. kill -9 of the instance the agent is connected to while messages flow: the
   console reconnects to the other instance and gets every message.

The counts (sent, stored, delivered, lost, duplicated) are written to
test-artifacts/fanout-faults.txt.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

import httpx
from tests.support import log_audit
import pytest
import websockets
from conftest import SERVICE_DIR, clean_tables, free_port
from helpers import DEFAULT_PASSWORD, CuttableProxy, login, new_conversation
from bench.bridge_processes import start_bridge, stop_bridges, wait_healthy
from test_multi_instance import instance_env

pytestmark = pytest.mark.multi_instance

CONVERSATIONS = 20  # an agent's largest capacity
REPORT = SERVICE_DIR / "test-artifacts" / "fanout-faults.txt"


class Console:
    """What the agent console does with its websocket: keep a cursor per held
    chat, reconnect on every close (to the next instance when one does not
    answer) and resume from the cursors. Counts every message delivered."""

    def __init__(self, urls: list[str], token: str):
        self.urls = urls
        self.token = token
        self.current = 0
        self.cursors: dict[str, int] = {}
        self.deliveries: Counter = Counter()  # (conversation id, client_msg_id or seq) -> times delivered
        self.close_codes: Counter = Counter()
        self.connects = 0
        self.resyncs = 0
        self.out_of_order: list = []
        self.connected_at: list[float] = []
        self.greeted = asyncio.Event()  # the bridge answered a hello: the console holds its chats
        self._stop = False
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop = True
        if self._task:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    def _on_frame(self, frame: dict) -> None:
        kind = frame.get("type")
        if kind == "hello":
            held = {c["conversation_id"]: c["last_seq"] for c in frame["chats"]}
            for cid, last_seq in held.items():
                self.cursors.setdefault(cid, last_seq)
            for cid in set(self.cursors) - set(held):
                del self.cursors[cid]
            self.greeted.set()
        elif kind == "message":
            cid = frame["conversation_id"]
            self.deliveries[(cid, frame.get("client_msg_id") or f"seq-{frame['seq']}")] += 1
            if frame["seq"] <= self.cursors.get(cid, 0):
                self.out_of_order.append((cid, frame["seq"], self.cursors.get(cid)))
            self.cursors[cid] = max(frame["seq"], self.cursors.get(cid, 0))
        elif kind == "resync":
            self.resyncs += 1

    async def _run(self) -> None:
        while not self._stop:
            url = self.urls[self.current % len(self.urls)].replace("http://", "ws://") + "/api/v1/agent/ws"
            try:
                async with websockets.connect(url, open_timeout=3, close_timeout=2) as ws:
                    await ws.send(json.dumps({"type": "hello", "token": self.token, "cursors": self.cursors}))
                    self.connects += 1
                    self.connected_at.append(time.monotonic())
                    try:
                        async for raw in ws:
                            self._on_frame(json.loads(raw))
                    finally:
                        self.close_codes[None if ws.close_code is None else int(ws.close_code)] += 1
            except (OSError, asyncio.TimeoutError, websockets.InvalidHandshake, websockets.ConnectionClosed):
                # That instance does not answer (killed, say): the next one.
                self.current += 1
            await asyncio.sleep(0.2)


def fault_env(settings, port, rasa_url, redis_url):
    env = instance_env(settings, port, rasa_url)
    env.update({
        "HANDOFF_REDIS_URL": redis_url,
        # Rate limits count in Redis; they are not under test here.
        "HANDOFF_MESSAGES_PER_MINUTE_PER_CONVERSATION": "0",
        "HANDOFF_MESSAGES_PER_MINUTE_PER_ADDRESS": "0",
        "HANDOFF_CONVERSATIONS_PER_MINUTE_PER_ADDRESS": "0",
        "HANDOFF_WEBSOCKETS_PER_ADDRESS": "0",
    })
    return env


@pytest.fixture
async def redis_proxy(backend_settings):
    if backend_settings.is_sqlite:
        pytest.skip("several instances need PostgreSQL and Redis")
    target = urlsplit(backend_settings.redis_url)
    proxy = CuttableProxy(target.hostname, target.port or 6379)
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.fixture
async def instances_behind_proxy(backend_settings, fake_rasa, redis_proxy, tmp_path):
    """Two bridges that reach Redis only through the proxy."""
    await clean_tables(backend_settings)
    db = urlsplit(backend_settings.redis_url)
    redis_url = f"redis://127.0.0.1:{redis_proxy.port}{db.path or '/0'}"
    procs, urls = [], []
    for name in ("a", "b"):
        port = free_port()
        env = fault_env(backend_settings, port, fake_rasa.url, redis_url)
        log_audit.watch(tmp_path / f"instance-{name}.log", env)
        procs.append(start_bridge(env, tmp_path / f"instance-{name}.log"))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        await asyncio.gather(*(wait_healthy(u, p) for u, p in zip(urls, procs)))
        fake_rasa.bridge_url = urls[0]
        env = fault_env(backend_settings, 0, fake_rasa.url, redis_url)
        env["HANDOFF_NEW_AGENT_PASSWORD"] = DEFAULT_PASSWORD
        subprocess.run([sys.executable, "-m", "handoff_bridge", "create-agent", "anna", "--capacity", str(CONVERSATIONS)],
                       cwd=SERVICE_DIR, env=env, check=True, capture_output=True, timeout=60)
        yield urls, procs
    finally:
        stop_bridges(procs)


async def claimed_conversations(citizen_side: httpx.AsyncClient, agent_side: httpx.AsyncClient, anna: dict):
    chats = []
    for _ in range(CONVERSATIONS):
        cid, headers = await new_conversation(citizen_side)
        r = await citizen_side.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)
        assert r.status_code == 200, r.text
        chats.append((cid, headers))
    for _ in range(CONVERSATIONS):
        r = await agent_side.post("/api/v1/agent/queue/claim-next", headers=anna)
        assert r.status_code == 200, r.text
    return chats


class Load:
    """Citizen messages over HTTP at a steady pace, one sender per conversation."""

    def __init__(self, client: httpx.AsyncClient, chats, per_chat: int, interval: float):
        self.client, self.chats, self.per_chat, self.interval = client, chats, per_chat, interval
        self.sent = 0
        self.acknowledged: set[tuple[str, str]] = set()
        self.refused: Counter = Counter()

    async def _one_chat(self, cid: str, headers: dict) -> None:
        for i in range(self.per_chat):
            msg_id = f"m{i}"
            self.sent += 1
            for _attempt in range(20):  # a 5xx or a dropped connection: the widget resends the same id
                try:
                    r = await self.client.post(f"/api/v1/citizen/conversations/{cid}/messages", headers=headers,
                                               json={"text": f"besked {i}", "client_msg_id": msg_id})
                except httpx.HTTPError:
                    self.refused["connection"] += 1
                    await asyncio.sleep(0.2)
                    continue
                if r.status_code in (200, 201):
                    self.acknowledged.add((cid, msg_id))
                    break
                self.refused[r.status_code] += 1
                await asyncio.sleep(0.2)
            await asyncio.sleep(self.interval)

    async def run(self) -> None:
        await asyncio.gather(*(self._one_chat(cid, h) for cid, h in self.chats))


async def stored_citizen_messages(client: httpx.AsyncClient, chats, anna: dict) -> set[tuple[str, str]]:
    stored = set()
    for cid, _headers in chats:
        r = await client.get(f"/api/v1/agent/conversations/{cid}/transcript", headers=anna)
        assert r.status_code == 200, r.text
        stored |= {(cid, m["client_msg_id"]) for m in r.json()["messages"] if m["sender"] == "citizen"}
    return stored


async def wait_for_delivery(console: Console, expected: set, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if expected <= set(console.deliveries):
            return time.monotonic() - start
        await asyncio.sleep(0.1)
    return time.monotonic() - start


def report(name: str, load: Load, stored: set, console: Console, extra: str = "") -> dict:
    delivered = {k for k in console.deliveries if k in stored}
    duplicated = sum(n - 1 for n in console.deliveries.values() if n > 1)
    figures = {
        "sent": load.sent, "acknowledged": len(load.acknowledged), "stored": len(stored),
        "delivered": len(delivered), "lost": len(stored - delivered), "duplicated": duplicated,
        "out of order": len(console.out_of_order), "agent connects": console.connects, "close codes": dict(console.close_codes), "resync frames": console.resyncs,
        "refused then resent": dict(load.refused),
    }
    REPORT.parent.mkdir(exist_ok=True)
    with REPORT.open("a", encoding="utf-8") as out:
        out.write(f"{name}: " + ", ".join(f"{k} {v}" for k, v in figures.items()) + (f", {extra}" if extra else "") + "\n")
    return figures


async def test_redis_cut_under_load_every_message_reaches_the_agent_once(instances_behind_proxy, redis_proxy):
    (url_a, url_b), _procs = instances_behind_proxy
    async with httpx.AsyncClient(base_url=url_a, timeout=30) as a, httpx.AsyncClient(base_url=url_b, timeout=30) as b:
        anna = await login(b, "anna")
        chats = await claimed_conversations(a, b, anna)
        console = Console([url_b, url_a], anna["Authorization"].split(" ", 1)[1])
        console.start()
        # A citizen socket on A as well: it is told to resync too.
        cid0, headers0 = chats[0]
        citizen = await websockets.connect(url_a.replace("http://", "ws://") + f"/api/v1/citizen/conversations/{cid0}/ws")
        await citizen.send(json.dumps({"type": "hello", "token": headers0["Authorization"][7:], "last_seq": 0}))

        async def drain():
            with contextlib.suppress(websockets.ConnectionClosed):
                async for _frame in citizen:
                    pass
        citizen_reader = asyncio.create_task(drain())
        await asyncio.wait_for(console.greeted.wait(), 10)

        load = Load(a, chats, per_chat=150, interval=0.03)
        sending = asyncio.create_task(load.run())
        await asyncio.sleep(3.0)
        sent_before_cut = load.sent
        redis_proxy.cut()
        await asyncio.sleep(5.0)
        sent_during_cut = load.sent - sent_before_cut
        redis_proxy.restore()
        # How long until the agent has every message acknowledged before the restore.
        caught_up = asyncio.create_task(wait_for_delivery(console, set(load.acknowledged), timeout=30))
        await sending
        citizen_close = None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(citizen_reader, 5)
            citizen_close = citizen.close_code
        citizen_reader.cancel()
        await citizen.close()

        stored = await stored_citizen_messages(b, chats, anna)
        waited = await wait_for_delivery(console, stored, timeout=30)
        await asyncio.sleep(1.0)  # anything repeated late would show now
        await console.stop()
        catch_up_seconds = await caught_up
        figures = report("redis cut 5 s", load, stored, console,
                         f"sent during the cut {sent_during_cut}, everything sent until the restore delivered "
                         f"{catch_up_seconds:.1f} s after it, the rest {waited:.1f} s after the last send; "
                         f"citizen socket closed with {citizen_close}")

    assert sent_during_cut > 100
    assert figures["acknowledged"] == figures["sent"] == figures["stored"] == CONVERSATIONS * 150
    assert figures["lost"] == 0 and figures["duplicated"] == 0 and figures["out of order"] == 0, figures
    assert console.close_codes[4408] >= 1, console.close_codes
    assert citizen_close == 4408


async def test_kill_9_of_the_agents_instance_the_console_resumes_on_the_other(instances_behind_proxy):
    (url_a, url_b), procs = instances_behind_proxy
    async with httpx.AsyncClient(base_url=url_a, timeout=30) as a, httpx.AsyncClient(base_url=url_b, timeout=30) as b:
        anna = await login(b, "anna")
        chats = await claimed_conversations(a, b, anna)
        console = Console([url_b, url_a], anna["Authorization"].split(" ", 1)[1])
        console.start()
        await asyncio.wait_for(console.greeted.wait(), 10)
        load = Load(a, chats, per_chat=100, interval=0.03)
        sending = asyncio.create_task(load.run())
        await asyncio.sleep(3.0)
        os.kill(procs[1].pid, signal.SIGKILL)
        killed_at, sent_before_kill = time.monotonic(), load.sent
        await sending
        stored = await stored_citizen_messages(a, chats, anna)
        waited = await wait_for_delivery(console, stored, timeout=30)
        reconnected_at = next((t for t in console.connected_at if t > killed_at), None)
        await asyncio.sleep(1.0)
        await console.stop()
        assert reconnected_at is not None, "the console never reconnected"
        figures = report("kill -9 of the agent's instance", load, stored, console,
                         f"console connected to the other instance {reconnected_at - killed_at:.1f} s after the kill, "
                         f"sent after the kill {load.sent - sent_before_kill}, "
                         f"all delivered {waited:.1f} s after the last send")

    assert figures["acknowledged"] == figures["sent"] == figures["stored"] == CONVERSATIONS * 100
    assert figures["lost"] == 0 and figures["duplicated"] == 0 and figures["out of order"] == 0, figures
    assert console.connects >= 2
