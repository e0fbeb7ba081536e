"""The input channel the handoff bridge uses to talk to the assistant.

Contract (see docs/contracts/rasa-bridge.md):

``POST /webhooks/bridge/webhook`` with ``Authorization: Bearer <token>`` and
``{"sender": id, "message": text, "metadata": {...}}`` answers
``{"messages": [...], "nlu": {"topic", "confidence", "language"}, "paused": bool}``.

Unlike Rasa's REST channel it returns what the assistant understood, so agents
see the topic and confidence of every bot turn, and whether the bot handed the
conversation to a person during this turn.

``DELETE /webhooks/bridge/conversations/<id>`` erases a conversation from the
tracker store (the citizen deleted it, or the bridge's retention did). The
channel also runs the tracker store's retention job (rasa_addons.retention).
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage

from rasa_addons import retention
from rasa_addons.handoff_signal import is_handoff_message
from rasa_addons.nlu.language_detector import LANGUAGE

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000
MAX_SENDER_CHARS = 128
MAX_METADATA_KEYS = 20
NO_ANSWER_TOPIC = "out_of_scope"


def _error(status: int, message: Text) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def nlu_summary(parse_data: Dict[Text, Any]) -> Dict[Text, Any]:
    """What an agent needs to know about how the bot understood a message."""
    intent = parse_data.get("intent") or {}
    knowledge = parse_data.get("knowledge") or {}
    if knowledge.get("answer_id") or knowledge.get("decision") == "no_answer":
        # A question for the knowledge base: the answer is the topic; when no
        # answer fits, the catalogue's out_of_scope (the bridge counts those
        # as the bot falling short).
        return {
            "topic": knowledge.get("answer_id") or NO_ANSWER_TOPIC,
            "confidence": knowledge.get("confidence"),
            "language": parse_data.get(LANGUAGE),
        }
    return {
        "topic": intent.get("name"),
        "confidence": intent.get("confidence"),
        "language": parse_data.get(LANGUAGE),
    }


class BridgeInput(InputChannel):
    """Authenticated REST-like channel for the handoff bridge."""

    @classmethod
    def name(cls) -> Text:
        return "bridge"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "BridgeInput":
        token = (credentials or {}).get("token") or ""
        return cls(token)

    def __init__(self, token: Text) -> None:
        # An empty token would let anyone on the host drive conversations.
        if not token or token.startswith("${"):
            raise ValueError(
                "The bridge channel needs a token: set RASA_TOKEN in the environment."
            )
        self.token = token

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, supplied = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            supplied.encode(), self.token.encode()
        )

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        module = inspect.getmodule(self)
        bridge_webhook = Blueprint(
            "bridge_webhook", module.__name__ if module else None
        )

        @bridge_webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bridge_webhook.listener("after_server_start")
        async def start_retention(app: Any, _: Any) -> None:
            retention.retention_days()  # a bad setting stops the server here, not later

            def tracker_store() -> Any:
                agent = getattr(app.ctx, "agent", None)
                return agent.tracker_store if agent is not None else None

            app.ctx.retention_job = asyncio.ensure_future(retention.run_periodically(tracker_store))

        @bridge_webhook.listener("before_server_stop")
        async def stop_retention(app: Any, _: Any) -> None:
            job = getattr(app.ctx, "retention_job", None)
            if job is not None:
                job.cancel()

        @bridge_webhook.route("/conversations/<sender_id>", methods=["DELETE"])
        async def erase(request: Request, sender_id: Text) -> HTTPResponse:
            if not self._authorised(request):
                return _error(401, "missing or invalid bearer token")
            if not 0 < len(sender_id) <= MAX_SENDER_CHARS:
                return _error(400, f"conversation id must have 1-{MAX_SENDER_CHARS} characters")
            agent = request.app.ctx.agent
            store = retention.erasable_store(agent.tracker_store) if agent else None
            if store is None:
                return _error(503, "the tracker store cannot erase conversations")
            # Wait for a message of this conversation being processed right now.
            async with agent.lock_store.lock(sender_id):
                deleted = await store.delete(sender_id)
            return response.empty(status=204 if deleted else 404)

        @bridge_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return _error(401, "missing or invalid bearer token")
            try:
                body = request.json
            except Exception:  # Sanic raises its own InvalidUsage for bad JSON.
                return _error(400, "body must be JSON")
            if not isinstance(body, dict):
                return _error(400, "body must be a JSON object")

            sender = body.get("sender")
            text = body.get("message")
            metadata = body.get("metadata") or {}
            if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER_CHARS:
                return _error(400, f"'sender' must be a string of 1-{MAX_SENDER_CHARS} characters")
            if not isinstance(text, str) or not 0 < len(text) <= MAX_MESSAGE_CHARS:
                return _error(400, f"'message' must be a string of 1-{MAX_MESSAGE_CHARS} characters")
            if not isinstance(metadata, dict) or len(metadata) > MAX_METADATA_KEYS:
                return _error(400, "'metadata' must be an object with few keys")

            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():
                return _error(503, "no model loaded")

            collector = CollectingOutputChannel()
            message = UserMessage(
                text, collector, sender, input_channel=self.name(), metadata=metadata
            )
            # Parse once here so the answer can carry what the bot understood;
            # the processor reuses this parse instead of running NLU again.
            message.parse_data = await agent.processor.parse_message(message)
            await on_new_message(message)

            messages: List[Dict[Text, Any]] = collector.messages
            return response.json(
                {
                    "messages": messages,
                    "nlu": nlu_summary(message.parse_data),
                    "paused": any(is_handoff_message(m) for m in messages),
                }
            )

        return bridge_webhook
