"""Acceptance tests through every layer, as a citizen and an agent use the product.

Debian's Chromium (Playwright) opens the demo pages served by the real bridge,
which talks to the real Rasa server (the trained model ../models/ddh.tar.gz),
whose real action server calls the real municipal sandbox and the bridge's
service endpoint. Nothing is faked.

Each service is started once per test session as its own process, on free
ports, from its own environment (../.venv, .venv, ../sandbox/.venv), with
every log written to a file, so the tests can read what each service logged.
The demo sign-in key pair comes from scripts/local_env.sh, as in `make run`.

This folder is a package (`acceptance.conftest`), like the browser tests, and
runs in its own pytest process (`make test-acceptance`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

HANDOFF_DIR = Path(__file__).resolve().parents[2]
REPO = HANDOFF_DIR.parent
if str(REPO) not in sys.path:
    # The assistant's test support (sandbox and process helpers) is shared with its own tests.
    sys.path.insert(0, str(REPO))

from tests.support.assistant import MODEL, VENV_BIN, assistant_env, assistant_specs  # noqa: E402
from tests.support.processes import ProcessSpec, free_port, running_processes  # noqa: E402
from tests.support.sandbox import SANDBOX_PYTHON, Sandbox, running_sandbox  # noqa: E402

# Chromium and the `browser` fixture are the browser tests' (support/browser.py).
from support.browser import CHROMIUM, browser, chromium_missing, collect_console_errors, new_context  # noqa: E402,F401

ASSISTANT_PYTHON = VENV_BIN / "python"
BRIDGE_PYTHON = HANDOFF_DIR / ".venv" / "bin" / "python"
STARTUP_SECONDS = 300
AGENT_LOGIN = "anna"
AGENT_PASSWORD = "correct horse battery staple"
EDITOR_LOGIN = "edith"
EDITOR_PASSWORD = "editor horse battery staple"

# Fictitious people of the sandbox (sandbox/municipal_sandbox/seed.py).
ANNA = "150385-1112"  # DK, kontanthjælp, +45 09 99 00 01
SVEA = "19850315-5684"  # SE, ekonomiskt bistånd, +46 70 174 06 05


def spellings(number: str) -> set[str]:
    """The ways a number can appear in text: as typed, compact, and a personnummer's short form."""
    compact = number.replace("-", "").replace(" ", "")
    return {number, compact, compact[-10:], f"{compact[-10:-4]}-{compact[-4:]}"}


@dataclass
class Service:
    name: str
    process: subprocess.Popen | None
    log_path: Path
    health_url: str


@dataclass
class Stack:
    """The running product."""

    workdir: Path
    bridge_url: str
    rasa_url: str
    rasa_token: str
    bridge_env: dict
    bridge_db: Path
    tracker_db: Path
    knowledge_index: Path
    sandbox: Sandbox
    services: list[Service] = field(default_factory=list)

    def logs(self) -> dict[str, str]:
        return {s.name: s.log_path.read_text(encoding="utf-8", errors="replace") for s in self.services}

    def bridge_tables(self) -> str:
        """Every row of every table of the bridge's database, as text."""
        return _dump_sqlite(self.bridge_db)

    def tracker_events(self) -> str:
        """Every row of the Rasa tracker store (its SQLite file), as text."""
        return _dump_sqlite(self.tracker_db)

    def assert_nowhere(self, number: str) -> None:
        """The number is in no bridge table, no tracker event and no log line of any service."""
        stores = {"bridge database": self.bridge_tables(), "tracker store": self.tracker_events(),
                  **{f"log of the {name}": text for name, text in self.logs().items()}}
        for where, text in stores.items():
            for spelling in spellings(number):
                assert spelling not in text, f"{spelling!r} found in the {where}"


def _dump_sqlite(path: Path) -> str:
    if not path.exists():
        return ""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return json.dumps({table: [list(map(str, row)) for row in db.execute(f'SELECT * FROM "{table}"')]
                           for table in tables}, ensure_ascii=False)


