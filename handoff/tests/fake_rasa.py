"""A small real HTTP server that speaks Rasa's side of contracts 1 and 3.

Behaviour by message text, so tests can script the bot:
  "slow ..."      -> sleeps longer than the bridge's timeout
  "boom ..."      -> HTTP 500
  "human ..."     -> like the handoff action: calls the bridge's escalation
                     endpoint (contract 2), pauses itself, returns paused: true
  "??? ..."       -> nlu_fallback
  "mitid ..."     -> the MitID answer, with MitID Support's phone number
  anything else   -> one text message with buttons, one custom and one image
                     ("Svar på: <text>", numbers masked: the real assistant
                     never repeats a number the citizen wrote)
While a conversation is paused (tracker event "pause"), messages get no reply,
as with a real paused Rasa tracker.

DELETE /webhooks/bridge/conversations/<id> deletes a tracker: 204 when it
existed (the conversation sent a message), 404 otherwise; `fail_deletes`
makes it answer 503 (Rasa down) so the bridge's retry can be tested.
"""

from __future__ import annotations

import asyncio
import itertools

import httpx
from sanic import Request, Sanic, json
from sanic.response import empty

from handoff_bridge.privacy import mask_personal_data

MITID_ANSWER = ("Er din MitID spærret, kan du genaktivere den i MitID-appen med dit pas eller ID-kort eller med "
                "en aktiveringskode fra Borgerservice. Har du brug for hjælp, kan du ringe til MitID Support på "
                "33 98 00 10. Læs mere på https://www.mitid.dk")

_counter = itertools.count(1)


class FakeRasa:
    def __init__(self, token: str, service_token: str):
        self.token = token
        self.service_token = service_token
        self.requests: list[dict] = []
        self.events: list[tuple[str, str]] = []
        self.paused: set[str] = set()
        self.bridge_url: str | None = None
        self.slow_seconds = 5.0
        self.deleted: list[str] = []
        self.fail_deletes = False
        self.app = self._build()
        self.server = None
        self.url = None

    def _build(self) -> Sanic:
        app = Sanic(f"fake_rasa_{next(_counter)}")
        app.config.NOISY_EXCEPTIONS = False

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
            if text.startswith("human"):
                async with httpx.AsyncClient(timeout=5) as client:
                    resp = await client.post(
                        f"{self.bridge_url}/api/v1/service/handoffs",
                        headers={"Authorization": f"Bearer {self.service_token}"},
                        json={"conversation_id": sender, "reason": "citizen_request",
                              "language": body["metadata"].get("language", "da"),
                              "summary": "Borgeren vil tale med en medarbejder om pas.",
                              "topic": "request_human", "confidence": 0.97},
                    )
                if resp.status_code in (200, 201):
                    self.paused.add(sender)
                    return json({"messages": [{"text": "Jeg sætter dig i forbindelse med en medarbejder."}],
                                 "nlu": {"topic": "request_human", "confidence": 0.97, "language": "da"},
                                 "paused": True})
                return json({"messages": [{"text": "Det kunne jeg ikke."}],
                             "nlu": {"topic": "request_human", "confidence": 0.97, "language": "da"}, "paused": False})
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

        @app.post("/conversations/<conversation_id:str>/tracker/events", error_format="json")
        async def tracker_events(request: Request, conversation_id: str):
            if request.args.get("token") != self.token:
                return json({"error": "bad token"}, status=401)
            event = request.json.get("event")
            self.events.append((conversation_id, event))
            if event == "pause":
                self.paused.add(conversation_id)
            elif event == "resume":
                self.paused.discard(conversation_id)
            return json({"sender_id": conversation_id, "paused": conversation_id in self.paused})

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
