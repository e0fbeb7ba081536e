"""Service-to-service endpoints (the Rasa action server)."""

from __future__ import annotations

from sanic import Blueprint, Request, json

from ..errors import ApiError
from ..services import queue as queue_svc
from .common import deps, json_body, require_service

bp = Blueprint("service", url_prefix="/api/v1/service")


@bp.post("/handoffs", ctx_auth="service")
async def create_handoff(request: Request):
    """Contract 2: the bot escalates a conversation to a person."""
    require_service(request)
    body = json_body(request)
    conversation_id = body.get("conversation_id")
    if not isinstance(conversation_id, str) or not 1 <= len(conversation_id) <= 64:
        raise ApiError("invalid_conversation_id", "conversation_id is required", 422)
    summary = body.get("summary")
    if summary is not None and not isinstance(summary, str):
        raise ApiError("invalid_summary", "summary must be a string", 422)
    if isinstance(summary, str) and len(summary) > deps(request).settings.max_summary_chars:
        raise ApiError("summary_too_long", f"summary is longer than {deps(request).settings.max_summary_chars} characters", 422)
    language = body.get("language")
    if language is not None and language not in ("da", "sv"):
        raise ApiError("invalid_language", "language must be 'da' or 'sv'", 422)
    topic = body.get("topic")
    if topic is not None and (not isinstance(topic, str) or len(topic) > 128):
        raise ApiError("invalid_topic", "topic must be a string of at most 128 characters", 422)
    confidence = body.get("confidence")
    if confidence is not None and (isinstance(confidence, bool) or not isinstance(confidence, (int, float))
                                   or not 0 <= confidence <= 1):
        raise ApiError("invalid_confidence", "confidence must be a number from 0 to 1", 422)
    result = await queue_svc.escalate(
        deps(request),
        conversation_id,
        body.get("reason"),
        summary=summary,
        topic=topic,
        confidence=float(confidence) if confidence is not None else None,
        language=language,
        pause_bot=False,
    )
    return json(result, status=200)
