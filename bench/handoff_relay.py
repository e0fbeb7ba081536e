#!/usr/bin/env python3
"""Handoff bridge relay benchmark (loopback only, bounded in count and time).

Starts bridge instance(s) as separate processes, puts N conversations (default
200) in agent mode, and measures:

  * escalation -> agent notification latency: from the service escalation
    call until an agent's websocket shows the new chat;
  * relay latency citizen -> agent (p50/p95/p99): citizen websocket send until
    the agent's websocket receives the message, at a paced load (each
    conversation sends on a fixed schedule); also send -> ack (stored and
    acknowledged) and the benchmark client's own event-loop delay;
  * relayed messages per second: every citizen sending as fast as its acks
    allow, for a fixed time.

Run with the bridge's virtualenv: `make -C handoff bench`, or
`handoff/.venv/bin/python bench/handoff_relay.py --help`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))
from bench.bridge_processes import SERVICE_DIR, BridgeDidNotStart, start_bridge, stop_bridges, wait_healthy  # noqa: E402

HOST = "127.0.0.1"  # the benchmark only ever talks to loopback
PASSWORD = "bench password " + secrets.token_hex(4)
ALL_DAY_QUEUES = """
queues:
  - name: bench
    language: da
    municipalities: ["*"]
    timezone: Europe/Copenhagen
    callback_offer_after_seconds: 86400
    hours: {mon: ["00:00-24:00"], tue: ["00:00-24:00"], wed: ["00:00-24:00"], thu: ["00:00-24:00"],
            fri: ["00:00-24:00"], sat: ["00:00-24:00"], sun: ["00:00-24:00"]}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


