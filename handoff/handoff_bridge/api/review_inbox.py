"""Review inbox API for editors: the period's poorly answered questions grouped
by meaning, and the actions on a group (attach to an answer, start a new
answer, dismiss). Request bodies are pydantic models, validated here."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from sanic import Blueprint, Request, json

from ..db.models import INBOX_STATUSES, INT32_MAX
from ..errors import Invalid
from ..services import review_inbox as inbox_svc
from .common import deps, int_arg, require_editor
from .models import AnswerId, Body, Language, parse_body

bp = Blueprint("review_inbox", url_prefix="/api/v1/editor/inbox")

ItemId = Annotated[int, Field(ge=1, le=INT32_MAX)]
Category = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]{1,79}$")]


class _Group(Body):
    """The group as the editor saw it: its item ids (and its id from the listing)."""

    item_ids: list[ItemId] = Field(min_length=1, max_length=inbox_svc.MAX_ACTION_ITEMS)
    language: Language
    group: Annotated[str, StringConstraints(pattern=r"^g[0-9a-f]{31}$")] | None = None


class AttachBody(_Group):
    answer_id: AnswerId


class NewAnswerBody(_Group):
    # An existing category, or none yet (the editor chooses it before publishing).
    category: Category | None = None


class DismissBody(_Group):
    reason: Literal[inbox_svc.DISMISS_REASONS]  # type: ignore[valid-type]
    note: Annotated[str, StringConstraints(max_length=inbox_svc.MAX_NOTE_CHARS)] | None = None


def _languages(request: Request) -> tuple[str, ...]:
    language = request.args.get("language")
    if language in (None, ""):
        return ("da", "sv")
    if language not in ("da", "sv"):
        raise Invalid("invalid_query", "language must be da or sv")
    return (language,)


@bp.get("/", ctx_auth="editor", strict_slashes=False)
async def groups(request: Request):
    await require_editor(request)
    status = request.args.get("status") or inbox_svc.INBOX_OPEN
    if status not in (*INBOX_STATUSES, "all"):
        raise Invalid("invalid_query", "status must be one of " + ", ".join((*INBOX_STATUSES, "all")))
    period = inbox_svc.period_from_args({k: request.args.get(k) for k in ("from", "to", "tz")})
    limit = int_arg(request, "limit", 100, 1, inbox_svc.MAX_GROUPS)
    return json(await inbox_svc.groups(deps(request), period, languages=_languages(request), status=status,
                                       limit=limit))


@bp.get("/answers", ctx_auth="editor")
async def answers(request: Request):
    """The answers a group can be attached to (the answer picker)."""
    await require_editor(request)
    return json({"answers": await inbox_svc.answer_choices(deps(request), _languages(request))})


@bp.get("/actions", ctx_auth="editor")
async def actions(request: Request):
    await require_editor(request)
    return json({"actions": await inbox_svc.history(deps(request), int_arg(request, "limit", 50, 1, 500))})


async def _act(request: Request, action: str, body: _Group, **extra):
    agent = await require_editor(request)
    result = await inbox_svc.act(deps(request), agent, action, item_ids=body.item_ids, language=body.language,
                                 group=body.group, **extra)
    return json(result)


@bp.post("/attach", ctx_auth="editor")
async def attach(request: Request):
    body = parse_body(request, AttachBody)
    return await _act(request, "attach", body, answer_id=body.answer_id)


@bp.post("/new-answer", ctx_auth="editor")
async def new_answer(request: Request):
    body = parse_body(request, NewAnswerBody)
    return await _act(request, "new_answer", body, category=body.category)


@bp.post("/dismiss", ctx_auth="editor")
async def dismiss(request: Request):
    body = parse_body(request, DismissBody)
    return await _act(request, "dismiss", body, reason=body.reason, note=body.note)
