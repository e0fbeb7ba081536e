"""HTTP client for the Rasa side: the bridge channel (docs/contracts/rasa-bridge.md).

Every call carries the token in the Authorization header, never in the URL,
so no log line or error text of any hop can show it.
"""

from __future__ import annotations

import logging
import math
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


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


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


class RasaClient:
    def __init__(self, base_url: str, token: str, timeout: float, delete_timeout: float = 5.0):
        self._base = base_url.rstrip("/")
        self._token = token
        self._delete_timeout = httpx.Timeout(delete_timeout, connect=min(delete_timeout, 3.0))
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def send_message(self, conversation_id: str, text: str, metadata: dict) -> BotTurn:
        body = {"sender": conversation_id, "message": text, "metadata": metadata}
        try:
            resp = await self._client.post(
                f"{self._base}/webhooks/bridge/webhook",
                json=body,
                headers={"Authorization": f"Bearer {self._token}"},
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"{type(exc).__name__}") from exc
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
        resp = await self._client.post(
            f"{self._base}/webhooks/bridge/conversations/{quote(conversation_id, safe='')}/{event}",
            headers={"Authorization": f"Bearer {self._token}"},
        )
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
            resp = await self._client.delete(
                f"{self._base}/webhooks/bridge/conversations/{quote(conversation_id, safe='')}",
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self._delete_timeout,
            )
        except httpx.HTTPError as exc:
            return False, type(exc).__name__
        if resp.status_code in (200, 204, 404):
            return True, None
        return False, f"HTTP {resp.status_code}"
