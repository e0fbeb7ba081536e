"""Test fixtures: every test runs against SQLite and PostgreSQL (with Redis fan-out).

PostgreSQL: one schema per test run (HANDOFF_TEST_POSTGRES_URL), dropped at
the end; tables are emptied between tests. Redis: a channel prefix per run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import secrets
import socket
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from sanic import Sanic
from sanic.router import Router
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

SERVICE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(SERVICE_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))
# The repository root: the log audit is shared with the assistant's tests.
if str(SERVICE_DIR.parent) not in sys.path:
    sys.path.append(str(SERVICE_DIR.parent))

from tests.support import log_audit  # noqa: E402
from fake_rasa import FakeRasa  # noqa: E402

from handoff_bridge.__main__ import migrate  # noqa: E402
from handoff_bridge.app import create_app  # noqa: E402
from handoff_bridge.clock import SYSTEM_CLOCK  # noqa: E402
from handoff_bridge.db.models import Base  # noqa: E402
from handoff_bridge.rasa import tls_context  # noqa: E402
from handoff_bridge.settings import Settings  # noqa: E402

Sanic.test_mode = True

POSTGRES_URL = os.environ.get("HANDOFF_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HANDOFF_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = f"{os.getpid()}_{secrets.token_hex(3)}"
RASA_TOKEN = "test-rasa-token"
# Loggers that do not propagate to the root (the service's own and Sanic's).
NON_PROPAGATING_LOGGERS = ("sanic.root", "sanic.error", "sanic.access", "sanic.server", "sanic.websockets")


def _configured_secrets() -> list[str]:
    from helpers import DEFAULT_PASSWORD

    return [RASA_TOKEN, DEFAULT_PASSWORD, Settings(env="development").fernet_key,
            urlsplit(POSTGRES_URL).password, urlsplit(REDIS_URL).password]


def pytest_configure(config):
    from handoff_bridge.log_redaction import install_url_redaction

    log_audit.add_secrets(_configured_secrets())
    log_audit.install_in_process(NON_PROPAGATING_LOGGERS)
    # The bridge runs in this process: as in production, no query string in its
    # log lines, from the start (the tests' own clients call Rasa's API too).
    install_url_redaction()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    # Sanic reconfigures its loggers when an app is created: catch them again.
    log_audit.install_in_process(NON_PROPAGATING_LOGGERS)


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when any service's log output holds a configured secret."""
    log_audit.finish_session(session)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """An xdist worker's services are checked there; the controller reports them."""
    log_audit.collect_from_worker(node)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_queue_config(path: Path) -> Path:
    """Test queues: Danish and Swedish open around the clock, plus one closed today."""
    today = dt.date.today()
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    all_day = "\n".join(f"      {d}: ['00:00-24:00']" for d in days)
    # Closed all of today and yesterday/tomorrow in any time zone; opens after that.
    closed_dates = "\n".join(f"      - {today + dt.timedelta(days=i)}" for i in (-1, 0, 1))
    path.write_text(f"""
queues:
  - name: closed-queue
    language: da
    municipalities: ["closed-town"]
    timezone: Europe/Copenhagen
    callback_offer_after_seconds: 600
    hours:
{all_day}
    holidays:
{closed_dates}
  - name: aarhus
    language: da
    municipalities: ["751"]
    timezone: Europe/Copenhagen
    callback_offer_after_seconds: 600
    hours:
{all_day}
  - name: da-general
    language: da
    municipalities: ["*"]
    timezone: Europe/Copenhagen
    callback_offer_after_seconds: 600
    default_handle_seconds: 240
    hours:
{all_day}
  - name: sv-general
    language: sv
    municipalities: ["*"]
    timezone: Europe/Stockholm
    callback_offer_after_seconds: 600
    hours:
{all_day}
""", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def queue_config(tmp_path_factory) -> Path:
    return write_queue_config(tmp_path_factory.mktemp("cfg") / "queues.yml")


def _base_settings(backend: str, tmp_dir: Path, queue_config: Path) -> Settings:
    common = dict(
        env="development",
        rasa_token=RASA_TOKEN,
        rasa_timeout_seconds=1.0,
        cookie_secure=False,
        queues_config=queue_config,
        sweeper_interval_seconds=3600,
        # Cheap hashing keeps the agent tests fast; production uses the defaults.
        password_time_cost=1,
        password_memory_kib=8192,
        # Rate limits off; tests/api/test_limits.py turns them on with a Redis prefix of its own.
        messages_per_minute_per_conversation=0,
        messages_per_minute_per_address=0,
        conversations_per_minute_per_address=0,
        websockets_per_address=0,
        # The content store starts empty; tests that need content import it themselves,
        # and publish into a directory of their own (never the checkout's var/knowledge).
        knowledge_import_on_start=False,
        knowledge_index=tmp_dir / "knowledge-index",
    )
    if backend == "sqlite":
        return Settings(database_url=f"sqlite+aiosqlite:///{tmp_dir / 'handoff.db'}", **common)
    return Settings(
        database_url=POSTGRES_URL,
        db_schema=f"handoff_test_{RUN_ID}",
        redis_url=REDIS_URL,
        redis_channel_prefix=f"handoff_test_{RUN_ID}",
        **common,
    )


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend_settings(request, tmp_path_factory, queue_config) -> Settings:
    settings = _base_settings(request.param, tmp_path_factory.mktemp(request.param), queue_config)
    migrate(settings)
    yield settings
    if request.param == "postgres":
        async def drop():
            engine = create_async_engine(POSTGRES_URL)
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{settings.db_schema}" CASCADE'))
            await engine.dispose()

        asyncio.run(drop())


@pytest.fixture
def backend(backend_settings) -> str:
    return "sqlite" if backend_settings.is_sqlite else "postgres"


async def clean_tables(settings: Settings) -> None:
    from handoff_bridge.db.engine import make_engine

    engine = make_engine(settings, pool_size=1)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        for name in tables:
            await conn.execute(text(f"DELETE FROM {name}"))
        if not settings.is_sqlite:
            # As TRUNCATE ... RESTART IDENTITY would, without its cost on every
            # table (new files for each, several times a second): a test's rows
            # are few, deleting them is cheap.
            await conn.execute(text(
                "SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false) "
                "FROM pg_sequences WHERE schemaname = :schema"), {"schema": settings.db_schema})
    await engine.dispose()


class RunningServer:
    def __init__(self, app: Sanic, server, url: str):
        self.app = app
        self.server = server
        self.url = url

    @property
    def deps(self):
        return self.app.ctx.deps

    async def stop(self):
        # As Sanic's own runner does: stop listening, end connections, then the
        # after-stop listeners (which close the database).
        self.server.close()
        await self.server.wait_closed()
        await self.server.before_stop()
        for conn in list(self.server.connections):
            conn.close_if_idle() or conn.abort()
        await self.server.after_stop()
        # Sanic caches route lookups per router in class-wide caches (1024 entries), which
        # would keep this app and all it holds alive for the next tests: every garbage
        # collection before a test would then walk the apps of hundreds of earlier tests.
        Router.get.cache_clear()
        Router.find_route_by_view_name.cache_clear()


async def start_app(app: Sanic) -> RunningServer:
    # Handler rewriting and the banner only slow down per-test start-up.
    app.config.TOUCHUP = False
    app.config.MOTD = False
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    return RunningServer(app, server, f"http://127.0.0.1:{port}")


def collect_garbage_before_creating_apps() -> None:
    """Run finalizers of earlier tests' garbage now, not in the middle of app creation.

    Sanic parses handler source (ast.parse) while registering routes. A garbage
    collection during that parse can finalize a database connection left over
    from an earlier test whose event loop is closed; the finalizer logs a
    traceback, traceback formatting calls ast.parse again, and CPython 3.11's
    shared AST state then fails the outer parse with "AST constructor
    recursion depth mismatch" (gh-106905).

    What survives the first collection (the modules, the collected tests, the
    session's fixtures: nothing a test made) is frozen out of the later ones,
    which look only at what was made since: a collection of the whole heap
    before every test cost more than most tests do. Only once: anything a test
    made stays collectable, so a connection it left behind is still finalized
    before the next test (it may hold a lock of the worker's SQLite file).
    """
    global _session_frozen
    gc.collect()
    if not _session_frozen:
        gc.freeze()
        _session_frozen = True


_session_frozen = False


class Loop:
    """An asyncio loop in a daemon thread; run(coro) waits for the result."""

    def __init__(self, name: str = "test-loop"):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="session")