def _wait_for_imported_content(bridge_db: Path) -> None:
    """The bridge imports the knowledge files into its empty content store at start: the
    editors' pages list the answers once that is done."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            with sqlite3.connect(f"file:{bridge_db}?mode=ro", uri=True, timeout=10) as db:
                if db.execute("SELECT count(*) FROM kb_publications WHERE kind = 'import'").fetchone()[0]:
                    return
        except sqlite3.OperationalError:
            pass  # not migrated yet
        if time.monotonic() > deadline:
            pytest.fail(f"the bridge did not import the knowledge files within {STARTUP_SECONDS} s", pytrace=False)
        time.sleep(0.3)


def _queues(path: Path) -> Path:
    """Both languages' queues open around the clock, so an escalation always reaches the queue."""
    days = "\n".join(f"      {d}: ['00:00-24:00']" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    path.write_text(f"""
queues:
  - name: da-general
    language: da
    municipalities: ["*"]
    timezone: Europe/Copenhagen
    callback_offer_after_seconds: 600
    hours:
{days}
  - name: sv-general
    language: sv
    municipalities: ["*"]
    timezone: Europe/Stockholm
    callback_offer_after_seconds: 600
    hours:
{days}
""", encoding="utf-8")
    return path


def _publication(index: Path) -> Path:
    """A publication directory of the session's own, shared by Rasa, the action server and the
    bridge (the editors' publishes land here, never in the checkout's var/): a copy of the
    checkout's live publication, or the knowledge files published into it."""
    live = REPO / "var" / "knowledge"
    current = (live / "CURRENT").read_text().strip() if (live / "CURRENT").exists() else ""
    if current and (live / "versions" / current / "manifest.json").exists():
        shutil.copytree(live / "versions" / current, index / "versions" / current)
        (index / "CURRENT").write_text(current + "\n")
        if (live / "gate-vectors.npz").exists():
            shutil.copy(live / "gate-vectors.npz", index / "gate-vectors.npz")
    else:
        subprocess.run([str(ASSISTANT_PYTHON), "-m", "rasa_addons.knowledge", "--index", str(index), "publish"],
                       cwd=REPO, check=True, capture_output=True, timeout=STARTUP_SECONDS)
    return index


def _local_env(workdir: Path) -> dict:
    """Run scripts/local_env.sh as `make run` does, in a scratch checkout: the demo sign-in key pair."""
    scratch = workdir / "checkout"
    (scratch / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "local_env.sh", scratch / "scripts" / "local_env.sh")
    subprocess.run(["bash", str(scratch / "scripts" / "local_env.sh")], check=True, capture_output=True, timeout=60)
    lines = (scratch / "var" / "local.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    if not (ASSISTANT_PYTHON.exists() and MODEL.exists() and SANDBOX_PYTHON.exists()):
        pytest.skip("the assistant or the sandbox is not built: run the top-level `make setup train`")
    if chromium_missing():
        pytest.skip(chromium_missing())
    workdir = tmp_path_factory.mktemp("acceptance")
    local = _local_env(workdir)
    rasa_token, action_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    bridge_port, action_port, rasa_port = free_port(), free_port(), free_port()
    bridge_url = f"http://127.0.0.1:{bridge_port}"
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    tracker_db = workdir / "tracker.db"
    bridge_db = workdir / "bridge.db"
    knowledge_index = _publication(workdir / "knowledge-index")
    # The services get a clean environment: nothing of this test process's HANDOFF_/SANDBOX_ settings.
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("HANDOFF_", "SANDBOX_", "RASA_", "IDENTITY_"))}

    with running_sandbox(workdir) as sandbox:
        env = assistant_env(
            base_env, token=rasa_token, action_token=action_token, action_port=action_port,
            TF_CPP_MIN_LOG_LEVEL="2",
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
            RASA_TRACKER_DB=str(tracker_db),
            DDH_KNOWLEDGE_INDEX=str(knowledge_index),
            # An editor's publish is live within a second (the editor loop waits for it).
            DDH_KNOWLEDGE_CHECK_SECONDS="1",
            SANIC_HOST="127.0.0.1",
            IDENTITY_JWT_KEY_FILE=local["IDENTITY_JWT_KEY_FILE"],
            IDENTITY_JWT_AUDIENCE=local["IDENTITY_JWT_AUDIENCE"],
            IDENTITY_JWT_ISSUER=local["IDENTITY_JWT_ISSUER"],
            **sandbox.adapter_env(),
        )
        bridge_env = {
            **base_env,
            "PYTHONUNBUFFERED": "1",
            "HANDOFF_ENV": "development",
            "HANDOFF_HOST": "127.0.0.1",
            "HANDOFF_PORT": str(bridge_port),
            "HANDOFF_DATABASE_URL": f"sqlite+aiosqlite:///{bridge_db}",
            "HANDOFF_RASA_URL": rasa_url,
            "HANDOFF_RASA_TOKEN": rasa_token,
            "HANDOFF_QUEUES_CONFIG": str(_queues(workdir / "queues.yml")),
            "HANDOFF_COOKIE_SECURE": "false",
            "HANDOFF_PASSWORD_TIME_COST": "1",
            "HANDOFF_PASSWORD_MEMORY_KIB": "8192",
            "HANDOFF_DEMO_LOGIN_KEY_FILE": local["HANDOFF_DEMO_LOGIN_KEY_FILE"],
            "HANDOFF_KNOWLEDGE_INDEX": str(knowledge_index),
            # The review inbox captures a question within a second or two.
            "HANDOFF_INSIGHT_REFRESH_SECONDS": "1",
            # Every citizen of the suite comes from 127.0.0.1: more than the 20 new
            # conversations a minute one address may start in production.
            "HANDOFF_CONVERSATIONS_PER_MINUTE_PER_ADDRESS": "1000",
            # The most talkative level: a number must not be in any of it.
            "HANDOFF_LOG_LEVEL": "DEBUG",
        }
        specs = assistant_specs(workdir, env, token=rasa_token, action_port=action_port, rasa_port=rasa_port) + [
            ProcessSpec("bridge", [str(BRIDGE_PYTHON), "-m", "handoff_bridge", "serve"], HANDOFF_DIR, bridge_env,
                        workdir / "bridge.log", f"{bridge_url}/healthz"),
        ]
        with running_processes(specs, startup_seconds=STARTUP_SECONDS) as processes:
            running = Stack(workdir=workdir, bridge_url=bridge_url, rasa_url=rasa_url, rasa_token=rasa_token,
                            bridge_env=bridge_env, bridge_db=bridge_db,
                            tracker_db=tracker_db, knowledge_index=knowledge_index, sandbox=sandbox,
                            services=[Service(spec.name, processes[spec.name], spec.log_path, spec.health_url)
                                      for spec in specs])
            running.services.append(Service("sandbox", None, sandbox.log_path, f"{sandbox.base_url}/health"))
            _wait_for_imported_content(bridge_db)
            # A first turn in each language, straight to Rasa as the bridge sends one: it loads
            # what the assistant and the action server load lazily (the dialogue policies, the
            # knowledge index), which on a busy machine takes longer than the bridge's 4 s bound
            # of a turn. The tests' first turns must not wait for that.
            for language, text in (("da", "hvordan melder jeg flytning"), ("sv", "hur ansöker jag om bygglov")):
                warmed = httpx.post(f"{rasa_url}/webhooks/bridge/webhook",
                                    headers={"Authorization": f"Bearer {rasa_token}"},
                                    json={"sender": f"warm-up-{language}", "message": text,
                                          "metadata": {"language": language}}, timeout=STARTUP_SECONDS)
                assert warmed.status_code == 200, warmed.text
            # The agent and the editor, made as an operator makes accounts.
            for login, password, options in ((AGENT_LOGIN, AGENT_PASSWORD, ["--name", "Anna", "--capacity", "3"]),
                                             (EDITOR_LOGIN, EDITOR_PASSWORD, ["--name", "Edith", "--role", "editor"])):
                created = subprocess.run(
                    [str(BRIDGE_PYTHON), "-m", "handoff_bridge", "create-agent", login, "--languages", "da,sv", *options],
                    cwd=HANDOFF_DIR, env={**bridge_env, "HANDOFF_NEW_AGENT_PASSWORD": password},
                    capture_output=True, text=True, timeout=60)
                assert created.returncode == 0, created.stderr
            yield running


