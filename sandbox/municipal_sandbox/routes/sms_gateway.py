"""SMS gateway: accept messages; the outbox is readable in the sandbox only."""

from __future__ import annotations

import re

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json
from sqlalchemy import delete, func, select

from ..db import isoformat_utc
from ..models import SmsMessage
from ..problems import invalid_request
from ..services import SENDER_NAME, send_sms_idempotently
from .common import idempotency_key, json_object, protect, reject_unknown_fields

SYSTEM = "sms-gateway"
MAX_TEXT_LENGTH = 918  # six concatenated GSM-7 segments

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_SENDER_NAME = re.compile(r"^[A-Za-z0-9 ]{1,11}$")
_SENDER_REFERENCE = re.compile(r"^[A-Za-z0-9._:/-]{1,100}$")


def serialize_message(message: SmsMessage) -> dict:
    return {
        "sequence": message.sequence,
        "message_id": message.message_id,
        "recipient": message.recipient,
        "sender_name": message.sender_name,
        "sender_reference": message.sender_reference,
        "text": message.text,
        "encoding": message.encoding,
        "segments": message.segments,
        "status": message.status,
        "created_at": isoformat_utc(message.created_at),
    }


def _int_query(request: Request, name: str, default: int, minimum: int, maximum: int) -> int:
    # Keep blank values: "?after=" is an error, not the default.
    raw = request.get_args(keep_blank_values=True).get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_request(f"{name} must be an integer.") from None
    if not minimum <= value <= maximum:
        raise invalid_request(f"{name} must be between {minimum} and {maximum}.")
    return value


def create_blueprint() -> Blueprint:
    bp = Blueprint("sms_gateway", url_prefix="/sms-gateway/v1")
    protect(bp, SYSTEM)

    @bp.post("/messages")
    async def send_message(request: Request) -> HTTPResponse:
        key = idempotency_key(request)
        body = json_object(request)
        reject_unknown_fields(body, {"recipient", "text", "sender_name", "sender_reference"})
        recipient = body.get("recipient")
        text = body.get("text")
        sender_name = body.get("sender_name", SENDER_NAME)
        sender_reference = body.get("sender_reference")
        if not isinstance(recipient, str) or not _E164.match(recipient):
            raise invalid_request("recipient must be an E.164 number such as +4512345678.")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_LENGTH:
            raise invalid_request(f"text must be 1 to {MAX_TEXT_LENGTH} characters.")
        if not isinstance(sender_name, str) or not _SENDER_NAME.match(sender_name):
            raise invalid_request("sender_name must be 1 to 11 letters, digits or spaces.")
        if not isinstance(sender_reference, str) or not _SENDER_REFERENCE.match(sender_reference):
            raise invalid_request("sender_reference must be 1 to 100 characters of A-Z a-z 0-9 . _ : / -")

        accepted = await send_sms_idempotently(
            request.app.ctx.sessionmaker,
            request.app.ctx.settings.fingerprint_secret,
            idempotency_key=key,
            recipient=recipient,
            text=text,
            sender_name=sender_name,
            sender_reference=sender_reference,
        )
        message = accepted.message
        return json(
            {
                "message_id": message.message_id,
                "status": "accepted",
                "encoding": message.encoding,
                "segments": message.segments,
            },
            status=202,
            headers={"Idempotent-Replayed": "true"} if accepted.replayed else None,
        )

    @bp.get("/outbox")
    async def read_outbox(request: Request) -> HTTPResponse:
        after = _int_query(request, "after", 0, 0, 2**63 - 1)
        limit = _int_query(request, "limit", 100, 1, 1000)
        sender_reference = request.args.get("sender_reference")
        query = select(SmsMessage).where(SmsMessage.sequence > after)
        if sender_reference:
            query = query.where(SmsMessage.sender_reference == sender_reference)
        async with request.app.ctx.sessionmaker() as session:
            messages = list((await session.execute(query.order_by(SmsMessage.sequence).limit(limit))).scalars())
            last_sequence = await session.scalar(select(func.max(SmsMessage.sequence)))
        return json({"messages": [serialize_message(m) for m in messages], "last_sequence": last_sequence or 0})

    @bp.delete("/outbox")
    async def clear_outbox(request: Request) -> HTTPResponse:
        async with request.app.ctx.sessionmaker() as session, session.begin():
            await session.execute(delete(SmsMessage))
        return empty()

    return bp
