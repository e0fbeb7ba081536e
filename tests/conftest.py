"""Shared fixtures for the assistant's tests (Rasa environment)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
import yaml

ROOT = Path(__file__).resolve().parent.parent
# The catalogue sits beside the checkout (../shared); SHARED_DIR overrides.
CATALOGUE = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared")) / "spec" / "topics.yml"
MODEL = ROOT / "models" / "ddh.tar.gz"


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when a service's log holds a configured secret (tests/support/log_audit.py)."""
    from tests.support import log_audit

    log_audit.finish_session(session)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """An xdist worker's services are checked there; the controller reports them."""
    from tests.support import log_audit

    log_audit.collect_from_worker(node)


@pytest.fixture(scope="session")
def catalogue() -> dict:
    if not CATALOGUE.exists():
        pytest.fail(f"topic catalogue not found at {CATALOGUE}")
    return yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def topics(catalogue) -> list:
    """Every catalogue topic with its kind: [{id, kind, languages, facts}]."""
    return [
        {**topic, "kind": kind}
        for kind in ("dialogue", "personal", "faq")
        for topic in catalogue[kind]
    ]


@pytest.fixture(scope="session")
def domain() -> dict:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """The municipal systems' sandbox, one per test worker."""
    from tests.support.sandbox import running_sandbox

    with running_sandbox(tmp_path_factory.mktemp("sandbox")) as running:
        yield running


@pytest.fixture
def clean_sandbox(sandbox):
    """The test starts from the seeded state with every system normal.
    Modules that talk to the sandbox use it with pytest.mark.usefixtures."""
    sandbox.reset()
    yield
    sandbox.call("DELETE", "/admin/v1/failure-modes", sandbox.tokens["admin"])


@pytest.fixture
def adapter_env(sandbox) -> dict:
    return sandbox.adapter_env()


@pytest.fixture(scope="session")
def assistant(tmp_path_factory, sandbox):
    """Rasa server + action server with the trained model (`make train`)."""
    from tests.support.assistant import MODEL, running_assistant

    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first", pytrace=False)
    with running_assistant(tmp_path_factory.mktemp("assistant"), sandbox) as running:
        yield running


# Before pytest-xdist's own hook, which reads the xdist_group marks added here.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # Every test that talks to the running assistant goes to one xdist worker
    # (`--dist loadgroup`), so the Rasa server starts once, not once per worker.
    for item in items:
        if "assistant" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("assistant"))
            item.add_marker(pytest.mark.e2e)


# CI runs the property-based tests on hypothesis's fixed examples, so a run's
# result does not depend on chance; locally they search anew each time.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