@pytest.fixture(autouse=True)
def fresh_sandbox(stack):
    """Every test starts with the seeded sandbox, every system up, an empty SMS outbox."""
    stack.sandbox.reset()
    yield
    stack.sandbox.reset()


@pytest.fixture
def new_page(new_context):
    def make(language: str = "da"):
        # Every turn goes through the real assistant: allow for a loaded machine.
        ctx = new_context(timeout_ms=30_000, locale="sv-SE" if language == "sv" else "da-DK",
                          viewport={"width": 1280, "height": 900})
        return ctx.new_page()

    expect.set_options(timeout=30_000)
    return make


WIDGET = {
    "da": {"launcher": "Chat med os", "dialog": "Chat med kommunen", "input": "Skriv din besked", "send": "Send"},
    "sv": {"launcher": "Chatta med oss", "dialog": "Chatta med kommunen", "input": "Skriv ditt meddelande",
           "send": "Skicka"},
}


class Citizen:
    """A citizen on a demo page, using the chat widget."""

    def __init__(self, page, stack: Stack, language: str):
        self.page = page
        self.language = language
        self.texts = WIDGET[language]
        self.errors = collect_console_errors(page)
        page.goto(f"{stack.bridge_url}/demo/{language}")
        self.widget = page.get_by_role("dialog", name=self.texts["dialog"])
        self.log = self.widget.locator(".ddh-messages")
        self.open()

    def open(self) -> None:
        self.page.get_by_role("button", name=self.texts["launcher"]).click()
        expect(self.widget).to_be_visible()

    def minimise(self) -> None:
        self.widget.get_by_role("button", name="Minimer chatten" if self.language == "da" else "Minimera chatten").click()
        expect(self.widget).to_be_hidden()

    def say(self, text: str, *, answered_by_bot: bool = True) -> None:
        """Type and send a message; by default wait for the assistant's answer
        (a request for a person is answered by the bridge's queue line instead)."""
        before = self.bot_count()
        box = self.widget.get_by_label(self.texts["input"])
        box.fill(text)
        box.press("Enter")
        if answered_by_bot:
            self.wait_for_bot(before)

    def bot_count(self) -> int:
        return self.log.locator(".ddh-msg--bot").count()

    def wait_for_bot(self, before: int) -> None:
        expect(self.log.locator(".ddh-msg--bot")).not_to_have_count(before)

    def bot_text(self) -> str:
        return " ".join(self.log.locator(".ddh-msg--bot").all_inner_texts())

    @property
    def conversation_id(self) -> str | None:
        return self.page.evaluate("document.querySelector('[data-ddh-widget]').ddh.conversationId")

    @property
    def token(self) -> str | None:
        """The conversation token the widget keeps in the tab's sessionStorage."""
        return self.page.evaluate("""() => {
            for (let i = 0; i < sessionStorage.length; i++) {
                const key = sessionStorage.key(i);
                if (key.startsWith('ddh-chat:')) { return JSON.parse(sessionStorage.getItem(key)).token; }
            }
            return null;
        }""")


@pytest.fixture
def citizen(new_page, stack):
    made: list[Citizen] = []

    def make(language: str) -> Citizen:
        made.append(Citizen(new_page(language), stack, language))
        return made[-1]

    yield make
    # Leave every conversation, so no test finds another one's chat in the queue.
    for chat in made:
        token = chat.token
        if token and chat.conversation_id:
            httpx.post(f"{stack.bridge_url}/api/v1/citizen/conversations/{chat.conversation_id}/leave",
                       headers={"Authorization": f"Bearer {token}"}, timeout=10)


def today() -> dt.date:
    return dt.date.today()
