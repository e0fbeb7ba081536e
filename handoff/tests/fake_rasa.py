"""A small real HTTP server that speaks Rasa's side of the bridge channel.

Behaviour by message text, so tests can script the bot:
  "slow ..."      -> sleeps longer than the bridge's timeout
  "boom ..."      -> HTTP 500
  "human ...", "/request_human"
                  -> like the handoff action: no text, the handoff signal
                     (reason, summary, topic, confidence, language), paused
  "silent ..."    -> 200 with no messages (the action server is down)
  "silent human"  -> the same, understood as request_human
  "??? ..."       -> nlu_fallback
  "på dansk ..."  -> a Danish answer with a link (reply_language "da")
  "payout ..."    -> asks for the CPR number with an identity_request (as national_id_form does)
  "mitid ..."     -> the MitID answer, with MitID Support's phone number
  anything else   -> one text message with buttons, one custom and one image
                     ("Svar på: <text>", numbers masked: the real assistant
                     never repeats a number the citizen wrote)
While a conversation is paused (the handoff signal, or POST .../pause),
messages get no reply, as with a real paused Rasa tracker.

DELETE /webhooks/bridge/conversations/<id> deletes a tracker: 204 when it
existed (the conversation sent a message), 404 otherwise; `fail_deletes`
makes it answer 503 (Rasa down) so the bridge's retry can be tested.
Every request must carry the bearer token; `urls` records every request
URL so tests can check that no secret travels in one. One server runs for a
whole test session (on an event loop of its own, tests/conftest.py) and
`reset` empties what it recorded before each test.
"""

from __future__ import annotations

import asyncio
import itertools

from sanic import Request, Sanic, json
from sanic.response import empty

from handoff_bridge.privacy import mask_personal_data

MITID_ANSWER = ("Er din MitID spærret, kan du genaktivere den i MitID-appen med dit pas eller ID-kort eller med "
                "en aktiveringskode fra Borgerservice. Har du brug for hjælp, kan du ringe til MitID Support på "
                "33 98 00 10. Læs mere på https://www.mitid.dk")

_counter = itertools.count(1)


class FakeRasa:
    def __init__(self, token: str):
        self.token = token
        self.requests: list[dict] = []
        self.urls: list[str] = []
        self.events: list[tuple[str, str]] = []
        self.paused: set[str] = set()
        self.slow_seconds = 5.0
        self.deleted: list[str] = []
        self.fail_deletes = False
        # Fields of the next handoff signals, over the defaults (tests send hostile ones).
        self.handoff_overrides: dict = {}
        self.app = self._build()
        self.server = None
        self.url = None

    def reset(self) -> None:
        """Back to a fresh fake: one server serves a whole test session, reset between tests."""
        self.requests.clear()
        self.urls.clear()
        self.events.clear()
        self.paused.clear()
        self.deleted.clear()
        self.slow_seconds = 5.0
        self.fail_deletes = False
        self.handoff_overrides = {}

    def _build(self) -> Sanic:
        app = Sanic(f"fake_rasa_{next(_counter)}")
        app.config.NOISY_EXCEPTIONS = False

        @app.on_request
        async def record_url(request: Request):
            self.urls.append(request.url)

        @app.post("/webhooks/bridge/webhook", error_format="json")
        async def webhook(request: Request):
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return json({"error": "bad token"}, status=401)
            body = request.json
            self.requests.append(body)
            sender, text = body["sender"], body["message"]
            if sender in self.paused:
                return json({"messages": [], "nlu": {"topic": None, "confidence": None, "language": "da"}, "paused": True})
            if text.startswith("slow"):
                await asyncio.sleep(self.slow_seconds)
            if text.startswith("boom"):
                return json({"error": "internal"}, status=500)
            if text.startswith("silent"):
                topic = "request_human" if "human" in text else "ask_passport"
                return json({"messages": [], "nlu": {"topic": topic, "confidence": 0.97, "language": "da"}, "paused": False})
            if text.startswith("human") or text == "/request_human":
                self.paused.add(sender)
                signal = {"reason": "citizen_request", "summary": "Borgeren vil tale med en medarbejder om pas.",
                          "topic": "passport", "confidence": 0.97,
                          "language": body["metadata"].get("language", "da"), **self.handoff_overrides}
                return json({"messages": [],
                             "nlu": {"topic": "request_human", "confidence": 0.97, "language": "da"},
                             "paused": True, "handoff": signal})
            if text.startswith("på dansk"):
                return json({"messages": [{"text": "Læs mere på https://www.borger.dk"}],
                             "nlu": {"topic": "passport", "confidence": 0.9, "language": "da"},
                             "paused": False, "reply_language": "da"})
            if text.startswith("payout"):
                return json({
                    "messages": [{"text": "Skriv dit CPR-nummer (DDMMÅÅ-XXXX) i feltet til CPR-nummer.",
                                  "custom": {"identity_request": {"kind": "cpr", "format": "DDMMÅÅ-XXXX",
                                                                  "reason": "Vi sender svaret som SMS."}}}],
                    "nlu": {"topic": "payout_inquiry", "confidence": 0.95, "language": "da"},
                    "paused": False,
                })
            if (body.get("metadata") or {}).get("identity_input"):
                return json({"messages": [{"text": "Tak. Du får en SMS."}],
                             "nlu": {"topic": "payout_inquiry", "confidence": 0.3, "language": "da"}, "paused": False})
            if text.startswith("mitid"):
                # The assistant's own content, with an authority's phone number (data/faq/mitid_blocked.yml).
                return json({"messages": [{"text": MITID_ANSWER}],
                             "nlu": {"topic": "mitid_blocked", "confidence": 0.95, "language": "da"}, "paused": False})
            if text.startswith("???"):
                return json({"messages": [{"text": "Det forstod jeg ikke."}],
                             "nlu": {"topic": "nlu_fallback", "confidence": 0.21, "language": "da"}, "paused": False})
            return json({
                "messages": [
                    # Like the real assistant, the answer never repeats a number the citizen wrote.
                    {"text": f"Svar på: {mask_personal_data(text)}", "buttons": [{"title": "Pas", "payload": "/ask_passport"}]},
                    {"custom": {"kind": "link", "url": "https://example.invalid/pas"}},
                    {"image": "https://example.invalid/pas.png"},
                ],
                "nlu": {"topic": "ask_passport", "confidence": 0.93, "language": "da"},
                "paused": False,
            })

        @app.post("/webhooks/bridge/conversations/<conversation_id:str>/<event:str>", error_format="json")
        async def tracker_event(request: Request, conversation_id: str, event: str):
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return json({"error": "bad token"}, status=401)
            if event not in ("pause", "resume"):
                return json({"error": "unknown event"}, status=404)
            self.events.append((conversation_id, event))
            if event == "pause":
                self.paused.add(conversation_id)
            else:
                self.paused.discard(conversation_id)
            return json({"conversation_id": conversation_id, "paused": conversation_id in self.paused})

        @app.delete("/webhooks/bridge/conversations/<conversation_id:str>", error_format="json")
        async def delete_tracker(request: Request, conversation_id: str):
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return json({"error": "bad token"}, status=401)
            if self.fail_deletes:
                return json({"error": "unavailable"}, status=503)
            known = any(r["sender"] == conversation_id for r in self.requests) and conversation_id not in self.deleted
            self.deleted.append(conversation_id)
            return empty(status=204) if known else json({"error": "unknown conversation"}, status=404)

        return app

    def texts_for(self, conversation_id: str) -> list[str]:
        return [r["message"] for r in self.requests if r["sender"] == conversation_id]
