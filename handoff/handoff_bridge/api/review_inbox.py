"""Review inbox API for editors: the period's poorly answered questions grouped
by meaning, and the actions on a group (attach to an answer, start a new
answer, dismiss). Request bodies are pydantic models, validated here."""

from __future__ import annotations

from sanic import Blueprint, Request, json

from ..services import review_inbox as inbox_svc
from .common import deps, require_editor
from .contract import Reply, operation
from .models import (
    ActionsQuery,
    AnswersQuery,
    AttachBody,
    DismissBody,
    GroupsQuery,
    InboxNewAnswerBody,
    parse_body,
    parse_query,
)
from .responses import ActionsResponse, AnswersResponse, Draft, InboxActionResult, InboxGroups

bp = Blueprint("review_inbox", url_prefix="/api/v1/editor/inbox")


def _languages(language: str | None) -> tuple[str, ...]:
    return (language,) if language else ("da", "sv")


@bp.get("/", ctx_auth="editor", strict_slashes=False)
@operation(
    tags=['editor'],
    summary="The review inbox's questions of a period, grouped by meaning (editor)",
    description=(
        "Citizen messages the assistant did not answer well (masked texts only),\n"
        "per language grouped by meaning (multilingual-e5-small embeddings, a\n"
        "group joins questions at cosine similarity >= `threshold` to its\n"
        "centroid), largest groups first, with the trend against the previous\n"
        "period of the same length. Definitions in docs/review-inbox.md."
    ),
    security=('editorSession', 'agentBearer'),
    query=GroupsQuery,
    responses={
        200: Reply(InboxGroups, 'Groups'),
    },
    errors=(400, 401, 403),
)
async def groups(request: Request):
    await require_editor(request)
    query = parse_query(request, GroupsQuery)
    # The period's own rules (order, length, time zone) are the service's.
    period = inbox_svc.period_of(query.from_, query.to, query.tz)
    return json(await inbox_svc.groups(deps(request), period, languages=_languages(query.language),
                                       status=query.status, limit=query.limit))


@bp.get("/answers", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary='The answers a group can be attached to (editor)',
    security=('editorSession', 'agentBearer'),
    query=AnswersQuery,
    responses={
        200: Reply(AnswersResponse, 'Answers'),
    },
    errors=(400, 401, 403),
)
async def answers(request: Request):
    """The answers a group can be attached to (the answer picker)."""
    await require_editor(request)
    query = parse_query(request, AnswersQuery)
    return json({"answers": await inbox_svc.answer_choices(deps(request), _languages(query.language))})


@bp.get("/actions", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary='The latest actions on the inbox, newest first (editor)',
    security=('editorSession', 'agentBearer'),
    query=ActionsQuery,
    responses={
        200: Reply(ActionsResponse, 'Actions (no citizen text)'),
    },
    errors=(400, 401, 403),
)
async def actions(request: Request):
    await require_editor(request)
    return json({"actions": await inbox_svc.history(deps(request), parse_query(request, ActionsQuery).limit)})


async def _act(request: Request, action: str, body: _Group, **extra):
    agent = await require_editor(request)
    result = await inbox_svc.act(deps(request), agent, action, item_ids=body.item_ids, language=body.language,
                                 group=body.group, **extra)
    return json(result)


@bp.post("/attach", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary="Attach a group's open questions to an existing answer as example questions (editor)",
    security=('editorSession', 'agentBearer'),
    body=AttachBody,
    responses={
        200: Reply(InboxActionResult, 'Done'),
    },
    errors=(400, 401, 403, 404, 409, 422),
)
async def attach(request: Request):
    body = parse_body(request, AttachBody)
    return await _act(request, "attach", body, answer_id=body.answer_id)


@bp.post("/new-answer", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary="Start a new answer (a draft) from a group's open questions (editor)",
    security=('editorSession', 'agentBearer'),
    body=InboxNewAnswerBody,
    responses={
        200: Reply(InboxActionResult, 'Draft started'),
    },
    errors=(400, 401, 403, 404, 409, 422),
)
async def new_answer(request: Request):
    body = parse_body(request, InboxNewAnswerBody)
    return await _act(request, "new_answer", body, category=body.category)


@bp.post("/dismiss", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary="Dismiss a group's open questions with a reason (editor)",
    security=('editorSession', 'agentBearer'),
    body=DismissBody,
    responses={
        200: Reply(InboxActionResult, 'Dismissed'),
    },
    errors=(400, 401, 403, 409),
)
async def dismiss(request: Request):
    body = parse_body(request, DismissBody)
    return await _act(request, "dismiss", body, reason=body.reason, note=body.note)
