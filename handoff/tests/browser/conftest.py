"""Fixtures of the browser tests: Debian's Chromium driven by Playwright against a live bridge.

This folder is a package, so this conftest is `browser.conftest` and does
not replace the module `conftest` (tests/conftest.py) that other tests import.

The bridge and the fake Rasa run in this process, on an event loop in a
background thread; the tests use Playwright's sync API in the main thread.
The browser tests use SQLite only (the API behaviour on PostgreSQL is covered
by the other tests). Chromium, the `browser` and `new_context` fixtures and
the page helpers come from support/browser.py (the acceptance tests use them
too). Screenshots go to handoff/test-artifacts/.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from conftest import RASA_TOKEN, Loop, _base_settings, clean_tables, start_app
from fake_rasa import FakeRasa
from handoff_bridge.__main__ import migrate
from handoff_bridge.app import create_app
# The tests import the page helpers from here; the fixtures are this folder's by being imported.
from support.browser import (  # noqa: F401
    CHROMIUM, browser, chromium_missing, collect_console_errors, new_context, run_axe, screenshot, wait_until,
)


def pytest_collection_modifyitems(config, items):
    missing = chromium_missing()
    if missing is None:
        return
    skip = pytest.mark.skip(reason=missing)
    for item in items:
        if "tests/browser/" in item.nodeid.replace("\\", "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def loop():
    lp = Loop("bridge-loop")
    yield lp
    lp.close()


def write_browser_queues(path: Path) -> Path:
    """Danish queue open around the clock; the Swedish one closed from yesterday to tomorrow."""
    today = dt.date.today()
    hours = "\n".join(f"      {d}: ['00:00-24:00']" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    closed = "\n".join(f"      - {today + dt.timedelta(days=i)}" for i in (-1, 0, 1))
    path.write_text(f"""
queues:
  - name: da-general
    language: da
    municipalities: ["*"]
    timezone: Europe/Copenhagen
    callback_offer_after_seconds: 600
    default_handle_seconds: 120
    hours:
{hours}
  - name: sv-general
    language: sv
    municipalities: ["*"]
    timezone: Europe/Stockholm
    callback_offer_after_seconds: 600
    hours:
{hours}
    holidays:
{closed}
""", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def browser_settings(tmp_path_factory, loop):
    folder = tmp_path_factory.mktemp("browser")
    settings = _base_settings("sqlite", folder, write_browser_queues(folder / "queues.yml"))
    # Alembic runs its own event loop: not in this thread, where Playwright's sync API has one.
    loop.run(asyncio.to_thread(migrate, settings), timeout=120)
    return settings


@pytest.fixture(scope="session")
def rasa_server(loop):
    rasa = FakeRasa(RASA_TOKEN)
    running = loop.run(start_app(rasa.app))
    rasa.url = running.url
    yield rasa
    loop.run(running.stop())


@pytest.fixture
def live_bridge(loop, browser_settings, rasa_server):
    """A fresh bridge (empty database) per test, served on the background loop."""
    loop.run(clean_tables(browser_settings))
    settings = browser_settings.model_copy(update={"rasa_url": rasa_server.url})
    running = loop.run(start_app(create_app(settings)))
    rasa_server.paused.clear()
    rasa_server.handoff_overrides = {}
    running.loop = loop
    yield running
    loop.run(running.stop())
