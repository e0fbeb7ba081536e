"""Shared HTTP plumbing of the municipal-system adapters (aiohttp).

Every call has a per-attempt timeout and an overall deadline, so a citizen
never waits long for an answer. Retries are bounded, use exponential backoff
with jitter, and happen only for calls that are safe to repeat: lookups, and
writes that carry an idempotency key.

Error contract for actions:
- SystemUnavailableError: the system could not serve the request (down,
  slow, failing, misconfigured). Apologise and offer a person.
- RequestRejectedError: the system refused the request as invalid (for
  example an identity number it does not accept). Also never a crash: ask
  again or, as above, apologise and offer a person.
Both derive from IntegrationError. No message, log line or repr made here
contains an identity number, a phone number or a response body.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import aiohttp
from ddh_privacy.national_id import normalize_national_id

logger = logging.getLogger(__name__)

SANDBOX_BASE_URL = "http://127.0.0.1:8090"

# The sandbox's published development tokens (sandbox/README.md). Used only
# when a system's URL is the embedded sandbox default and no token is set, so
# a local setup works without configuration and a real system never receives
# them.
SANDBOX_DEVELOPMENT_TOKENS = {
    "payout-system": "sandbox-dev-payout-token",
    "case-system": "sandbox-dev-case-token",
    "sms-gateway": "sandbox-dev-sms-token",
}

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
REJECTED_STATUSES = frozenset({400, 409, 422})


class IntegrationError(Exception):
    """Base class of the adapters' errors."""

    def __init__(self, system: str, message: str) -> None:
        super().__init__(f"{system}: {message}")
        self.system = system


class SystemUnavailableError(IntegrationError):
    """The system could not answer. The citizen gets an apology and the offer
    of a person.

    reason: timeout | connection | server_error | unavailable | misconfigured
    | not_configured | bad_response
    """

    def __init__(self, system: str, reason: str, *, status: int | None = None, attempts: int = 0) -> None:
        detail = f"unavailable ({reason}" + (f", HTTP {status}" if status else "") + f", {attempts} attempt(s))"
        super().__init__(system, detail)
        self.reason = reason
        self.status = status
        self.attempts = attempts


class RequestRejectedError(IntegrationError):
    """The system answered that the request is invalid (HTTP 400, 409, 422).

    `code` is the system's machine-readable error, e.g. "invalid_national_id".
    """

    def __init__(self, system: str, status: int, code: str | None) -> None:
        super().__init__(system, f"request rejected (HTTP {status}, {code or 'no code'})")
        self.status = status
        self.code = code


@dataclass(frozen=True)
class ServiceConfig:
    system: str
    base_url: str
    token: str = field(repr=False)
    timeout_seconds: float = 3.0
    max_attempts: int = 3
    deadline_seconds: float = 8.0
    backoff_seconds: float = 0.2
    backoff_max_seconds: float = 2.0

    def __post_init__(self) -> None:
        if self.timeout_seconds <= 0 or self.deadline_seconds <= 0:
            raise ValueError("timeouts must be positive")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    @classmethod
    def from_env(
        cls,
        system: str,
        env_prefix: str,
        default_path: str,
        env: Mapping[str, str] | None = None,
    ) -> "ServiceConfig":
        """Read {PREFIX}_URL, {PREFIX}_TOKEN and the optional tuning variables
        {PREFIX}_TIMEOUT_SECONDS, {PREFIX}_MAX_ATTEMPTS, {PREFIX}_DEADLINE_SECONDS
        (falling back to INTEGRATION_TIMEOUT_SECONDS etc.)."""
        env = os.environ if env is None else env
        default_url = SANDBOX_BASE_URL + default_path
        base_url = (env.get(f"{env_prefix}_URL") or default_url).rstrip("/")
        token = env.get(f"{env_prefix}_TOKEN", "").strip()
        if not token and base_url == default_url:
            token = SANDBOX_DEVELOPMENT_TOKENS.get(system, "")

        def number(name: str, default: float) -> float:
            raw = env.get(f"{env_prefix}_{name}") or env.get(f"INTEGRATION_{name}")
            if raw is None or not raw.strip():
                return default
            try:
                return float(raw)
            except ValueError:
                raise ValueError(f"{env_prefix}_{name} / INTEGRATION_{name} must be a number") from None

        return cls(
            system=system,
            base_url=base_url,
            token=token,
            timeout_seconds=number("TIMEOUT_SECONDS", 3.0),
            max_attempts=int(number("MAX_ATTEMPTS", 3)),
            deadline_seconds=number("DEADLINE_SECONDS", 8.0),
        )


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: Mapping[str, str]


