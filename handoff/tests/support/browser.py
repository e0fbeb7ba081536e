"""Debian's Chromium driven by Playwright: the fixtures and helpers the browser
tests (tests/browser, against a bridge in the test process) and the acceptance
tests (tests/acceptance, against the real services) share.

A conftest uses the fixtures by importing them (`from support.browser import
browser, new_context`). Playwright never downloads a browser of its own.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

SERVICE_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("HANDOFF_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = SERVICE_DIR / "test-artifacts"
AXE_JS = SERVICE_DIR / "node_modules" / "axe-core" / "axe.min.js"


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if Path(CHROMIUM).exists():
        return None
    return f"Chromium not found at {CHROMIUM} (make -C handoff setup installs it)"


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
    """Makes browser contexts (Danish, 1280x800, 10 s for each action unless
    told otherwise), all closed at the end of the test."""
    contexts = []

    def make(timeout_ms: float = 10_000, **kwargs):
        kwargs.setdefault("locale", "da-DK")
        kwargs.setdefault("viewport", {"width": 1280, "height": 800})
        ctx = browser.new_context(**kwargs)
        ctx.set_default_timeout(timeout_ms)
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
