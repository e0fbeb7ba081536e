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
    log_audit.watch(log_path, env)
    log_file = log_path.open("w")
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + startup_seconds
        while not _answers(health_url):
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}:\n{log_path.read_text()[-4000:]}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not start in {startup_seconds} s:\n{log_path.read_text()[-4000:]}", pytrace=False)
            time.sleep(0.2)
        yield process
    finally:
        stop(process)
        log_file.close()


def stop(process: subprocess.Popen, timeout: Optional[float] = 15) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
