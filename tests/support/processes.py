"""Real service processes for tests: start on a free port, wait until they
answer, stop them (and show their log when they fail to start)."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

from tests.support import log_audit


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.HTTPError):
        return False


@dataclass
class ProcessSpec:
    """A service to run: its command, where, with which environment, where it
    logs, and the URL that answers 200 once it is ready."""

    name: str
    command: List[str]
    cwd: Path
    env: Dict[str, str]
    log_path: Path
    health_url: str


@contextmanager
def running_processes(specs: List[ProcessSpec], *, startup_seconds: float) -> Iterator[Dict[str, subprocess.Popen]]:
    """Start every service at once, wait until each answers (fail the test with
    the log of one that exits or never answers), and stop them all when the
    block ends. Yields the processes by name. Each log is checked for the
    secrets in its service's environment at the end of the session."""
    processes: Dict[str, subprocess.Popen] = {}
    try:
        for spec in specs:
            log_audit.watch(spec.log_path, spec.env)
            with spec.log_path.open("w") as log_file:
                processes[spec.name] = subprocess.Popen(spec.command, cwd=spec.cwd, env=spec.env, stdout=log_file,
                                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + startup_seconds
        waiting = list(specs)
        while waiting:
            for spec in list(waiting):
                process = processes[spec.name]
                if process.poll() is not None:
                    pytest.fail(f"{spec.name} exited with {process.returncode}:\n{spec.log_path.read_text()[-4000:]}",
                                pytrace=False)
                if _answers(spec.health_url):
                    waiting.remove(spec)
            if waiting and time.monotonic() > deadline:
                pytest.fail(f"not up within {startup_seconds} s: {', '.join(s.name for s in waiting)}:\n"
                            f"{waiting[0].log_path.read_text()[-4000:]}", pytrace=False)
            if waiting:
                time.sleep(0.2)
        yield processes
    finally:
        for process in processes.values():
            stop(process)


@contextmanager
def running_process(
    name: str,
    command: List[str],
    *,
    cwd: Path,
    env: Dict[str, str],
    log_path: Path,
    health_url: str,
    startup_seconds: float,
) -> Iterator[subprocess.Popen]:
    """Run `command` until the block ends; fail the test if it never answers.
    Its log is checked for the secrets in `env` at the end of the session."""
    spec = ProcessSpec(name, command, cwd, env, log_path, health_url)
    with running_processes([spec], startup_seconds=startup_seconds) as processes:
        yield processes[name]


def stop(process: subprocess.Popen, timeout: Optional[float] = 15) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
