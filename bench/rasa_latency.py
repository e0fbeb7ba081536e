"""Message latency and throughput of the running Rasa server.

Starts the action server and a Rasa server for each model given (the shipped
model by default), then plays C concurrent conversations (1, 10, 50), each
sending held-out citizen messages one after the other, the next as soon as the
previous is answered (closed loop: the hardest case for the server), or after
a pause like a citizen reading and typing (--think-seconds). Every
request goes through the bridge channel, as in production. Prints p50/p95
latency, messages per second and the CPU time the Rasa and action server
processes spent per message, per level.

Usage:
  python bench/rasa_latency.py                              # models/ddh.tar.gz
  python bench/rasa_latency.py --model models/ddh.tar.gz --model bench/models/rasa_default.tar.gz
  python bench/rasa_latency.py --train-default              # trains the untuned default first
  python bench/rasa_latency.py --production --workers 2      # PostgreSQL + Redis, 2 Sanic workers
  python bench/rasa_latency.py --production --instances 2    # 2 Rasa + 2 action servers
  python bench/rasa_latency.py --production --baseline       # also: one instance, Rasa unpatched
  python bench/rasa_latency.py --production --profile var/profile  # py-spy of the first instance

Conversations are spread over the instances by rendezvous hashing of their
id, as the bridge does (handoff_bridge/rasa.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Dict, List

import aiohttp
import hashlib
import shutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.heldout import heldout  # noqa: E402

BIN = ROOT / ".venv" / "bin"
LEVELS = (1, 10, 50)
MESSAGES_PER_CONVERSATION = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer in {seconds} s")


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def instance_for(sender: str, urls: List[str]) -> str:
    """The bridge's choice: the highest rendezvous score of (instance, conversation)."""
    return max(urls, key=lambda url: hashlib.blake2b(f"{url}|{sender}".encode(), digest_size=8).digest())


async def play(urls: List[str], token: str, concurrency: int, messages: List[str], think: float = 0.0) -> Dict[str, float]:
    latencies: List[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=concurrency)

    async with aiohttp.ClientSession(timeout=timeout, connector=connector, headers=headers) as session:
        async def conversation(index: int) -> None:
            nonlocal errors
            sender = f"bench-{concurrency}-{index}-{secrets.token_hex(4)}"
            url = instance_for(sender, urls)
            for turn in range(MESSAGES_PER_CONVERSATION):
                text = messages[(index * MESSAGES_PER_CONVERSATION + turn) % len(messages)]
                started = time.perf_counter()
                async with session.post(
                    f"{url}/webhooks/bridge/webhook",
                    json={"sender": sender, "message": text, "metadata": {}},
                ) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append((time.perf_counter() - started) * 1000)
                if think:
                    # A citizen reads the answer and types the next message.
                    await asyncio.sleep(random.uniform(0.5 * think, 1.5 * think))

        started = time.perf_counter()
        if think:  # conversations start spread out, as citizens arrive
            await asyncio.gather(*(stagger(conversation, i, think) for i in range(concurrency)))
        else:
            await asyncio.gather(*(conversation(i) for i in range(concurrency)))
        wall = time.perf_counter() - started
    return {
        "messages": len(latencies),
        "errors": errors,
        "p50_ms": statistics.median(latencies),
        "p95_ms": percentile(latencies, 0.95),
        "messages_per_second": len(latencies) / wall,
    }


# The production endpoints (deploy/production/endpoints.yml) against the local
# PostgreSQL and Redis servers.
PRODUCTION_ENV = {
    "RASA_DB_HOST": "127.0.0.1",
    "RASA_DB_PORT": "5432",
    "RASA_DB_NAME": "test",
    "RASA_DB_USER": "postgres",
    "RASA_DB_PASSWORD": "",
    "REDIS_HOST": "127.0.0.1",
    "REDIS_PORT": "6379",
    "RASA_REDIS_DB": "2",
}


async def stagger(conversation, index: int, think: float) -> None:
    await asyncio.sleep(random.uniform(0, think))
    await conversation(index)


