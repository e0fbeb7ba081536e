"""The municipal systems' sandbox (sandbox/.venv) as a real process, with
fresh tokens and its own database, for adapter, action and end-to-end tests.

Prerequisite: `make -C sandbox setup` (part of `make setup`).
"""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.support.processes import free_port, running_process

REPO = Path(__file__).resolve().parents[2]
SANDBOX_DIR = REPO / "sandbox"
SANDBOX_PYTHON = SANDBOX_DIR / ".venv" / "bin" / "python"
# The seeded payouts and cases are dated relative to this day.
SANDBOX_TODAY = "2026-11-23"
STARTUP_SECONDS = 60


@dataclass
class Sandbox:
    base_url: str
    tokens: dict[str, str]
    log_path: Path

    def adapter_env(self, **overrides: str) -> dict[str, str]:
        """Environment for the adapters' from_env(), pointing at this sandbox."""
        env = {
            "PAYOUT_SYSTEM_URL": f"{self.base_url}/payout-system/v1",
            "PAYOUT_SYSTEM_TOKEN": self.tokens["payout-system"],
            "CASE_SYSTEM_URL": f"{self.base_url}/case-system/v1",
            "CASE_SYSTEM_TOKEN": self.tokens["case-system"],
            "SMS_GATEWAY_URL": f"{self.base_url}/sms-gateway/v1",
            "SMS_GATEWAY_TOKEN": self.tokens["sms-gateway"],
            # Short enough for fast tests, long enough for a loaded CI machine.
            "INTEGRATION_TIMEOUT_SECONDS": "5",
            "INTEGRATION_DEADLINE_SECONDS": "10",
        }
        env.update(overrides)
        return env

    def call(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    def set_mode(self, system: str, **mode: Any) -> None:
        status, body = self.call("PUT", f"/admin/v1/failure-modes/{system}", self.tokens["admin"], mode)
        assert status == 200, body

    def modes(self) -> dict:
        return self.call("GET", "/admin/v1/failure-modes", self.tokens["admin"])[1]

    def reset(self) -> None:
        status, body = self.call("POST", "/admin/v1/reset", self.tokens["admin"])
        assert status == 204, body

    def outbox(self) -> list[dict]:
        status, body = self.call("GET", "/sms-gateway/v1/outbox", self.tokens["sms-gateway"])
        assert status == 200, body
        return body["messages"]

    def wait_for_outbox(self, count: int, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            messages = self.outbox()
            if len(messages) >= count or time.monotonic() > deadline:
                return messages
            time.sleep(0.05)


@contextmanager
def running_sandbox(workdir: Path) -> Iterator[Sandbox]:
    if not SANDBOX_PYTHON.exists():
        pytest.fail(f"{SANDBOX_PYTHON} is missing: run `make -C sandbox setup` first", pytrace=False)
    port = free_port()
    tokens = {name: secrets.token_urlsafe(16) for name in ("payout-system", "case-system", "sms-gateway", "admin")}
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("SANDBOX_")},
        "SANDBOX_ENV": "test",
        "SANDBOX_HOST": "127.0.0.1",
        "SANDBOX_PORT": str(port),
        "SANDBOX_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'sandbox.sqlite3'}",
        "SANDBOX_PAYOUT_TOKEN": tokens["payout-system"],
        "SANDBOX_CASE_TOKEN": tokens["case-system"],
        "SANDBOX_SMS_TOKEN": tokens["sms-gateway"],
        "SANDBOX_ADMIN_TOKEN": tokens["admin"],
        "SANDBOX_FINGERPRINT_SECRET": secrets.token_urlsafe(16),
        "SANDBOX_TODAY": SANDBOX_TODAY,
        "SANDBOX_PENDING_RETRY_INTERVAL_SECONDS": "0.1",
        "PYTHONUNBUFFERED": "1",
    }
    base_url = f"http://127.0.0.1:{port}"
    with running_process(
        "sandbox",
        [str(SANDBOX_PYTHON), "-m", "municipal_sandbox"],
        cwd=SANDBOX_DIR,
        env=env,
        log_path=workdir / "sandbox.log",
        health_url=f"{base_url}/health",
        startup_seconds=STARTUP_SECONDS,
    ):
        yield Sandbox(base_url=base_url, tokens=tokens, log_path=workdir / "sandbox.log")
