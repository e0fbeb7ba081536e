"""Retention of conversations in Rasa's tracker store.

Conversations with no event for RASA_RETENTION_DAYS days (default 30) are
deleted. The bridge channel runs this every RASA_RETENTION_INTERVAL_SECONDS
(default 3600) inside the Rasa server; operators can also run it by hand:

    python -m rasa_addons.retention --endpoints endpoints.yml [--days 30]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from typing import Any, Optional

logger = logging.getLogger(__name__)

DAY_SECONDS = 24 * 3600


def retention_days() -> float:
    days = float(os.environ.get("RASA_RETENTION_DAYS", "30"))
    if days <= 0:
        raise ValueError("RASA_RETENTION_DAYS must be a positive number of days")
    return days


def retention_interval_seconds() -> float:
    return max(60.0, float(os.environ.get("RASA_RETENTION_INTERVAL_SECONDS", "3600")))


def erasable_store(tracker_store: Any) -> Optional[Any]:
    """The tracker store that can erase, unwrapping Rasa's fail-safe wrapper."""
    store = getattr(tracker_store, "_tracker_store", tracker_store)
    return store if hasattr(store, "purge_inactive") and hasattr(store, "delete") else None


async def purge(tracker_store: Any, days: float) -> int:
    store = erasable_store(tracker_store)
    if store is None:
        logger.warning("The tracker store cannot erase conversations; configure MaskingSQLTrackerStore.")
        return 0
    deleted = await store.purge_inactive(days * DAY_SECONDS)
    logger.info("Retention: deleted %d events of conversations inactive for %s days.", deleted, days)
    return deleted


async def run_periodically(get_tracker_store: Any) -> None:
    """The scheduled job: purge, sleep, repeat until cancelled."""
    days, interval = retention_days(), retention_interval_seconds()
    while True:
        try:
            store = get_tracker_store()
            if store is not None:
                await purge(store, days)
        except asyncio.CancelledError:
            raise
        except Exception:  # a database hiccup must not end the job
            logger.exception("Retention run failed; retrying in %s s.", interval)
        await asyncio.sleep(interval)


def main() -> None:
    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.utils.endpoints import read_endpoint_config

    parser = argparse.ArgumentParser(description="Delete conversations past the retention period.")
    parser.add_argument("--endpoints", default="endpoints.yml")
    parser.add_argument("--days", type=float, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    store = TrackerStore.create(read_endpoint_config(args.endpoints, "tracker_store"), Domain.empty())
    deleted = asyncio.run(purge(store, args.days or retention_days()))
    print(f"deleted {deleted} events")


if __name__ == "__main__":
    main()
