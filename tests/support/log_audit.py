"""No configured secret in any log line of any service the tests started.

Every service process (Rasa, the action server, the sandbox) is started by
`processes.running_process`, which registers its log file and the secrets in
its environment here: tokens, signing secrets, keys, passwords (also inside
URLs). At the end of the session conftest.py reports every log line that
holds one of them, and fails the run.
"""

from __future__ import annotations

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


def leaks() -> List[str]:
    """Every line of a watched log that holds a configured secret."""
    forms = {form for secret in _secrets for form in _forms(secret)}
    found = []
    for path in sorted(_log_files):
        if not path.exists():
            continue
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                if any(form in line for form in forms):
                    found.append(f"{path.parent.name}/{path.name}:{number}: {_excerpt(line)}")
    return found


def report(terminal) -> bool:
    """Writes the leaks to the terminal; True when there is none."""
    found = leaks()
    if not found:
        return True
    terminal.section("configured secrets in service logs", sep="=", red=True)
    for line in found[:MAX_REPORTED]:
        terminal.line(line)
    if len(found) > MAX_REPORTED:
        terminal.line(f"... and {len(found) - MAX_REPORTED} more")
    return False
