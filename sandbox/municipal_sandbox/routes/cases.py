"""Case system: a person's cases, and their status sent by SMS."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import isoformat_utc
from ..models import Case, Person
from ..services import NotificationRequest, cases_of, find_person
from ..texts import case_status_text
from .common import (
    custom_method,
    idempotency_key,
    json_object,
    optional_kinds,
    optional_language,
    person_from,
    protect,
    reject_unknown_fields,
)

SYSTEM = "case-system"


def serialize_case(case: Case) -> dict:
    return {
        "case_id": case.case_id,
        "kind": case.kind,
        "title": case.title,
        "status": case.status,
        "received_date": case.received_date.isoformat(),
        "expected_decision_date": (case.expected_decision_date.isoformat() if case.expected_decision_date else None),
        "decision_date": case.decision_date.isoformat() if case.decision_date else None,
        "last_updated_at": isoformat_utc(case.last_updated_at),
    }


def create_blueprint() -> Blueprint:
    bp = Blueprint("case_system", url_prefix="/case-system/v1")
    protect(bp, SYSTEM)

    @bp.post(custom_method("cases", "lookup"))
    async def lookup_cases(request: Request, custom_method: str) -> HTTPResponse:
        body = json_object(request)
        reject_unknown_fields(body, {"country", "national_id", "kinds"})
        country, national_id = person_from(body)
        kinds = optional_kinds(body)
        async with request.app.ctx.sessionmaker() as session:
            person = await find_person(session, country, national_id)
            cases = await cases_of(session, person.person_ref, kinds) if person else []
        return json({"cases": [serialize_case(case) for case in cases]})

    @bp.post("/case-status-notifications")
    async def request_case_status_notification(request: Request) -> HTTPResponse:
        key = idempotency_key(request)
        body = json_object(request)
        reject_unknown_fields(body, {"country", "national_id", "language", "kinds"})
        country, national_id = person_from(body)
        language = optional_language(body, country)
        kinds = optional_kinds(body)

        async def compose(session: AsyncSession, person: Person) -> str:
            return case_status_text(await cases_of(session, person.person_ref, kinds), language)

        notification_id = await request.app.ctx.notifier.request(
            NotificationRequest(SYSTEM, key, country, national_id, language, {"kinds": kinds}), compose
        )
        return json({"notification_id": notification_id, "status": "accepted"}, status=202)

    return bp
