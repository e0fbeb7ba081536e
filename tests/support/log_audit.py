"""No configured secret in any log line of any service the tests started.

One audit for both test trees (the assistant's here, the bridge's in
handoff/tests). Every service process (Rasa, the action server, the sandbox,
bridge instances) registers its log file and the secrets in its environment
here (`processes.running_process` does it for the assistant's services, the
bridge's tests call `watch`): tokens, signing secrets, keys, passwords (also
inside URLs). The bridge running inside the bridge's test process is caught by
a logging handler (`install_in_process`). At the end of the session
conftest.py reports every log line that holds one of them, and fails the run
(`finish_session`). Under pytest-xdist each worker checks its own services and
hands what it found to the controller (`collect_from_worker`), which reports
and fails the run: a worker's own exit status does not decide the run's.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Iterable, List, Mapping, Optional, Set
from urllib.parse import quote, urlsplit

# Environment variables whose value is a secret, by name.
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|_KEY")
# Shorter values (and numbers: TTLs, sizes) are not secrets worth the name.
MIN_SECRET_LENGTH = 8
MAX_REPORTED = 20

_secrets: Set[str] = set()
_log_files: Set[Path] = set()
_in_process_leaks: List[str] = []
# Found by the xdist workers of this run (on the controller only).
_worker_leaks: List[str] = []
WORKER_OUTPUT_KEY = "log_audit_leaks"


def add_secrets(values: Iterable[Optional[str]]) -> None:
    for value in values:
        if value and len(value) >= MIN_SECRET_LENGTH and not value.isdigit():
            _secrets.add(value)


def secrets_in_env(env: Mapping[str, str]) -> Set[str]:
    """Secret values a test configured for a process: secret-named variables it
    set or changed, and passwords inside URLs (databases, brokers)."""
    found = set()
    for name, value in env.items():
        if os.environ.get(name) == value:
            continue  # inherited from the test run's own environment, not configured here
        if SECRET_NAME.search(name.upper()):
            found.add(value)
        elif "://" in value:
            found.add(urlsplit(value).password or "")
    return {v for v in found if v and len(v) >= MIN_SECRET_LENGTH and not v.isdigit()}


def watch(log_path: Path, env: Optional[Mapping[str, str]] = None) -> None:
    """Check this process log at the end of the session, for the secrets in its environment too."""
    _log_files.add(Path(log_path))
    if env is not None:
        add_secrets(secrets_in_env(env))


def _forms(secret: str) -> Set[str]:
    # As written, and as it appears in a URL's query string.
    return {secret, quote(secret, safe=""), quote(secret)}


def _excerpt(line: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        for form in _forms(secret):
            line = line.replace(form, "<secret>")
    return line.strip()[:300]


def _holds_secret(line: str) -> bool:
    return any(form in line for secret in _secrets for form in _forms(secret))


class SecretCatcher(logging.Handler):
    """Notes every in-process log record whose text holds a configured secret."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is not a leak
            return
        if _holds_secret(text):
            _in_process_leaks.append(f"in-process log ({record.name}): {_excerpt(text)}")


_catcher = SecretCatcher(level=logging.DEBUG)


def install_in_process(logger_names: Iterable[str] = ()) -> None:
    """Catch records of every logger of the test process at INFO and above (the
    level the services log at in production), including loggers that do not
    propagate to the root."""
    root = logging.getLogger()
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    for logger in [root, *(logging.getLogger(name) for name in logger_names)]:
        if _catcher not in logger.handlers:
            logger.addHandler(_catcher)


def leaks() -> List[str]:
    """Every log line, in-process or in a watched file, that holds a configured secret."""
    found = list(_worker_leaks) + list(_in_process_leaks)
    for path in sorted(_log_files):
        if not path.exists():
            continue
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                if _holds_secret(line):
                    found.append(f"{path.parent.name}/{path.name}:{number}: {_excerpt(line)}")
    return found


def report(terminal) -> bool:
    """Writes the leaks to the terminal; True when there is none."""
    found = leaks()
    if not found:
        return True
    terminal.section("configured secrets in log output", sep="=", red=True)
    for line in found[:MAX_REPORTED]:
        terminal.line(line)
    if len(found) > MAX_REPORTED:
        terminal.line(f"... and {len(found) - MAX_REPORTED} more")
    return False


def collect_from_worker(node) -> None:
    """Take over what an xdist worker found (its pytest_testnodedown)."""
    _worker_leaks.extend(getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY, []))


def finish_session(session) -> None:
    """End of a session: an xdist worker hands its leaks to the controller; the
    controller (or a run without workers) reports them all and fails the run."""
    import pytest

    config = session.config
    if hasattr(config, "workerinput"):
        config.workeroutput[WORKER_OUTPUT_KEY] = leaks()
        return
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None and not report(terminal):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
