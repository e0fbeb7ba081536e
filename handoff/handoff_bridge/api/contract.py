"""What each route takes and answers, declared on the route itself.

    @bp.post("/conversations", ctx_auth="public")
    @operation(tags=["citizen"], summary="Start a conversation", body=CreateConversationBody,
               responses={201: Reply(CreateConversationResponse, "Created")}, errors=(400,))
    async def create_conversation(request): ...

`body`, `query` and `path` are pydantic models (api/models.py), the replies'
shapes are types pydantic can describe (api/responses.py). The OpenAPI
document is generated from these declarations and the route table
(handoff_bridge/openapi.py); `errors` lists the statuses answered with the
error body (errors.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The body of a reply that is a CSV file (text/csv) instead of JSON.
CSV = object()


@dataclass(frozen=True)
class Reply:
    # A pydantic model or type, None for a reply without a body, or CSV.
    shape: Any
    description: str
    # Also offered as CSV (the route's `format=csv`).
    csv: bool = False


@dataclass(frozen=True)
class Operation:
    summary: str
    responses: dict[int, Reply]
    tags: tuple[str, ...] = ()
    description: str | None = None
    # Alternative security schemes (components.securitySchemes), any one suffices.
    security: tuple[str, ...] | None = None
    path: type | None = None
    query: type | None = None
    body: type | None = None
    body_required: bool = True
    errors: tuple[int, ...] = field(default_factory=tuple)


def operation(*, summary: str, responses: dict[int, Reply], tags=(), description=None, security=None,
              path=None, query=None, body=None, body_required=True, errors=()):
    op = Operation(summary=summary, responses=responses, tags=tuple(tags), description=description,
                   security=tuple(security) if security is not None else None, path=path, query=query,
                   body=body, body_required=body_required, errors=tuple(errors))

    def mark(handler):
        handler.__operation__ = op
        return handler

    return mark


def operation_of(handler) -> Operation | None:
    # Websocket routes are registered as a partial of Sanic's websocket handler around ours.
    if hasattr(handler, "func") and getattr(handler, "args", None):
        handler = handler.args[0]
    return getattr(handler, "__operation__", None)