def measure(model: Path, messages: List[str], production: bool = False, workers: int = 1,
            think: float = 0.0, instances: int = 1, patched: bool = True,
            profile: Path | None = None, levels=LEVELS) -> Dict[int, Dict[str, float]]:
    token = secrets.token_urlsafe(24)
    action_ports = [free_port() for _ in range(instances)]
    rasa_ports = [free_port() for _ in range(instances)]
    processes: List[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as scratch:
        base_env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "RASA_TOKEN": token,
            "RASA_TRACKER_DB": str(Path(scratch) / "tracker.db"),
            "ACTION_SERVER_TOKEN": secrets.token_urlsafe(24),
            "SANIC_WORKERS": str(workers),
            "RASA_SERVING_PATCHES": "on" if patched else "off",
            **(PRODUCTION_ENV if production else {}),
        }
        endpoints = "deploy/production/endpoints.yml" if production else "endpoints.yml"
        log = open(Path(scratch) / "servers.log", "w")
        for index, (action_port, rasa_port) in enumerate(zip(action_ports, rasa_ports)):
            # Each Rasa instance calls its own action server first, the others when it is down.
            others = [p for p in action_ports if p != action_port]
            env = {
                **base_env,
                "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
                "ACTION_SERVER_FALLBACK_URLS": ",".join(f"http://127.0.0.1:{p}/webhook" for p in others),
            }
            processes.append(subprocess.Popen(
                [str(BIN / "python"), "-m", "rasa_addons.action_server", "--actions", "actions", "--port", str(action_port)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            ))
            command = [str(BIN / "python"), "-m", "rasa_addons.server", "run", "--model", str(model),
                       "--interface", "127.0.0.1", "--port", str(rasa_port), "--enable-api", "--auth-token", token,
                       "--credentials", "credentials.yml", "--endpoints", endpoints]
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        urls = [f"http://127.0.0.1:{port}" for port in rasa_ports]
        try:
            for index, (action_port, url) in enumerate(zip(action_ports, urls)):
                wait_until_up(f"http://127.0.0.1:{action_port}/health", processes[2 * index])
                wait_until_up(f"{url}/status?token={token}", processes[2 * index + 1])
            asyncio.run(play(urls, token, 2 * instances, messages[:20 * instances]))  # warm-up, not counted
            if profile is not None:  # sample the first Rasa instance while the load runs
                profile.parent.mkdir(parents=True, exist_ok=True)
                processes.append(subprocess.Popen(
                    [py_spy(), "record", "--format", "raw", "--rate", "50", "--nonblocking",
                     "--pid", str(processes[1].pid), "-o", str(profile)],
                    stdout=log, stderr=subprocess.STDOUT,
                ))
            servers = processes[:2 * instances]
            results = {}
            for level in levels:
                before = cpu_seconds(servers)
                results[level] = asyncio.run(play(urls, token, level, messages, think))
                results[level]["cpu_ms_per_message"] = (
                    1000 * (cpu_seconds(servers) - before) / max(1, results[level]["messages"]))
            if profile is not None:
                processes[-1].send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
                processes.pop().wait(timeout=60)
            return results
        finally:
            for process in reversed(processes):
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            log.close()


def cpu_seconds(processes: List[subprocess.Popen]) -> float:
    """CPU time (user + system, every thread) the processes have used so far.

    Unlike wall-clock figures it hardly moves when other work shares the
    machine's cores, so it shows what a change costs per message on a busy
    machine (PostgreSQL and Redis are not counted: other work uses them too)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for process in processes:
        try:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def profile_path(base: Path | None, label: str) -> Path | None:
    """One profile per measured set-up, beside the path given."""
    if base is None:
        return None
    return base.with_name(f"{base.stem}-{label.replace(' ', '-')}{base.suffix or '.txt'}")


def py_spy() -> str:
    found = os.environ.get("PY_SPY") or shutil.which("py-spy")
    if not found:
        raise SystemExit("--profile needs py-spy (pip install py-spy; or set PY_SPY=/path/to/py-spy)")
    return found


def train_default(out: Path) -> Path:
    subprocess.run(
        [str(BIN / "rasa"), "train", "--config", "bench/configs/rasa_default.yml", "--out", str(out),
         "--fixed-model-name", "rasa_default", "--quiet"],
        cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"},
    )
    from rasa_addons.model_signature import sign

    sign(out / "rasa_default.tar.gz")
    return out / "rasa_default.tar.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", type=Path)
    parser.add_argument("--train-default", action="store_true", help="also train and measure Rasa's untuned default")
    parser.add_argument("--production", action="store_true", help="PostgreSQL tracker store and Redis lock store")
    parser.add_argument("--workers", type=int, default=1, help="Sanic workers of the Rasa server (production only)")
    parser.add_argument("--instances", type=int, default=1,
                        help="Rasa servers (each with its own action server; production only)")
    parser.add_argument("--baseline", action="store_true",
                        help="also measure each model on one instance with Rasa's serving patches off")
    parser.add_argument("--profile", type=Path, help="py-spy raw profile of the first Rasa instance")
    parser.add_argument("--levels", type=lambda v: tuple(int(x) for x in v.split(",")), default=LEVELS,
                        help="concurrent conversations to play, comma-separated (default 1,10,50)")
    parser.add_argument("--think-seconds", type=float, default=0.0,
                        help="mean pause between a reply and the next message (default 0: back to back)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if (args.workers > 1 or args.instances > 1) and not args.production:
        parser.error("several workers or instances need the production endpoints (a shared tracker and lock store)")

    models = args.model or [ROOT / "models" / "ddh.tar.gz"]
    if args.train_default:
        started = time.perf_counter()
        models.append(train_default(ROOT / "bench" / "models"))
        print(f"untuned default trained in {time.perf_counter() - started:.0f} s")

    sets = heldout()
    messages = [text for pair in zip(sets["da"], sets["sv"]) for text, _ in pair]
    report = {}
    setup = (f"{'production' if args.production else 'embedded'}, {args.workers} worker(s), "
             f"think time {args.think_seconds} s, load average {os.getloadavg()[0]:.2f}")
    print(f"setup: {setup}")
    print(f"{'model':<34}{'conversations':>14}{'messages':>10}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'msg/s':>8}"
          f"{'CPU ms/msg':>12}")
    runs = [(model, args.instances, True) for model in models]
    if args.baseline:
        runs = [(model, 1, False) for model in models] + runs
    for model, instances, patched in runs:
        label = f"{model.name} x{instances}{'' if patched else ' unpatched'}"
        results = measure(model, messages, args.production, args.workers, args.think_seconds, instances, patched,
                          profile_path(args.profile, label), args.levels)
        report[label] = results
        for level, r in results.items():
            print(f"{label:<34}{level:>14}{r['messages']:>10}{r['errors']:>8}"
                  f"{r['p50_ms']:>9.0f}{r['p95_ms']:>9.0f}{r['messages_per_second']:>8.1f}"
                  f"{r['cpu_ms_per_message']:>12.1f}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
