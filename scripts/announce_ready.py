"""Part of `make run`: waits until every service answers, then says which
addresses to open and how to create the first agent, and stays (honcho stops
all services when one of its processes ends).

Runs with any Python 3 (standard library only); reads var/local.env.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import urllib.error
import urllib.request

STARTUP_SECONDS = 600


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.HTTPError):
        return False


def main() -> int:
    bridge = os.environ.get("HANDOFF_URL", "http://127.0.0.1:8080").rstrip("/")
    rasa = os.environ.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/")
    token = os.environ.get("RASA_TOKEN", "")
    checks = {
        # The sandbox's base address, from the adapters' setting (…/payout-system/v1).
        "sandbox": os.environ.get("PAYOUT_SYSTEM_URL", "http://127.0.0.1:8090/payout-system/v1").rsplit("/", 2)[0]
        + "/health",
        "action server": os.environ.get("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook").rsplit("/", 1)[0] + "/health",
        # Answers only once the model is loaded.
        "assistant": f"{rasa}/status?token={token}",
        "bridge": f"{bridge}/healthz",
    }
    deadline = time.monotonic() + STARTUP_SECONDS
    waiting = dict(checks)
    while waiting:
        waiting = {name: url for name, url in waiting.items() if not answers(url)}
        if waiting and time.monotonic() > deadline:
            print(f"Still not answering after {STARTUP_SECONDS} s: {', '.join(waiting)}. See the log lines above.", flush=True)
            break
        if waiting:
            time.sleep(1)
    if not waiting:
        print(
            f"""
Den Digitale Hotline is running.

  Citizen (demo pages with the chat widget):  {bridge}/demo/da   {bridge}/demo/sv
  Agent console:                              {bridge}/console/
  Supervisor view:                            {bridge}/supervisor/
  Editors' review inbox and answer editor:    {bridge}/editor/   {bridge}/editor/answers.html

The demo pages have a demo sign-in (fictitious persons, development only).
Create the first supervisor (the password is asked for), in another terminal:

  cd handoff && HANDOFF_ENV=development .venv/bin/python -m handoff_bridge create-agent sara --role supervisor --languages da,sv

An editor account (no chats; the inbox and the answer editor):

  cd handoff && HANDOFF_ENV=development .venv/bin/python -m handoff_bridge create-agent edda --role editor --languages da,sv

Stop everything with Ctrl+C.
""",
            flush=True,
        )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