def fake_rasa_server():
    """One fake Rasa for the whole session (per xdist worker), on an event loop
    of its own, so it outlives each test's event loop."""
    loop = Loop("fake-rasa-loop")
    rasa = FakeRasa(RASA_TOKEN)
    running = loop.run(start_app(rasa.app))
    rasa.url = running.url
    yield rasa
    loop.run(running.stop())
    loop.close()


@pytest.fixture(autouse=True)
def earlier_tests_garbage_collected(request):
    """Before every test on the worker's database, not only those that start a bridge:
    a test that opens the SQLite file itself must not wait for a connection an earlier
    test left behind (collect_garbage_before_creating_apps). The others (the
    Schemathesis cases, say) skip it: a collection costs more than they do."""
    if "backend_settings" in request.fixturenames:
        collect_garbage_before_creating_apps()


@pytest.fixture
def fake_rasa(fake_rasa_server):
    fake_rasa_server.reset()
    return fake_rasa_server


@pytest.fixture
def bridge_overrides() -> dict:
    """Override in a test module (or with indirect parametrisation) to change settings."""
    return {}


@pytest.fixture
def bridge_clock():
    """The clock the test bridge counts rate-limit windows with; override it in a
    test module with a helpers.ManualClock to drive time."""
    return SYSTEM_CLOCK


@pytest.fixture
async def bridge(backend_settings, fake_rasa, bridge_overrides, bridge_clock):
    await clean_tables(backend_settings)
    settings = backend_settings.model_copy(update={"rasa_url": fake_rasa.url, **bridge_overrides})
    running = await start_app(create_app(settings, clock=bridge_clock))
    yield running
    await running.stop()
    # Out of Sanic's registry of apps, so that the test's app and all it holds are garbage.
    Sanic.unregister_app(running.app)


@pytest.fixture
async def client(bridge):
    # The process's one TLS context (the bridge's own Rasa client's): httpx would
    # load the CA bundle again for every test's client.
    async with httpx.AsyncClient(base_url=bridge.url, timeout=15, verify=tls_context()) as c:
        yield c


def pytest_collection_modifyitems(config, items):
    # Several instances only make sense with a shared PostgreSQL and Redis.
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("multi_instance") and "[sqlite]" in item.nodeid else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# CI runs the property-based tests on hypothesis's fixed examples, so a run's
# result does not depend on chance; locally they search anew each time.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
