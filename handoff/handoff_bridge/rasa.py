"""HTTP client for the Rasa side: the bridge channel (docs/contracts/rasa-bridge.md).

Every call carries the token in the Authorization header, never in the URL,
so no log line or error text of any hop can show it.

Several Rasa instances (sharing the tracker and lock stores) may serve the
bridge. Each conversation goes to the healthy instance with the highest
rendezvous score for its id, so it stays on one instance while that instance
is healthy, and only the conversations of a failed instance move. Every
instance's bridge channel is checked every `health_interval` seconds; a call
that fails marks its instance down at once and goes to the next one, within
the same time bound for the whole turn. A message carries an id that stays
the same across these attempts, so an instance that already answered it
replays that answer instead of answering twice (rasa_addons/turns.py).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import math
import secrets
import ssl
import string
import time
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx

log = logging.getLogger("handoff.rasa")

# A bot turn is a handful of short messages; anything near this is a fault.
MAX_RESPONSE_BYTES = 1024 * 1024

MAX_RESPONSE_NAME_CHARS = 128

# Message keys relayed from Rasa to the citizen as they are.
RELAYED_KEYS = ("text", "buttons", "custom", "image", "attachment")
# The bot's signal that the citizen wants a person (rasa_addons/handoff_signal.py).
HANDOFF_KEY = "handoff"
MAX_TOPIC_CHARS = 128


# Instances one message is sent to at most (each failure moves it to the next).
MAX_ATTEMPTS = 3
# An instance on the private network that does not accept a connection this soon is down.
CONNECT_TIMEOUT_SECONDS = 1.0
HEALTH_TIMEOUT_SECONDS = 1.0


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


def new_message_id() -> str:
    """Letters only: Rasa's tracker store masks digit runs, and the id must come back intact."""
    return "".join(secrets.choice(string.ascii_letters) for _ in range(24))


def rendezvous_order(urls: list[str], conversation_id: str) -> list[str]:
    """The instances by their rendezvous score for this conversation, best first."""
    def score(url: str) -> bytes:
        return hashlib.blake2b(f"{url}|{conversation_id}".encode(), digest_size=8).digest()

    return sorted(urls, key=score, reverse=True)


@dataclass
class RasaInstance:
    url: str
    healthy: bool = True


@dataclass
class BotTurn:
    messages: list[dict] = field(default_factory=list)
    topic: str | None = None
    confidence: float | None = None
    language: str | None = None
    paused: bool = False
    # The language the bot answered in (it follows the citizen's), when Rasa says.
    reply_language: str | None = None
    # What the bot said about the handoff it asked for: reason, summary, topic,
    # confidence, language (each None when missing or malformed).
    handoff: dict | None = None


def _is_handoff_signal(raw) -> bool:
    return isinstance(raw, dict) and isinstance(raw.get("custom"), dict) and HANDOFF_KEY in raw["custom"]