class Bridge:
    """Bridge instances as subprocesses sharing one database (and Redis when several)."""

    def __init__(self, args, workdir: Path):
        self.args = args
        self.workdir = workdir
        self.procs: list[subprocess.Popen] = []
        self.urls: list[str] = []
        self.schema = f"handoff_bench_{os.getpid()}"
        queues = workdir / "queues.yml"
        queues.write_text(ALL_DAY_QUEUES, encoding="utf-8")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HANDOFF_")}
        self.env.update({
            "HANDOFF_ENV": "development",
            "HANDOFF_QUEUES_CONFIG": str(queues),
            "HANDOFF_COOKIE_SECURE": "false",
            "HANDOFF_LOG_LEVEL": "WARNING",
            # The load comes from one address: per-address limits would only
            # measure 429s. Messages are still counted per conversation (the
            # production path), against a limit the benchmark never reaches.
            "HANDOFF_MESSAGES_PER_MINUTE_PER_CONVERSATION": "1000000",
            "HANDOFF_MESSAGES_PER_MINUTE_PER_ADDRESS": "0",
            "HANDOFF_CONVERSATIONS_PER_MINUTE_PER_ADDRESS": "0",
            "HANDOFF_WEBSOCKETS_PER_ADDRESS": "0",
            # No Rasa is needed in agent mode; a closed port fails fast.
            "HANDOFF_RASA_URL": f"http://{HOST}:{free_port()}",
            "HANDOFF_RASA_TIMEOUT_SECONDS": "1",
        })
        if args.backend == "postgres":
            self.env.update({
                "HANDOFF_DATABASE_URL": args.postgres_url,
                "HANDOFF_DB_SCHEMA": self.schema,
                "HANDOFF_REDIS_URL": args.redis_url,
                "HANDOFF_REDIS_CHANNEL_PREFIX": self.schema,
                "HANDOFF_DB_POOL_SIZE": "20",
                "HANDOFF_WRITER_LANES": str(args.writer_lanes),
            })
        else:
            self.env["HANDOFF_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"

    async def start(self):
        for i in range(self.args.instances):
            port = free_port()
            env = {**self.env, "HANDOFF_PORT": str(port)}
            self.procs.append(start_bridge(env, self.workdir / f"bridge-{i}.log"))
            self.urls.append(f"http://{HOST}:{port}")
            if i == 0:
                await self._wait(self.urls[0], self.procs[0])  # first one runs the migrations alone
        for url, proc in zip(self.urls, self.procs):
            await self._wait(url, proc)
        env = {**self.env, "HANDOFF_NEW_AGENT_PASSWORD": PASSWORD}
        subprocess.run([sys.executable, "-m", "handoff_bridge", "create-agent", "bench-sup", "--role", "supervisor",
                        "--capacity", "20"], cwd=SERVICE_DIR, env=env, check=True, capture_output=True, timeout=60)

    async def _wait(self, url, proc):
        try:
            await wait_healthy(url, proc)
        except BridgeDidNotStart as error:
            raise SystemExit(f"{error}; see {self.workdir}") from None

    def stop(self):
        stop_bridges(self.procs)
        if self.args.backend == "postgres":
            subprocess.run([sys.executable, "-c", _DROP_SCHEMA, self.args.postgres_url, self.schema],
                           cwd=SERVICE_DIR, env=self.env, timeout=60)


_DROP_SCHEMA = """
import asyncio, sys
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
async def main():
    engine = create_async_engine(sys.argv[1])
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{sys.argv[2]}" CASCADE'))
    await engine.dispose()
asyncio.run(main())
"""


class Agent:
    def __init__(self, url, headers):
        self.url, self.headers = url, headers
        self.ws = None
        self.waiting_seen: dict[str, float] = {}
        self.received: dict[str, float] = {}  # client_msg_id -> receive time
        self.count = 0
        self.task = None

    async def connect(self):
        self.ws = await websockets.connect(self.url.replace("http://", "ws://") + "/api/v1/agent/ws",
                                           max_size=2**20, open_timeout=10)
        await self.ws.send(json.dumps({"type": "hello", "token": self.headers["Authorization"][7:]}))
        self.task = asyncio.create_task(self._read())

    async def _read(self):
        async for raw in self.ws:
            now = time.perf_counter()
            f = json.loads(raw)
            if f.get("type") == "chat_waiting":
                self.waiting_seen.setdefault(f["conversation_id"], now)
            elif f.get("type") == "message" and f.get("sender") == "citizen":
                self.count += 1
                if f.get("client_msg_id"):
                    self.received[f["client_msg_id"]] = now


class Citizen:
    def __init__(self, url, cid, token):
        self.url, self.cid, self.token = url, cid, token
        self.ws = None
        self.acks: dict[str, asyncio.Future] = {}
        self.task = None

    async def connect(self):
        self.ws = await websockets.connect(
            self.url.replace("http://", "ws://") + f"/api/v1/citizen/conversations/{self.cid}/ws",
            max_size=2**20, open_timeout=10)
        await self.ws.send(json.dumps({"type": "hello", "token": self.token, "last_seq": 10**6}))
        self.task = asyncio.create_task(self._read())

    async def _read(self):
        async for raw in self.ws:
            f = json.loads(raw)
            if f.get("type") in ("ack", "error") and f.get("client_msg_id") in self.acks:
                fut = self.acks.pop(f["client_msg_id"])
                if not fut.done():
                    fut.set_result(f)

    async def send(self, text, mid, sent_at: dict, acked_after: list | None = None):
        fut = asyncio.get_running_loop().create_future()
        self.acks[mid] = fut
        sent_at[mid] = start = time.perf_counter()
        await self.ws.send(json.dumps({"type": "message", "text": text, "client_msg_id": mid}))
        ack = await asyncio.wait_for(fut, 30)
        if acked_after is not None:
            acked_after.append((time.perf_counter() - start) * 1000)
        return ack


async def run(args):
    workdir = Path(tempfile.mkdtemp(prefix="handoff-bench-"))
    bridge = Bridge(args, workdir)
    print(f"starting {args.instances} bridge instance(s), backend={args.backend} ...", flush=True)
    await bridge.start()
    urls = bridge.urls
    limits = httpx.Limits(max_connections=100)
    clients = [httpx.AsyncClient(base_url=u, timeout=30, limits=limits) for u in urls]
    citizens: list[Citizen] = []
    agents: list[Agent] = []
    try:
        n = args.conversations
        n_agents = max(1, -(-n // 20))
        sup = await clients[0].post("/api/v1/agent/login", json={"login": "bench-sup", "password": PASSWORD})
        sup_h = {"Authorization": f"Bearer {sup.json()['token']}"}
        for i in range(n_agents):
            r = await clients[0].post("/api/v1/agent/agents", headers=sup_h, json={
                "login": f"bench-agent-{i}", "password": PASSWORD, "capacity": 20, "languages": ["da"],
                "municipalities": ["*"]})
            r.raise_for_status()
        for i in range(n_agents):
            c = clients[i % len(clients)]
            r = await c.post("/api/v1/agent/login", json={"login": f"bench-agent-{i}", "password": PASSWORD})
            h = {"Authorization": f"Bearer {r.json()['token']}"}
            (await c.put("/api/v1/agent/me/status", headers=h, json={"status": "available"})).raise_for_status()
            a = Agent(urls[i % len(urls)], h)
            await a.connect()
            agents.append(a)
        await asyncio.sleep(0.5)

        # Conversations, escalated by the citizen's "talk to a person" button (the one escalation path).
        print(f"creating {n} conversations and escalating them ...", flush=True)
        escalation_started: dict[str, float] = {}
        sem = asyncio.Semaphore(20)

        async def create_and_escalate(i):
            async with sem:
                c = clients[i % len(clients)]
                r = await c.post("/api/v1/citizen/conversations", json={"municipality": "101", "language": "da"})
                body = r.json()
                cz = Citizen(urls[i % len(urls)], body["conversation_id"], body["token"])
                escalation_started[cz.cid] = time.perf_counter()
                e = await c.post(f"/api/v1/citizen/conversations/{cz.cid}/handoff",
                                 headers={"Authorization": f"Bearer {body['token']}"})
                e.raise_for_status()
                return cz

        citizens = list(await asyncio.gather(*(create_and_escalate(i) for i in range(n))))
        await asyncio.sleep(1.0)
        notify = [min(a.waiting_seen[c.cid] for a in agents if c.cid in a.waiting_seen) - escalation_started[c.cid]
                  for c in citizens if any(c.cid in a.waiting_seen for a in agents)]

        # Each agent takes up to its capacity; all conversations end up in agent mode.
        for i, a in enumerate(agents):
            c = clients[i % len(clients)]
            for _ in range(20):
                r = await c.post("/api/v1/agent/queue/claim-next", headers=a.headers)
                if r.status_code != 200:
                    break
        await asyncio.gather(*(cz.connect() for cz in citizens))
        await asyncio.sleep(1.0)

        # The client's own event-loop delay, to tell its stalls from the bridge's.
        loop_lag: list[float] = []

        async def watch_loop():
            while True:
                t = time.perf_counter()
                await asyncio.sleep(0.01)
                loop_lag.append((time.perf_counter() - t - 0.01) * 1000)

        watcher = asyncio.create_task(watch_loop())
        gc.collect()
        gc.freeze()  # the set-up's objects stay out of the client's collections

        # Phase 1: paced load, for latency.
        rate = args.paced_rate
        per_conv_interval = n / rate
        sent_at: dict[str, float] = {}
        ack_lat: list[float] = []
        deadline = time.perf_counter() + args.paced_seconds

        async def paced(cz: Citizen, k: int):
            # Each conversation sends on a fixed schedule (staggered against the
            # others), so the offered rate holds whatever the latency, as long as
            # an acknowledgement comes within the interval.
            start = time.perf_counter() + (k / n) * per_conv_interval
            j = 0
            while True:
                due = start + j * per_conv_interval
                if due >= deadline:
                    return
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                await cz.send(f"Hej {j} fra borger", f"p-{cz.cid[:8]}-{j}", sent_at, ack_lat)
                j += 1

        print(f"phase 1: paced {rate} msg/s for {args.paced_seconds}s ...", flush=True)
        await asyncio.gather(*(paced(cz, k) for k, cz in enumerate(citizens)))
        await asyncio.sleep(1.0)
        watcher.cancel()
        received = {}
        for a in agents:
            received.update(a.received)
        lat = [(received[m] - t) * 1000 for m, t in sent_at.items() if m in received]
        lost_paced = len(sent_at) - len(lat)

        # Phase 2: as fast as acks allow, for throughput.
        print(f"phase 2: saturating for {args.burst_seconds}s ...", flush=True)
        for a in agents:
            a.count = 0
        sent_burst: dict[str, float] = {}
        stop_at = time.perf_counter() + args.burst_seconds

        async def burst(cz: Citizen):
            j = 0
            while time.perf_counter() < stop_at and j < args.max_messages_per_conversation:
                await cz.send(f"Besked {j}", f"b-{cz.cid[:8]}-{j}", sent_burst)
                j += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(burst(cz) for cz in citizens))
        t_send = time.perf_counter() - t0
        # Wait for the tail to arrive (bounded).
        for _ in range(100):
            if sum(a.count for a in agents) >= len(sent_burst):
                break
            await asyncio.sleep(0.05)
        t_all = time.perf_counter() - t0
        relayed = sum(a.count for a in agents)
        received = {}
        for a in agents:
            received.update(a.received)
        burst_lat = [(received[m] - t) * 1000 for m, t in sent_burst.items() if m in received]

        print()
        print(f"conversations in agent mode: {n}  agents: {len(agents)}  instances: {len(urls)}  backend: {args.backend}")
        print(f"escalation -> agent notification: n={len(notify)} p50={pct(notify, 50)*1000:.1f} ms "
              f"p95={pct(notify, 95)*1000:.1f} ms max={max(notify)*1000:.1f} ms")
        print(f"relay latency citizen -> agent at {rate} msg/s: n={len(lat)} p50={pct(lat, 50):.1f} ms "
              f"p95={pct(lat, 95):.1f} ms p99={pct(lat, 99):.1f} ms lost={lost_paced}")
        print(f"  of which stored and acknowledged (citizen send -> ack): p50={pct(ack_lat, 50):.1f} ms "
              f"p95={pct(ack_lat, 95):.1f} ms; achieved rate {len(sent_at) / args.paced_seconds:.0f} msg/s")
        print(f"  benchmark client's event-loop delay meanwhile: p95={pct(loop_lag, 95):.1f} ms "
              f"max={max(loop_lag):.1f} ms")
        print(f"throughput: {relayed} messages relayed in {t_all:.2f} s = {relayed / t_all:.0f} msg/s "
              f"(sent {len(sent_burst)} in {t_send:.2f} s; latency under saturation p50={pct(burst_lat, 50):.1f} ms "
              f"p95={pct(burst_lat, 95):.1f} ms)")
    finally:
        for cz in citizens:
            if cz.ws is not None:
                await cz.ws.close()
        for a in agents:
            if a.ws is not None:
                await a.ws.close()
        for c in clients:
            await c.aclose()
        bridge.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    p.add_argument("--instances", type=int, default=1, help="bridge processes (postgres backend only for >1)")
    p.add_argument("--conversations", type=int, default=200)
    p.add_argument("--paced-rate", type=float, default=400.0, help="total msg/s in the latency phase")
    p.add_argument("--paced-seconds", type=float, default=10.0)
    p.add_argument("--burst-seconds", type=float, default=10.0)
    p.add_argument("--max-messages-per-conversation", type=int, default=500)
    p.add_argument("--writer-lanes", type=int, default=4, help="HANDOFF_WRITER_LANES (postgres backend)")
    p.add_argument("--postgres-url", default=os.environ.get("HANDOFF_TEST_POSTGRES_URL",
                                                          "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    p.add_argument("--redis-url", default=os.environ.get("HANDOFF_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = p.parse_args()
    if args.backend == "sqlite" and args.instances != 1:
        p.error("SQLite runs one instance")
    for url in (args.postgres_url, args.redis_url):
        host = url.split("@")[-1].split("//")[-1].split(":")[0].split("/")[0]
        if args.backend == "postgres" and host not in ("127.0.0.1", "localhost", "::1"):
            p.error("the benchmark only talks to loopback")
    # Hard upper bound on the whole run.
    asyncio.run(asyncio.wait_for(run(args), timeout=600))


if __name__ == "__main__":
    main()
