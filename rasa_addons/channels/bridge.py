"""The input channel the handoff bridge uses to talk to the assistant.

Contract (see docs/contracts/rasa-bridge.md):

``POST /webhooks/bridge/webhook`` with ``Authorization: Bearer <token>`` and
``{"sender": id, "message": text, "metadata": {...}, "message_id": id}`` answers
``{"messages": [...], "nlu": {"topic", "confidence", "language"}, "paused": bool,
"handoff": {"reason", "summary", "topic", "confidence", "language"} | null,
"reply_language": "da" | "sv" | null}``.

A number the citizen typed into the widget's field for it arrives as the
message text with ``metadata.identity_input`` (``cpr`` / ``personnummer``),
read by national_id_form like a typed one; the tracker store masks it.

Unlike Rasa's REST channel it returns what the assistant understood, so agents
see the topic and confidence of every bot turn, and whether the citizen asked
for a person during this turn (``handoff``, taken out of ``messages``: it is a
signal to the bridge, not text for the citizen; rasa_addons/handoff_signal.py),
and the language the bot answered in (the conversation's `language` slot after
the turn), so the bridge can render every piece of the answer in it.
``message_id`` (optional, 16-64 letters) makes the message safe to send again,
to this or another instance: a message already answered gets the stored
answer, not a second one (rasa_addons/turns.py). ``failover: true`` marks a
message sent again because the instance it went to first did not answer.

``GET /webhooks/bridge/`` answers 200 once the model is loaded, 503 before:
the bridge's health check of each instance.

``POST /webhooks/bridge/conversations/<id>/pause`` and ``.../resume`` pause the
bot when the bridge hands a conversation to a person by itself (the widget's
button) and resume it when an agent hands it back. Same bearer token: Rasa's
own HTTP API only takes its token in the URL, where logs would keep it.

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
from rasa.shared.core.events import ConversationPaused, ConversationResumed, Event

from rasa_addons import retention, turns
from rasa_addons.handoff_signal import split_handoff
from rasa_addons.languages import LANGUAGE_SLOT, SUPPORTED
from rasa_addons.nlu.language_detector import LANGUAGE

logger = logging.getLogger(__name__)

# At least the bridge's own limit (its setting max_message_chars, 2000 by
# default), so a message the bridge accepted is never refused here.
MAX_MESSAGE_CHARS = 4000
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


# Keys under which Rasa passes the name of what it sent: a domain response
# (utter_action) or a custom action's content key (actions/content.py).
_RESPONSE_KEYS = ("utter_action", "content_key")
MAX_RESPONSE_NAME_CHARS = 128


class BridgeOutputChannel(CollectingOutputChannel):
    """Collects the bot's messages like Rasa's REST channel, with two
    differences the bridge relies on:

    - a message with both text and a custom payload stays one message: the
      bridge and the widget read the payload (e.g. an identity request) as
      belonging to that text. Rasa would send them as two messages.
    - each message names the response it came from
      (`"response": "utter_ask_helpful"`), which Rasa's collector drops; the
      bridge uses it for its insight figures.
    """

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        name = next((message.get(k) for k in _RESPONSE_KEYS if isinstance(message.get(k), str)), None)
        before = len(self.messages)
        if message.get("text") and message.get("custom") and not message.get("quick_replies"):
            await self._persist_message(
                self._message(
                    recipient_id,
                    text=message["text"],
                    buttons=message.get("buttons"),
                    custom=message["custom"],
                )
            )
            rest = {key: value for key, value in message.items() if key not in ("text", "buttons", "custom")}
            await super().send_response(recipient_id, rest)
        else:
            await super().send_response(recipient_id, message)
        if name:
            for collected in self.messages[before:]:
                collected["response"] = name[:MAX_RESPONSE_NAME_CHARS]


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
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"status": "loading"}, status=503)
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
            async with turns.conversation_lock(agent, sender_id):
                deleted = await store.delete(sender_id)
            return response.empty(status=204 if deleted else 404)

        async def append_to_tracker(request: Request, sender_id: Text, event: Event) -> HTTPResponse:
            if not self._authorised(request):
                return _error(401, "missing or invalid bearer token")
            if not 0 < len(sender_id) <= MAX_SENDER_CHARS:
                return _error(400, f"conversation id must have 1-{MAX_SENDER_CHARS} characters")
            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():
                return _error(503, "no model loaded")
            # As Rasa's own tracker-events endpoint does: under the conversation's lock.
            async with turns.conversation_lock(agent, sender_id):
                tracker = await agent.processor.fetch_tracker_with_initial_session(sender_id)
                tracker.update(event, agent.domain)
                await agent.tracker_store.save(tracker)
            return response.json({"conversation_id": sender_id, "paused": tracker.is_paused()})

        @bridge_webhook.route("/conversations/<sender_id>/pause", methods=["POST"])
        async def pause(request: Request, sender_id: Text) -> HTTPResponse:
            return await append_to_tracker(request, sender_id, ConversationPaused())

        @bridge_webhook.route("/conversations/<sender_id>/resume", methods=["POST"])
        async def resume(request: Request, sender_id: Text) -> HTTPResponse:
            return await append_to_tracker(request, sender_id, ConversationResumed())

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
            message_id = body.get("message_id")
            if message_id is not None and not (isinstance(message_id, str) and turns.MESSAGE_ID.match(message_id)):
                return _error(400, "'message_id' must be 16-64 letters, '-' or '_'")
            failover = body.get("failover", False)
            if not isinstance(failover, bool):
                return _error(400, "'failover' must be true or false")

            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():
                return _error(503, "no model loaded")

            collector = BridgeOutputChannel()
            message = UserMessage(
                text, collector, sender, input_channel=self.name(), metadata=metadata,
                message_id=message_id,
            )
            # Parse once here so the answer can carry what the bot understood;
            # the processor reuses this parse instead of running NLU again.
            message.parse_data = await agent.processor.parse_message(message)
            # Rasa's `on_new_message` with a check for a message answered
            # before, and the tracker of the turn kept for the answer.
            turn = await turns.handle(agent, message, message_id, failover=failover)

            messages: List[Dict[Text, Any]]
            messages, handoff = split_handoff(turn.messages)
            tracker = turn.tracker
            reply_language = tracker.get_slot(LANGUAGE_SLOT) if tracker is not None else None
            return response.json(
                {
                    "messages": messages,
                    "nlu": nlu_summary(turn.parse_data),
                    "paused": handoff is not None,
                    "handoff": handoff,
                    "reply_language": reply_language if reply_language in SUPPORTED else None,
                }
            )

        return bridge_webhook
