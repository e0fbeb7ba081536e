"""No configured secret in any log line of any service the tests ran.

Collects the log output of the bridge running inside the test process (a
logging handler on every logger) and of every service started as a process
(their log files, registered with `watch`), and at the end of the session
reports every line that holds a configured secret: service and Rasa tokens,
the Fernet key, agent passwords, database passwords. conftest.py fails the
session when there is one.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit

# Environment variables whose value is a secret, by name.
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|_KEY")
# Shorter values (and numbers: TTLs, sizes) are not secrets worth the name.
MIN_SECRET_LENGTH = 8
MAX_REPORTED = 20

_secrets: set[str] = set()
_log_files: set[Path] = set()
_in_process_leaks: list[str] = []


def add_secrets(values: Iterable[str | None]) -> None:
    for value in values:
        if value and len(value) >= MIN_SECRET_LENGTH and not value.isdigit():
            _secrets.add(value)


def secrets_in_env(env: Mapping[str, str]) -> set[str]:
    """Secret values a test configured for a process: secret-named variables it
    set or changed, and passwords inside URLs (database, Redis)."""
    found = set()
    for name, value in env.items():
        if os.environ.get(name) == value:
            continue  # inherited from the test run's own environment, not configured here
        if SECRET_NAME.search(name.upper()):
            found.add(value)
        elif "://" in value:
            found.add(urlsplit(value).password or "")
    return {v for v in found if v and len(v) >= MIN_SECRET_LENGTH and not v.isdigit()}


def watch(log_path: Path, env: Mapping[str, str] | None = None) -> None:
    """Check this process log at the end of the session, for the secrets in its environment too."""
    _log_files.add(Path(log_path))
    if env is not None:
        add_secrets(secrets_in_env(env))


def _forms(secret: str) -> set[str]:
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


def leaks() -> list[str]:
    """Every log line, in-process or in a watched file, that holds a configured secret."""
    found = list(_in_process_leaks)
    for path in sorted(_log_files):
        if not path.exists():
            continue
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                if _holds_secret(line):
                    found.append(f"{path.name}:{number}: {_excerpt(line)}")
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