def _optional_str(value, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value.strip() else None


def _confidence(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and 0.0 <= value <= 1.0 else None


def _handoff(raw) -> dict | None:
    if not isinstance(raw, dict):
        return None
    language = raw.get("language")
    return {
        "reason": _optional_str(raw.get("reason"), 64),
        "summary": _optional_str(raw.get("summary"), 4000),
        "topic": _optional_str(raw.get("topic"), MAX_TOPIC_CHARS),
        "confidence": _confidence(raw.get("confidence")),
        "language": language if language in ("da", "sv") else None,
    }


def _clean_message(raw) -> dict | None:
    if not isinstance(raw, dict):
        return None
    out = {k: raw[k] for k in RELAYED_KEYS if raw.get(k) not in (None, "", [])}
    if "buttons" in out:
        buttons = []
        for b in out["buttons"] if isinstance(out["buttons"], list) else []:
            if isinstance(b, dict) and b.get("title"):
                buttons.append({"title": str(b["title"])[:200], "payload": str(b.get("payload", ""))[:500]})
        out["buttons"] = buttons
        if not buttons:
            del out["buttons"]
    if "text" in out:
        out["text"] = str(out["text"])
    if not out:
        return None
    # The name of the response the assistant sent (contract 1), kept for the insight figures.
    if isinstance(raw.get("response"), str) and raw["response"]:
        out["response"] = raw["response"][:MAX_RESPONSE_NAME_CHARS]
    return out


def parse_turn(data) -> BotTurn:
    if not isinstance(data, dict):
        raise RasaUnavailable("response is not a JSON object")
    raw_messages = data.get("messages") if isinstance(data.get("messages"), list) else []
    # The handoff signal is for the bridge only: never stored or shown as a bot message.
    signals = [m["custom"][HANDOFF_KEY] for m in raw_messages if _is_handoff_signal(m)]
    messages = [m for m in (_clean_message(x) for x in raw_messages if not _is_handoff_signal(x)) if m]
    nlu = data.get("nlu") if isinstance(data.get("nlu"), dict) else {}
    confidence = nlu.get("confidence")
    try:
        confidence = float(confidence) if confidence is not None else None
    except (TypeError, ValueError):
        confidence = None
    topic = nlu.get("topic")
    handoff = _handoff(data.get("handoff") if data.get("handoff") is not None else (signals[-1] if signals else None))
    return BotTurn(
        messages=messages,
        topic=str(topic)[:MAX_TOPIC_CHARS] if topic else None,
        confidence=confidence,
        language=nlu.get("language"),
        paused=bool(data.get("paused", False)) or handoff is not None,
        handoff=handoff,
        reply_language=data.get("reply_language") if data.get("reply_language") in ("da", "sv") else None,
    )


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context of every Rasa client of the process: the one httpx
    builds for each client by default (SSL_CERT_FILE, SSL_CERT_DIR or certifi's
    bundle), made once, since loading the CA bundle takes tens of milliseconds."""
    return httpx.create_ssl_context()


class RasaClient:
    def __init__(self, base_url: str | list[str], token: str, timeout: float, delete_timeout: float = 5.0,
                 health_interval: float = 1.0):
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        urls = [u.strip().rstrip("/") for url in urls for u in url.split(",") if u.strip()]
        if not urls:
            raise ValueError("at least one Rasa URL is needed")
        self.instances = {url: RasaInstance(url) for url in dict.fromkeys(urls)}
        self._token = token
        self._timeout = timeout
        self._delete_timeout = delete_timeout
        self._health_interval = health_interval
        self._health_task: asyncio.Task | None = None
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            verify=tls_context(),
        )

    async def close(self) -> None:
        if self._health_task is not None:
            self._health_task.cancel()
            try:
                await self._health_task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
                pass
            self._health_task = None
        await self._client.aclose()

    # ------------------------------------------------------------ instances

    def instances_for(self, conversation_id: str) -> list[str]:
        """Where this conversation's calls go, in order: healthy instances first."""
        self._watch_health()
        ordered = rendezvous_order(list(self.instances), conversation_id)
        healthy = [url for url in ordered if self.instances[url].healthy]
        # With none healthy, still try them: a health check may lag behind.
        return healthy + [url for url in ordered if url not in healthy]

    def _mark_down(self, url: str, reason: str) -> None:
        instance = self.instances[url]
        if instance.healthy:
            log.warning("rasa instance %s is down (%s)", url, reason)
        instance.healthy = False

    def _watch_health(self) -> None:
        if len(self.instances) < 2 or (self._health_task is not None and not self._health_task.done()):
            return
        try:
            self._health_task = asyncio.get_running_loop().create_task(self._health_loop(), name="rasa-health")
        except RuntimeError:  # no running loop (synchronous use in tests)
            pass

    async def _health_loop(self) -> None:
        while True:
            await asyncio.gather(*(self._check(instance) for instance in self.instances.values()))
            await asyncio.sleep(self._health_interval)

    async def _check(self, instance: RasaInstance) -> None:
        try:
            resp = await self._client.get(f"{instance.url}/webhooks/bridge/", timeout=HEALTH_TIMEOUT_SECONDS)
            up = resp.status_code == 200
        except httpx.HTTPError:
            up = False
        if up and not instance.healthy:
            log.info("rasa instance %s is up", instance.url)
        instance.healthy = up

    # ------------------------------------------------------------ calls

    async def _call(self, conversation_id: str, method: str, path: str, timeout: float, **kwargs) -> httpx.Response:
        """One request to the conversation's instance, moving to the next when it is down.

        An instance is down when it cannot be reached, drops the connection
        without an answer or says it cannot serve (502/503/504): the request
        goes to the next instance at once, within the same `timeout`, marked
        `failover` (contract 1: that instance takes over the dead one's lock). An
        instance that is only slow keeps the request for the whole `timeout`:
        sending it elsewhere too would double the work exactly when the
        instances are busiest (and the health check moves the conversations
        of an instance that hangs). Any other answer is returned (a 4xx is the
        caller's to handle); RasaUnavailable when none came.
        """
        deadline = time.monotonic() + timeout
        reason = "no instance"
        for attempt, url in enumerate(self.instances_for(conversation_id)[:MAX_ATTEMPTS]):
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                break
            if attempt and "json" in kwargs:
                # The instance before did not answer: the next one takes over
                # whatever it held of this conversation (its lock) at once.
                kwargs = {**kwargs, "json": {**kwargs["json"], "failover": True}}
            try:
                resp = await self._client.request(
                    method, f"{url}{path}",
                    headers={"Authorization": f"Bearer {self._token}"},
                    timeout=httpx.Timeout(remaining, connect=min(remaining, CONNECT_TIMEOUT_SECONDS)),
                    **kwargs,
                )
            except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout) as exc:
                raise RasaUnavailable(type(exc).__name__) from exc
            except httpx.HTTPError as exc:  # refused, reset, closed, or no connection in time
                reason = type(exc).__name__
                self._mark_down(url, reason)
                continue
            if resp.status_code in (502, 503, 504):
                # Not serving (no model loaded, or a proxy in front has no backend).
                reason = f"HTTP {resp.status_code}"
                self._mark_down(url, reason)
                continue
            return resp
        raise RasaUnavailable(reason)

    async def send_message(self, conversation_id: str, text: str, metadata: dict) -> BotTurn:
        body = {"sender": conversation_id, "message": text, "metadata": metadata, "message_id": new_message_id()}
        resp = await self._call(conversation_id, "POST", "/webhooks/bridge/webhook", self._timeout, json=body)
        if resp.status_code != 200:
            raise RasaUnavailable(f"HTTP {resp.status_code}")
        if len(resp.content) > MAX_RESPONSE_BYTES:
            raise RasaUnavailable("response too large")
        try:
            return parse_turn(resp.json())
        except ValueError as exc:
            raise RasaUnavailable("invalid JSON") from exc

    async def _tracker_event(self, conversation_id: str, event: str) -> None:
        """Pause or resume the bot through the bridge channel (bearer token in the header)."""
        try:
            resp = await self._call(
                conversation_id, "POST",
                f"/webhooks/bridge/conversations/{quote(conversation_id, safe='')}/{event}", self._timeout,
            )
        except RasaUnavailable as exc:
            raise httpx.TransportError(str(exc)) from exc
        resp.raise_for_status()

    async def pause(self, conversation_id: str) -> bool:
        """Pause the bot; returns False (and logs) when Rasa cannot be reached.

        The bridge never forwards a non-bot conversation to Rasa anyway, so a
        failed pause does not let the bot talk; it is retried on hand-back.
        """
        try:
            await self._tracker_event(conversation_id, "pause")
            return True
        except httpx.HTTPError as exc:
            log.warning("pause of %s failed: %s", conversation_id, type(exc).__name__)
            return False

    async def resume(self, conversation_id: str) -> bool:
        try:
            await self._tracker_event(conversation_id, "resume")
            return True
        except httpx.HTTPError as exc:
            log.warning("resume of %s failed: %s", conversation_id, type(exc).__name__)
            return False

    async def delete_tracker(self, conversation_id: str) -> tuple[bool, str | None]:
        """Ask Rasa to delete the conversation's tracker. (True, None) on 204, and on
        404 (Rasa does not know it); otherwise (False, reason) for a later retry."""
        try:
            resp = await self._call(
                conversation_id, "DELETE",
                f"/webhooks/bridge/conversations/{quote(conversation_id, safe='')}", self._delete_timeout,
            )
        except RasaUnavailable as exc:
            return False, str(exc)
        if resp.status_code in (200, 204, 404):
            return True, None
        return False, f"HTTP {resp.status_code}"