@dataclass(frozen=True)
class NotificationReceipt:
    """A payout or case system accepted to send an SMS to the person's
    registered number. Deliberately says nothing about the outcome."""

    notification_id: str


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class ServiceClient:
    """Base of the adapters. Use as `async with Client.from_env() as client:`,
    or pass a shared aiohttp session (the client then leaves it open)."""

    def __init__(self, config: ServiceConfig, session: aiohttp.ClientSession | None = None) -> None:
        self.config = config
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> "ServiceClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        if self._owns_session:
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        safe_to_retry: bool,
        idempotency_key: str | None = None,
        expected: Iterable[int] = (200,),
    ) -> Response:
        """Send a request with timeouts and bounded retries.

        A call is repeated only if `safe_to_retry` (reads, lookups) or it
        carries an idempotency key; otherwise a lost answer could mean a
        duplicated side effect.
        """
        config = self.config
        if not config.token:
            logger.error("%s %s: no token configured", config.system, operation)
            raise SystemUnavailableError(config.system, "not_configured")
        expected = frozenset(expected)
        retryable_call = safe_to_retry or idempotency_key is not None
        headers = {"Authorization": f"Bearer {config.token}", "Accept": "application/json"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        url = config.base_url + path
        loop = asyncio.get_running_loop()
        deadline = loop.time() + config.deadline_seconds

        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - loop.time()
            started = time.monotonic()
            retry_after: float | None = None
            try:
                async with self._http().request(
                    method,
                    url,
                    json=json_body,
                    params=params,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=max(0.001, min(config.timeout_seconds, remaining))),
                ) as response:
                    status = response.status
                    if status in expected:
                        body = None if status == 204 else await response.json(content_type=None)
                        logger.debug(
                            "%s %s: HTTP %s in %.0f ms (attempt %d)",
                            config.system,
                            operation,
                            status,
                            (time.monotonic() - started) * 1000,
                            attempt,
                        )
                        return Response(status, body, dict(response.headers))
                    code = await _problem_code(response)
                    retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            except aiohttp.InvalidURL:
                logger.error("%s %s: invalid base URL", config.system, operation)
                raise SystemUnavailableError(config.system, "misconfigured", attempts=attempt) from None
            except asyncio.TimeoutError:
                failure = SystemUnavailableError(config.system, "timeout", attempts=attempt)
                retryable = True
            except aiohttp.ClientConnectionError:
                failure = SystemUnavailableError(config.system, "connection", attempts=attempt)
                retryable = True
            except (aiohttp.ClientPayloadError, aiohttp.ContentTypeError, ValueError):
                # A 2xx whose body is not JSON: repeating will not help.
                logger.error("%s %s: unreadable response body", config.system, operation)
                raise SystemUnavailableError(config.system, "bad_response", attempts=attempt) from None
            else:
                if status in REJECTED_STATUSES:
                    logger.warning("%s %s: rejected, HTTP %s (%s)", config.system, operation, status, code)
                    raise RequestRejectedError(config.system, status, code)
                if status in (401, 403, 404, 405):
                    # Wrong token or URL: a configuration error, not the citizen's.
                    logger.error("%s %s: HTTP %s, check URL and token", config.system, operation, status)
                    raise SystemUnavailableError(config.system, "misconfigured", status=status, attempts=attempt)
                if status < 400:
                    reason = "bad_response"
                elif status in RETRYABLE_STATUSES:
                    reason = "unavailable"
                else:
                    reason = "server_error"
                failure = SystemUnavailableError(config.system, reason, status=status, attempts=attempt)
                retryable = status in RETRYABLE_STATUSES

            logger.warning(
                "%s %s: attempt %d/%d failed (%s) after %.0f ms",
                config.system,
                operation,
                attempt,
                config.max_attempts,
                failure.reason,
                (time.monotonic() - started) * 1000,
            )
            if not (retryable and retryable_call) or attempt >= config.max_attempts:
                raise failure
            delay = _backoff(attempt, config.backoff_seconds, config.backoff_max_seconds)
            if retry_after is not None:
                # The system says how long it will be away; if that is beyond
                # our deadline, asking again only adds load.
                delay = max(delay, retry_after)
            if loop.time() + delay >= deadline:
                raise failure
            await asyncio.sleep(delay)


def _backoff(attempt: int, base: float, maximum: float) -> float:
    """Exponential backoff with full jitter (avoids synchronized retries)."""
    return random.uniform(0, min(maximum, base * 2 ** (attempt - 1)))


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = dt.datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None
    return max(0.0, (moment - dt.datetime.now(dt.timezone.utc)).total_seconds())


async def _problem_code(response: aiohttp.ClientResponse) -> str | None:
    """The `code` of a problem document; never the detail, which is not ours to log."""
    try:
        body = await response.json(content_type=None)
    except Exception:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) and re.fullmatch(r"[a-z_]{1,64}", code) else None


# --- Request bodies ----------------------------------------------------------------

LANGUAGES = ("da", "sv")


def person_body(country: str, national_id: str) -> dict[str, str]:
    return {"country": country, "national_id": normalize_national_id(country, national_id)}


def language_for(country: str, language: str | None) -> str:
    if language is None:
        return "da" if country == "DK" else "sv"
    if language not in LANGUAGES:
        raise ValueError("language must be da or sv")
    return language


def parse_date(value: Any, *, system: str, optional: bool = False) -> dt.date | None:
    if value is None and optional:
        return None
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise SystemUnavailableError(system, "bad_response") from None


def parse_datetime(value: Any, *, system: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, TypeError, ValueError):
        raise SystemUnavailableError(system, "bad_response") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def require(body: Any, keys: Iterable[str], *, system: str) -> dict:
    """The response is an object with these keys, or the system broke its contract."""
    if not isinstance(body, dict) or any(key not in body for key in keys):
        logger.error("%s: response does not match the contract", system)
        raise SystemUnavailableError(system, "bad_response")
    return body
