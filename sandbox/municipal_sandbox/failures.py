"""Simulated outages, so tests can exercise "the system is down".

Modes per system:
- normal: answer as usual
- down:   503 with Retry-After: 30, as a system in maintenance or overload
- error:  500, as a system with a bug
- slow:   wait delay_ms before answering normally (client time-outs)
- flaky:  the next `failures` requests get 503 without Retry-After, then
          normal again (exercises client retries)

The state lives in the worker process (app.ctx); the service runs one
worker, so the admin endpoint and the systems see the same state.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass

from .problems import ProblemError
from .settings import SYSTEMS

MODES = ("normal", "down", "error", "slow", "flaky")
DEFAULT_SLOW_DELAY_MS = 5000
MAX_DELAY_MS = 120_000
RETRY_AFTER_SECONDS = 30


@dataclass
class FailureMode:
    mode: str = "normal"
    delay_ms: int = 0
    failures: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def parse_mode(spec: str) -> FailureMode:
    """Parse "down", "slow:4000" or "flaky:2" (the environment-variable form)."""
    name, _, argument = spec.partition(":")
    payload: dict = {"mode": name.strip()}
    if argument:
        try:
            number = int(argument)
        except ValueError:
            raise ValueError(f"failure mode argument must be an integer: {spec!r}") from None
        payload["delay_ms" if payload["mode"] == "slow" else "failures"] = number
    return build_mode(payload)


def build_mode(payload: dict) -> FailureMode:
    mode = payload.get("mode")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    delay_ms = payload.get("delay_ms", DEFAULT_SLOW_DELAY_MS if mode == "slow" else 0)
    failures = payload.get("failures", 1 if mode == "flaky" else 0)
    checked = {}
    for name, value, maximum in (("delay_ms", delay_ms, MAX_DELAY_MS), ("failures", failures, 1000)):
        # JSON has one number type: 3000.0 is the integer 3000.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
            raise ValueError(f"{name} must be an integer between 0 and {maximum}")
        checked[name] = value
    delay_ms, failures = checked["delay_ms"], checked["failures"]
    if mode != "slow":
        delay_ms = 0
    if mode != "flaky":
        failures = 0
    return FailureMode(mode=mode, delay_ms=delay_ms, failures=failures)


class FailureSwitch:
    def __init__(self) -> None:
        self._modes: dict[str, FailureMode] = {system: FailureMode() for system in SYSTEMS}

    def get(self, system: str) -> FailureMode:
        return self._modes[system]

    def set(self, system: str, mode: FailureMode) -> None:
        self._modes[system] = mode

    def reset(self) -> None:
        for system in SYSTEMS:
            self._modes[system] = FailureMode()

    def snapshot(self) -> dict[str, dict]:
        return {system: mode.as_dict() for system, mode in self._modes.items()}

    def _consume_flaky(self, system: str) -> bool:
        mode = self._modes[system]
        if mode.mode != "flaky":
            return False
        mode.failures -= 1
        if mode.failures <= 0:
            self._modes[system] = FailureMode()
        return True

    async def apply(self, system: str) -> None:
        """Called before a system handles a request; raises to simulate failure."""
        mode = self._modes[system]
        if mode.mode == "slow":
            await asyncio.sleep(mode.delay_ms / 1000)
        elif mode.mode == "down":
            raise ProblemError(
                503,
                "unavailable",
                "The system is temporarily unavailable",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        elif self._consume_flaky(system):
            # A blip: no Retry-After, so clients retry after their own backoff.
            raise ProblemError(503, "unavailable", "The system is temporarily unavailable")
        elif mode.mode == "error":
            raise ProblemError(500, "internal_error", "Internal error")

    def accepts_internal_delivery(self, system: str) -> bool:
        """Whether another sandbox system can hand a message to `system` now.

        Slowness does not block the hand-over; the other modes do, and the
        message waits for the delivery worker.
        """
        mode = self._modes[system]
        if mode.mode in ("down", "error"):
            return False
        return not self._consume_flaky(system)
