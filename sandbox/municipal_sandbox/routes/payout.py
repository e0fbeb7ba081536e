"""Payout system: a person's next payout, and the same sent by SMS."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Payout, Person
from ..services import NotificationRequest, find_person, next_payout
from ..texts import payout_text
from .common import (
    custom_method,
    idempotency_key,
    json_object,
    optional_language,
    person_from,
    protect,
    reject_unknown_fields,
)

SYSTEM = "payout-system"


def serialize_payout(payout: Payout) -> dict:
    return {
        "benefit_type": payout.benefit_type,
        "payout_date": payout.payout_date.isoformat(),
        "amount_minor": payout.amount_minor,
        "currency": payout.currency,
    }


def create_blueprint() -> Blueprint:
    bp = Blueprint("payout_system", url_prefix="/payout-system/v1")
    protect(bp, SYSTEM)

    @bp.post(custom_method("next-payout", "lookup"))
    async def lookup_next_payout(request: Request, custom_method: str) -> HTTPResponse:
        body = json_object(request)
        reject_unknown_fields(body, {"country", "national_id"})
        country, national_id = person_from(body)
        today = request.app.ctx.settings.current_date()
        async with request.app.ctx.sessionmaker() as session:
            person = await find_person(session, country, national_id)
            payout = await next_payout(session, person.person_ref, today) if person else None
        return json({"next_payout": serialize_payout(payout) if payout else None})

    @bp.post("/payout-notifications")
    async def request_payout_notification(request: Request) -> HTTPResponse:
        key = idempotency_key(request)
        body = json_object(request)
        reject_unknown_fields(body, {"country", "national_id", "language"})
        country, national_id = person_from(body)
        language = optional_language(body, country)
        today = request.app.ctx.settings.current_date()

        async def compose(session: AsyncSession, person: Person) -> str:
            return payout_text(await next_payout(session, person.person_ref, today), language)

        notification_id = await request.app.ctx.notifier.request(
            NotificationRequest(SYSTEM, key, country, national_id, language, {}), compose
        )
        return json({"notification_id": notification_id, "status": "accepted"}, status=202)

    return bp
