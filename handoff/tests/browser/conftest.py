"""Fixtures of the browser tests: Debian's Chromium driven by Playwright against a live bridge.

This folder is a package, so this conftest is `browser.conftest` and does
not replace the module `conftest` (tests/conftest.py) that other tests import.

The bridge and the fake Rasa run in this process, on an event loop in a
background thread; the tests use Playwright's sync API in the main thread.
The browser tests use SQLite only (the API behaviour on PostgreSQL is covered
by the other tests). Screenshots go to handoff/test-artifacts/.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from conftest import RASA_TOKEN, SERVICE_DIR, Loop, _base_settings, clean_tables, start_app
from fake_rasa import FakeRasa
from handoff_bridge.__main__ import migrate
from handoff_bridge.app import create_app

CHROMIUM = os.environ.get("HANDOFF_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = SERVICE_DIR / "test-artifacts"
AXE_JS = SERVICE_DIR / "node_modules" / "axe-core" / "axe.min.js"


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (make -C handoff setup installs it)")
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


# Per module, not per session: Playwright's sync API keeps an event loop marked as
# running in this thread while it is started, and the other tests (run in the same
# process by a plain `pytest`) need the thread without one.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def new_context(browser):
    contexts = []

    def make(**kwargs):
        kwargs.setdefault("locale", "da-DK")
        kwargs.setdefault("viewport", {"width": 1280, "height": 800})
        ctx = browser.new_context(**kwargs)
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """Wait until a JavaScript expression is true in the page, polling from the test.

    Not page.wait_for_function: whenever the condition is not met at once, it
    polls inside the page with eval, which the pages' Content-Security-Policy
    rightly forbids, and the wait fails with an EvalError.
    """
    # Not there yet (e.g. the widget is still starting after a reload) counts as false.
    check = f"() => {{ try {{ return !!({expression}); }} catch (e) {{ return false; }} }}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(check):
                return
        except PlaywrightError as exc:
            # The page is between documents (a reload): ask again.
            if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {expression}")
        page.wait_for_timeout(50)


def collect_console_errors(page) -> list[str]:
    """Console errors of the page (CSP violations show up here), except the
    fake bot's images, which point to a host that does not exist."""
    errors: list[str] = []

    def on_console(msg):
        if msg.type == "error" and "ERR_NAME_NOT_RESOLVED" not in msg.text:
            errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def run_axe(page) -> list[dict]:
    """Serious and critical WCAG 2.1 A/AA violations found by axe-core on the page as it is now."""
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]
