"""Time as the bridge reads it, behind a small protocol so tests can drive it.

Production uses `SYSTEM_CLOCK` (time.time and time.monotonic); a test hands
the app another clock (`create_app(settings, clock=...)`), kept on
app.ctx.clock and given to the parts that count in time windows.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the epoch (wall clock: windows that every instance shares)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (durations inside one process)."""


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM_CLOCK: Clock = SystemClock()
