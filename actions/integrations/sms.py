"""Adapter for the SMS gateway (contracts/sms-gateway.yaml).

The assistant does not need it to answer citizens: the payout and case
systems text the registered number themselves. It is here for
municipalities that let the assistant send its own messages, and for tests
and developers, who read the sandbox's outbox with it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Mapping

import aiohttp

from .http import ServiceClient, ServiceConfig, parse_datetime, require

SYSTEM = "sms-gateway"

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_SENDER_REFERENCE = re.compile(r"^[A-Za-z0-9._:/-]{1,100}$")
_OUTBOX_FIELDS = (
    "sequence",
    "message_id",
    "recipient",
    "sender_name",
    "sender_reference",
    "text",
    "encoding",
    "segments",
    "status",
    "created_at",
)


@dataclass(frozen=True)
class SentMessage:
    message_id: str
    encoding: str  # GSM-7 or UCS-2
    segments: int
    replayed: bool  # True when the gateway answered a retry of an earlier send


@dataclass(frozen=True)
class OutboxMessage:
    sequence: int
    message_id: str
    recipient: str
    sender_name: str
    sender_reference: str
    text: str
    encoding: str
    segments: int
    status: str
    created_at: dt.datetime

    def __repr__(self) -> str:
        # Keep phone numbers and texts out of test reports and logs.
        return f"OutboxMessage(sequence={self.sequence}, message_id={self.message_id!r})"


@dataclass(frozen=True)
class Outbox:
    messages: tuple[OutboxMessage, ...]
    last_sequence: int


class SmsGatewayClient(ServiceClient):
    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, session: aiohttp.ClientSession | None = None
    ) -> "SmsGatewayClient":
        """SMS_GATEWAY_URL (default: the local sandbox), SMS_GATEWAY_TOKEN."""
        return cls(ServiceConfig.from_env(SYSTEM, "SMS_GATEWAY", "/sms-gateway/v1", env), session)

    async def send(
        self,
        recipient: str,
        text: str,
        *,
        sender_reference: str,
        idempotency_key: str,
        sender_name: str | None = None,
    ) -> SentMessage:
        """Send one message. `idempotency_key` identifies the message: reuse it
        on every retry of the same message, so the citizen gets it once.
        `sender_reference` is logged by the gateway: no personal data in it."""
        if not _E164.match(recipient):
            raise ValueError("recipient must be an E.164 number")
        if not _SENDER_REFERENCE.match(sender_reference):
            raise ValueError("sender_reference must be 1-100 characters of A-Z a-z 0-9 . _ : / -")
        body = {"recipient": recipient, "text": text, "sender_reference": sender_reference}
        if sender_name is not None:
            body["sender_name"] = sender_name
        response = await self.request(
            "POST",
            "/messages",
            operation="sendMessage",
            json_body=body,
            safe_to_retry=False,
            idempotency_key=idempotency_key,
            expected=(202,),
        )
        accepted = require(response.body, ["message_id", "encoding", "segments"], system=SYSTEM)
        return SentMessage(
            message_id=str(accepted["message_id"]),
            encoding=str(accepted["encoding"]),
            segments=int(accepted["segments"]),
            replayed=response.headers.get("Idempotent-Replayed", "").lower() == "true",
        )

    async def read_outbox(self, *, after: int = 0, limit: int = 100, sender_reference: str | None = None) -> Outbox:
        """Sandbox only: messages with a sequence above `after`, oldest first."""
        params = {"after": str(after), "limit": str(limit)}
        if sender_reference:
            params["sender_reference"] = sender_reference
        response = await self.request("GET", "/outbox", operation="readOutbox", params=params, safe_to_retry=True)
        body = require(response.body, ["messages", "last_sequence"], system=SYSTEM)
        messages = []
        for item in body["messages"]:
            item = require(item, _OUTBOX_FIELDS, system=SYSTEM)
            messages.append(
                OutboxMessage(
                    sequence=int(item["sequence"]),
                    message_id=str(item["message_id"]),
                    recipient=str(item["recipient"]),
                    sender_name=str(item["sender_name"]),
                    sender_reference=str(item["sender_reference"]),
                    text=str(item["text"]),
                    encoding=str(item["encoding"]),
                    segments=int(item["segments"]),
                    status=str(item["status"]),
                    created_at=parse_datetime(item["created_at"], system=SYSTEM),
                )
            )
        return Outbox(messages=tuple(messages), last_sequence=int(body["last_sequence"]))

    async def clear_outbox(self) -> None:
        """Sandbox only: empty the outbox."""
        await self.request("DELETE", "/outbox", operation="clearOutbox", safe_to_retry=True, expected=(204,))
