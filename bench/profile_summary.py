"""Where a Rasa turn's time goes, from a py-spy raw profile (`rasa_latency.py --profile`).

Each sample's stack is put in the first category (in the order below) whose
marker appears in it; the table gives each category's share of the samples
spent in the server's request handling (idle waiting is not sampled).

Usage: python bench/profile_summary.py var/profile-ddh.tar.gz-x1.txt [...]
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

# (category, markers in a stack's frames), most specific first.
CATEGORIES = [
    ("lock store (Redis)", ("rasa/core/lock_store.py",)),
    ("JSON-schema validation of action responses", ("_validate_action_result",)),
    ("action server call (client side)", ("RemoteAction", "rasa/utils/endpoints.py")),
    ("tracker save", ("SQLTrackerStore.save", "save (rasa/core/tracker_store.py", "save (rasa_addons/tracker_store.py",
                      "_additional_events", "save_tracker")),
    ("tracker read (query + event deserialisation)", ("_retrieve (rasa/core/tracker_store.py",
                                                      "get_or_create_tracker", "retrieve (rasa/core/tracker_store.py",
                                                      "latest_message_id", "_stored_answer")),
    ("NLU (parse)", ("parse_message",)),
    ("dialogue predictions", ("_predict_next_with_tracker", "predict_next_action", "_run_prediction_loop")),
    ("HTTP server and JSON (Sanic)", ("sanic/",)),
]


def summarise(path: Path) -> Counter:
    shares: Counter = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        for name, markers in CATEGORIES:
            if any(marker in stack for marker in markers):
                shares[name] += int(count)
                break
        else:
            shares["other (event loop, logging, start-up)"] += int(count)
    return shares


def main() -> None:
    for arg in sys.argv[1:]:
        shares = summarise(Path(arg))
        total = sum(shares.values()) or 1
        print(f"{arg}: {total} samples")
        for name, count in shares.most_common():
            print(f"  {100 * count / total:5.1f} %  {name}")


if __name__ == "__main__":
    main()
