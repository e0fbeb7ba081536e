"""Settings of the sandbox, read once from the environment.

Development defaults (tokens, secret) are used only when SANDBOX_ENV is
"development": any other environment must set them, so that a sandbox
reachable by others never runs with published credentials.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

SYSTEMS = ("payout-system", "case-system", "sms-gateway")

SANDBOX_ROOT = Path(__file__).resolve().parent.parent

# Published in README.md; accepted only when SANDBOX_ENV=development.
DEVELOPMENT_TOKENS = {
    "payout-system": "sandbox-dev-payout-token",
    "case-system": "sandbox-dev-case-token",
    "sms-gateway": "sandbox-dev-sms-token",
    "admin": "sandbox-dev-admin-token",
}
_DEVELOPMENT_FINGERPRINT_SECRET = "sandbox-dev-fingerprint-secret"

_TOKEN_VARIABLES = {
    "payout-system": "SANDBOX_PAYOUT_TOKEN",
    "case-system": "SANDBOX_CASE_TOKEN",
    "sms-gateway": "SANDBOX_SMS_TOKEN",
    "admin": "SANDBOX_ADMIN_TOKEN",
}


class SettingsError(ValueError):
    """The environment does not describe a usable configuration."""


@dataclass(frozen=True)
class Settings:
    environment: str
    host: str
    port: int
    database_url: str
    tokens: Mapping[str, str]
    fingerprint_secret: bytes
    # Fixed "today" for reproducible payout and case dates; None means the real date.
    today: dt.date | None
    # Failure modes applied at start, e.g. {"payout-system": "down"}.
    initial_failure_modes: Mapping[str, str] = field(default_factory=dict)
    notifications_per_person_per_hour: int = 10
    pending_retry_interval_seconds: float = 1.0
    log_level: str = "INFO"
    access_log: bool = True

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    def current_date(self) -> dt.date:
        return self.today or dt.date.today()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        environment = env.get("SANDBOX_ENV", "production").strip().lower()
        development = environment == "development"

        tokens: dict[str, str] = {}
        for system, variable in _TOKEN_VARIABLES.items():
            value = env.get(variable, "").strip()
            if not value:
                if not development:
                    raise SettingsError(f"{variable} must be set unless SANDBOX_ENV=development")
                value = DEVELOPMENT_TOKENS[system]
            tokens[system] = value

        secret = env.get("SANDBOX_FINGERPRINT_SECRET", "").strip()
        if not secret:
            if not development:
                raise SettingsError("SANDBOX_FINGERPRINT_SECRET must be set unless SANDBOX_ENV=development")
            secret = _DEVELOPMENT_FINGERPRINT_SECRET

        default_db = SANDBOX_ROOT / "var" / "sandbox.sqlite3"
        database_url = env.get("SANDBOX_DATABASE_URL", f"sqlite+aiosqlite:///{default_db}")

        return cls(
            environment=environment,
            host=env.get("SANDBOX_HOST", "127.0.0.1"),
            port=_int(env, "SANDBOX_PORT", 8090, minimum=1, maximum=65535),
            database_url=database_url,
            tokens=tokens,
            fingerprint_secret=secret.encode("utf-8"),
            today=_date(env.get("SANDBOX_TODAY", "")),
            initial_failure_modes=parse_failure_modes(env.get("SANDBOX_FAILURE_MODES", "")),
            notifications_per_person_per_hour=_int(env, "SANDBOX_NOTIFICATIONS_PER_PERSON_PER_HOUR", 10, minimum=0),
            pending_retry_interval_seconds=_float(env, "SANDBOX_PENDING_RETRY_INTERVAL_SECONDS", 1.0, minimum=0.05),
            log_level=env.get("SANDBOX_LOG_LEVEL", "INFO").upper(),
            access_log=env.get("SANDBOX_ACCESS_LOG", "true").lower() in ("1", "true", "yes"),
        )


def parse_failure_modes(value: str) -> dict[str, str]:
    """Parse "payout-system=down,case-system=slow:4000" into a mapping.

    The value after "=" is handed to the failure-mode parser unchanged, so
    the environment variable accepts the same modes as the admin endpoint.
    """
    modes: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        system, sep, mode = item.partition("=")
        system = system.strip()
        if not sep or system not in SYSTEMS or not mode.strip():
            raise SettingsError(f"SANDBOX_FAILURE_MODES: expected SYSTEM=MODE with SYSTEM in {', '.join(SYSTEMS)}")
        modes[system] = mode.strip()
    return modes


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer") from None
    if value < minimum or (maximum is not None and value > maximum):
        raise SettingsError(f"{name} is out of range")
    return value


def _float(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number") from None
    if value < minimum:
        raise SettingsError(f"{name} is out of range")
    return value


def _date(raw: str) -> dt.date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise SettingsError("SANDBOX_TODAY must be a date, YYYY-MM-DD") from None
