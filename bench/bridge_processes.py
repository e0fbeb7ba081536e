"""Bridge instances as processes (`python -m handoff_bridge serve`, the running
interpreter, i.e. handoff/.venv), started and stopped the same way by the
benchmarks (bench/handoff_relay.py, bench/assistant_e2e.py) and by the
bridge's multi-instance tests (handoff/tests/test_multi_instance.py,
test_fanout_faults.py). Nothing here knows about tests or benchmarks.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable, Mapping

import httpx

SERVICE_DIR = Path(__file__).resolve().parent.parent / "handoff"


class BridgeDidNotStart(RuntimeError):
    pass


def start_bridge(env: Mapping[str, str], log_path: Path) -> subprocess.Popen:
    """One bridge instance with `env` (HANDOFF_PORT and the rest), its output in `log_path`."""
    with open(log_path, "wb") as log:
        return subprocess.Popen([sys.executable, "-m", "handoff_bridge", "serve"], cwd=SERVICE_DIR, env=dict(env),
                                stdout=log, stderr=log)


async def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    """Until the instance at `url` answers /healthz; BridgeDidNotStart if it exits or never answers."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BridgeDidNotStart(f"the bridge at {url} exited with {process.returncode}")
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise BridgeDidNotStart(f"the bridge at {url} did not become healthy in {timeout} s")


def stop_bridges(processes: Iterable[subprocess.Popen], timeout: float = 15) -> None:
    """SIGTERM to every instance still running, then wait (SIGKILL after `timeout`)."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
