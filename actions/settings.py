"""Action server settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class HandoffSettings:
    url: str
    token: str
    timeout_seconds: float
    attempts: int


def handoff_settings() -> HandoffSettings:
    return HandoffSettings(
        url=os.environ.get("HANDOFF_URL", "http://127.0.0.1:8080").rstrip("/"),
        token=os.environ.get("HANDOFF_SERVICE_TOKEN", ""),
        timeout_seconds=float(os.environ.get("HANDOFF_TIMEOUT_SECONDS", "3")),
        attempts=max(1, int(os.environ.get("HANDOFF_ATTEMPTS", "2"))),
    )
