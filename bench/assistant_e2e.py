#!/usr/bin/env python3
"""The assistant end to end through the bridge, as citizens use it.

Starts N Rasa instances, each with its own action server (production
endpoints: PostgreSQL tracker store, Redis lock store), and one bridge
process (PostgreSQL, Redis) that spreads conversations over them. Then C
citizens (default 200) each open the widget's websocket and send held-out
messages with a pause of 2-6 s between an answer and the next message, and
the time from sending a message to the first bot answer in the same socket
is measured.

Run with the bridge's virtualenv (the Rasa processes use ../.venv):
  handoff/.venv/bin/python bench/assistant_e2e.py --instances 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import websockets

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from bench.handoff_relay import Bridge, free_port, pct  # noqa: E402
from bench.heldout import heldout  # noqa: E402

RASA_PYTHON = ROOT / ".venv" / "bin" / "python"
# The bridge's words when the assistant could not answer (handoff_bridge/i18n.py).
UNAVAILABLE = ("kan desværre ikke svare", "kan tyvärr inte svara")
MODEL = ROOT / "models" / "ddh.tar.gz"
PRODUCTION_ENV = {
    "RASA_DB_HOST": "127.0.0.1", "RASA_DB_PORT": "5432", "RASA_DB_NAME": "test", "RASA_DB_USER": "postgres",
    "RASA_DB_PASSWORD": "", "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "RASA_REDIS_DB": "2",
}


def start_assistant(instances: int, workdir: Path, token: str) -> tuple[list[subprocess.Popen], list[str]]:
    action_ports = [free_port() for _ in range(instances)]
    rasa_ports = [free_port() for _ in range(instances)]
    action_urls = [f"http://127.0.0.1:{p}/webhook" for p in action_ports]
    action_token = secrets.token_urlsafe(24)
    processes = []
    for i in range(instances):
        env = {
            **os.environ, **PRODUCTION_ENV,
            "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false",
            "RASA_TOKEN": token, "ACTION_SERVER_TOKEN": action_token,
            "ACTION_SERVER_URL": action_urls[i],
            "ACTION_SERVER_FALLBACK_URLS": ",".join(u for u in action_urls if u != action_urls[i]),
        }
        log = open(workdir / f"assistant-{i}.log", "wb")
        processes.append(subprocess.Popen(
            [str(RASA_PYTHON), "-m", "rasa_addons.action_server", "--actions", "actions", "--port", str(action_ports[i])],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        processes.append(subprocess.Popen(
            [str(RASA_PYTHON), "-m", "rasa_addons.server", "run", "--model", str(MODEL), "--interface", "127.0.0.1",
             "--port", str(rasa_ports[i]), "--enable-api", "--auth-token", token, "--credentials", "credentials.yml",
             "--endpoints", "deploy/production/endpoints.yml"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
    urls = [f"http://127.0.0.1:{p}" for p in rasa_ports]
    deadline = time.monotonic() + 900
    for url in urls:
        while True:
            try:
                if httpx.get(f"{url}/webhooks/bridge/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise SystemExit(f"the assistant did not start; see {workdir}")
            time.sleep(1)
    return processes, urls


class Citizen:
    def __init__(self, url: str, cid: str, token: str):
        self.url, self.cid, self.token = url, cid, token
        self.answer: asyncio.Future | None = None

    async def talk(self, texts: list[str], pause: tuple[float, float], latencies: list, failures: list,
                   queued: list) -> None:
        async with websockets.connect(self.url.replace("http://", "ws://") + f"/api/v1/citizen/conversations/{self.cid}/ws",
                                      max_size=2**20, open_timeout=30) as ws:
            await ws.send(json.dumps({"type": "hello", "token": self.token, "last_seq": 0}))
            # As the widget does: write once the bridge has greeted the socket.
            while json.loads(await asyncio.wait_for(ws.recv(), 30)).get("type") != "hello":
                pass
            reader = asyncio.create_task(self._read(ws))
            try:
                for text in texts:
                    self.answer = asyncio.get_running_loop().create_future()
                    started = time.perf_counter()
                    await ws.send(json.dumps({"type": "message", "text": text, "client_msg_id": secrets.token_hex(6)}))
                    try:
                        sender = await asyncio.wait_for(self.answer, 30)
                    except asyncio.TimeoutError:
                        failures.append("no answer in 30 s")
                        continue
                    latencies.append((time.perf_counter() - started) * 1000)
                    if sender == "offer":
                        failures.append("assistant unavailable, a person offered")
                    elif sender != "bot":
                        # A request for a person: the conversation is queued, the bot is done.
                        queued.append(self.cid)
                        break
                    await asyncio.sleep(random.uniform(*pause))
            finally:
                reader.cancel()

    async def _read(self, ws) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") == "message" and frame.get("sender") in ("bot", "system"):
                if self.answer is not None and not self.answer.done():
                    offer = frame["sender"] == "system" and (
                        any(b.get("payload", "").startswith("bridge:handoff")
                            for b in (frame.get("payload") or {}).get("buttons", []))
                        or any(t in (frame.get("text") or "") for t in UNAVAILABLE))
                    self.answer.set_result("offer" if offer else frame["sender"])
            elif frame.get("type") == "error":  # the bridge refused the message
                if self.answer is not None and not self.answer.done():
                    self.answer.set_result(f"error {frame.get('code')}")


async def run(args) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="assistant-e2e-"))
    token = secrets.token_urlsafe(24)
    print(f"starting {args.instances} Rasa instance(s) ...", flush=True)
    processes, rasa_urls = await asyncio.to_thread(start_assistant, args.instances, workdir, token)
    bridge_args = argparse.Namespace(instances=1, backend="postgres", postgres_url=args.postgres_url,
                                     redis_url=args.redis_url, writer_lanes=4)
    bridge = Bridge(bridge_args, workdir)
    bridge.env.update({"HANDOFF_RASA_URL": ",".join(rasa_urls), "HANDOFF_RASA_TOKEN": token,
                       "HANDOFF_RASA_TIMEOUT_SECONDS": "4"})
    try:
        await bridge.start()
        sets = heldout()
        texts = [text for pair in zip(sets["da"], sets["sv"]) for text, _ in pair]
        url = bridge.urls[0]
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            citizens = []
            for i in range(args.conversations):
                r = await client.post("/api/v1/citizen/conversations", json={"municipality": "101", "language": "da"})
                r.raise_for_status()
                citizens.append(Citizen(url, r.json()["conversation_id"], r.json()["token"]))
        latencies: list[float] = []
        failures: list[str] = []
        queued: list[str] = []
        load_before = os.getloadavg()[0]
        started = time.perf_counter()

        async def citizen_arrives(i: int, citizen: Citizen) -> None:
            await asyncio.sleep(random.uniform(0, args.pause_max))  # citizens arrive spread out
            conversation = [texts[(i * args.messages + k) % len(texts)] for k in range(args.messages)]
            await citizen.talk(conversation, (args.pause_min, args.pause_max), latencies, failures, queued)

        await asyncio.gather(*(citizen_arrives(i, c) for i, c in enumerate(citizens)))
        wall = time.perf_counter() - started
        print(f"Rasa instances: {args.instances}; conversations: {args.conversations}; messages: {len(latencies)}; "
              f"pause {args.pause_min}-{args.pause_max} s; load average {load_before:.2f} -> {os.getloadavg()[0]:.2f}")
        print(f"send -> first answer in the citizen's socket: p50 {pct(latencies, 50):.0f} ms, "
              f"p95 {pct(latencies, 95):.0f} ms, p99 {pct(latencies, 99):.0f} ms; "
              f"{len(latencies) / wall:.1f} msg/s over {wall:.0f} s; failed: {len(failures)} "
              f"({dict(Counter(failures))}); conversations that asked for a person (then queued): {len(queued)}")
    finally:
        bridge.stop()
        for p in processes:
            p.terminate()
        for p in processes:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--instances", type=int, default=os.cpu_count() or 1, help="Rasa instances")
    p.add_argument("--conversations", type=int, default=200)
    p.add_argument("--messages", type=int, default=5, help="messages per conversation")
    p.add_argument("--pause-min", type=float, default=2.0)
    p.add_argument("--pause-max", type=float, default=6.0)
    p.add_argument("--postgres-url", default=os.environ.get("HANDOFF_TEST_POSTGRES_URL",
                                                            "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    p.add_argument("--redis-url", default=os.environ.get("HANDOFF_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
