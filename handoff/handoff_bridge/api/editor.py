"""Editor API: sign-in, the answer editor, the publish gate, history and rollback.

Every route but the login is for editors only (`ctx_auth="editor"`); editors
reach no chat, queue or supervisor route (access.py). Request bodies are
pydantic models, validated here at the edge: a bad body is a 400 naming the
field and what is wrong.
"""

from __future__ import annotations

import functools
from typing import Any

from sanic import Blueprint, Request, json
from sanic.response import empty

from ..errors import Invalid
from ..rate_limit import client_address
from ..services import accounts as accounts_svc
from ..services import answers as answers_svc
from ..services import publishing
from ..services.jobs import Jobs
from ..settings import REPO_DIR
from .common import EDITOR_SESSION_COOKIE, deps, require_editor, session_token
from .contract import Reply, operation
from .models import (
    AnswerIdPath,
    ExamplesBody,
    GateBody,
    JobIdPath,
    ListAnswersQuery,
    LoginBody,
    NewAnswerBody,
    PublicationsQuery,
    PublishBody,
    RollbackBody,
    SaveDraftBody,
    parse_body,
    parse_query,
)
from .responses import (
    Agent,
    CategoriesResponse,
    CheckResult,
    Draft,
    EditorLoginResponse,
    Error,
    GateResult,
    HistoryResponse,
    JobRunning,
    ListAnswersResponse,
    PublicationsResponse,
    PublishResult,
)

bp = Blueprint("editor", url_prefix="/api/v1/editor")
COOKIE_PATH = "/api/v1/editor"


@bp.post("/login", ctx_auth="public")
@operation(
    tags=['editor'],
    summary='Editors log in; sets the editor session cookie (agents and supervisors are refused with 403)',
    body=LoginBody,
    responses={
        200: Reply(EditorLoginResponse, 'Logged in'),
        429: Reply(Error, 'Locked after too many failed logins'),
    },
    errors=(400, 401, 403),
)
async def login(request: Request):
    body = parse_body(request, LoginBody)
    d = deps(request)
    token, agent = await accounts_svc.login(d, body.login, body.password, client_address(request),
                                         roles=accounts_svc.EDITOR_ROLES)
    resp = json({"editor": agent, "token": token})
    resp.add_cookie(EDITOR_SESSION_COOKIE, token, httponly=True, secure=d.settings.cookie_secure,
                    samesite="Strict", max_age=d.settings.session_ttl_seconds, path=COOKIE_PATH)
    return resp


@bp.post("/logout", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary='End the editor session',
    security=('editorSession', 'agentBearer'),
    responses={
        204: Reply(None, 'Done, nothing to return'),
    },
    errors=(401, 403),
)
async def logout(request: Request):
    token = session_token(request) or request.cookies.get(EDITOR_SESSION_COOKIE)
    if token:
        await accounts_svc.logout(deps(request), token)
    resp = empty()
    resp.delete_cookie(EDITOR_SESSION_COOKIE, path=COOKIE_PATH)
    return resp


@bp.get("/me", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary='The logged-in editor',
    security=('editorSession', 'agentBearer'),
    responses={
        200: Reply(Agent, 'The editor'),
    },
    errors=(401, 403),
)
async def me(request: Request):
    return json(accounts_svc.agent_to_dict(await require_editor(request)))


@bp.get("/answers", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary='Every answer of the content store (for the answer list and pickers)',
    security=('editorSession', 'agentBearer'),
    query=ListAnswersQuery,
    responses={
        200: Reply(ListAnswersResponse, 'The answers in file order'),
    },
    errors=(400, 401, 403),
)
async def list_answers(request: Request):
    """Summaries of every answer (id, category, titles, status), optionally of one language
    and matching a search text (id, category or title)."""
    await require_editor(request)
    args = parse_query(request, ListAnswersQuery)
    query = args.q
    async with deps(request).sessionmaker() as session:
        answers = await answers_svc.list_answers(session, language=args.language)
    if query:
        answers = [a for a in answers if query in a["id"] or query in (a["category"] or "")
                   or any(query in t.casefold() for t in a["titles"].values())]
    return json({"answers": answers})


@bp.get("/categories", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary='The categories (one file each) and the municipalities variants may name',
    security=('editorSession', 'agentBearer'),
    responses={
        200: Reply(CategoriesResponse, 'Categories and municipalities'),
    },
    errors=(401, 403),
)
async def categories(request: Request):
    await require_editor(request)
    async with deps(request).sessionmaker() as session:
        return json({"categories": await answers_svc.list_categories(session),
                     "municipalities": await answers_svc.municipalities(session)})


@bp.get("/answers/<answer_id:str>", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary='One answer - its published document, its draft, and how many regression questions it has',
    security=('editorSession', 'agentBearer'),
    path=AnswerIdPath,
    responses={
        200: Reply(dict[str, Any], 'The answer'),
    },
    errors=(400, 401, 403, 404),
)
async def answer(request: Request, answer_id: str):
    await require_editor(request)
    async with deps(request).sessionmaker() as session:
        return json(await answers_svc.answer_detail(session, answer_id))


@bp.post("/answers", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary='A new answer (a draft) with the id the editor chose',
    security=('editorSession', 'agentBearer'),
    body=NewAnswerBody,
    responses={
        201: Reply(Draft, 'The new draft'),
    },
    errors=(400, 401, 403, 409),
)
async def new_answer(request: Request):
    editor = await require_editor(request)
    body = parse_body(request, NewAnswerBody)
    async with deps(request).sessionmaker() as session:
        async with session.begin():
            result = await answers_svc.new_answer(session, answer_id=body.id, document=body.document.model_dump(),
                                                  editor=editor)
    return json(result, status=201)


@bp.put("/answers/<answer_id:str>/draft", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary='Save the draft (refused with 409 draft_changed when someone saved after draft_version)',
    security=('editorSession', 'agentBearer'),
    path=AnswerIdPath,
    body=SaveDraftBody,
    responses={
        200: Reply(Draft, 'The saved draft'),
    },
    errors=(400, 401, 403, 404, 409),
)
async def save_draft(request: Request, answer_id: str):
    editor = await require_editor(request)
    body = parse_body(request, SaveDraftBody)
    async with deps(request).sessionmaker() as session:
        async with session.begin():
            result = await answers_svc.save_draft(session, answer_id=answer_id, document=body.document.model_dump(),
                                                  draft_version=body.draft_version, editor=editor)
    return json(result)


@bp.delete("/answers/<answer_id:str>/draft", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary='Discard the draft (an answer never published goes with it)',
    security=('editorSession', 'agentBearer'),
    path=AnswerIdPath,
    responses={
        204: Reply(None, 'Done, nothing to return'),
    },
    errors=(400, 401, 403, 404, 409),
)
async def discard_draft(request: Request, answer_id: str):
    editor = await require_editor(request)
    async with deps(request).sessionmaker() as session:
        async with session.begin():
            await answers_svc.discard_draft(session, answer_id=answer_id, editor=editor)
    return empty()


@bp.post("/answers/<answer_id:str>/examples", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary="Add questions as example questions (up to the schema's five) and to the answer's regression set",
    security=('editorSession', 'agentBearer'),
    path=AnswerIdPath,
    body=ExamplesBody,
    responses={
        200: Reply(Draft, 'The draft with the questions'),
    },
    errors=(400, 401, 403, 404),
)
async def add_examples(request: Request, answer_id: str):
    editor = await require_editor(request)
    body = parse_body(request, ExamplesBody)
    async with deps(request).sessionmaker() as session:
        async with session.begin():
            result = await answers_svc.add_example_questions(session, answer_id=answer_id, language=body.language,
                                                             questions=body.questions, editor=editor, source="editor")
    return json(result)


@bp.post("/answers/<answer_id:str>/check", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary="Validate the base with this draft in it (the knowledge engine's schema)",
    security=('editorSession', 'agentBearer'),
    path=AnswerIdPath,
    responses={
        202: Reply(JobRunning, 'Still running (the engine takes longer than a request may): poll /api/v1/editor/jobs/{job_id}'),
        200: Reply(CheckResult, 'ok and the problems'),
    },
    errors=(400, 401, 403, 404, 409, 503),
)
async def check(request: Request, answer_id: str):
    """The knowledge engine's verdict on the saved draft within the whole base (no gate)."""
    editor = await require_editor(request)
    return await _job(request, editor, publishing.check_draft(deps(request), answer_id))


@bp.get("/answers/<answer_id:str>/history", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary="Every published revision (newest first) with what it changed, and the draft's changes",
    security=('editorSession', 'agentBearer'),
    path=AnswerIdPath,
    responses={
        200: Reply(HistoryResponse, 'The history'),
    },
    errors=(400, 401, 403, 404),
)
async def history(request: Request, answer_id: str):
    await require_editor(request)
    async with deps(request).sessionmaker() as session:
        return json(await answers_svc.history(session, answer_id))


@bp.post("/answers/<answer_id:str>/rollback", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary='Restore an earlier revision; published as a new revision through the same gate',
    security=('editorSession', 'agentBearer'),
    path=AnswerIdPath,
    body=RollbackBody,
    responses={
        202: Reply(JobRunning, 'Still running (the engine takes longer than a request may): poll /api/v1/editor/jobs/{job_id}'),
        200: Reply(PublishResult, 'Published'),
        409: Reply(Error, 'gate_blocked (error.gate lists the regressions), nothing_to_restore, draft_pending or publish_busy'),
        422: Reply(Error, 'invalid_content: error.problems'),
    },
    errors=(400, 401, 403, 404, 503),
)
async def rollback(request: Request, answer_id: str):
    editor = await require_editor(request)
    body = parse_body(request, RollbackBody)
    return await _job(request, editor, publishing.rollback(deps(request), editor, answer_id, body.revision_id, body.accept))


@bp.post("/gate", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary="The publish gate's result for these drafts, without publishing",
    security=('editorSession', 'agentBearer'),
    body=GateBody,
    responses={
        202: Reply(JobRunning, 'Still running (the engine takes longer than a request may): poll /api/v1/editor/jobs/{job_id}'),
        200: Reply(GateResult, 'The gate'),
        422: Reply(Error, 'invalid_content: error.problems'),
    },
    errors=(400, 401, 403, 404, 409, 503),
)
async def gate(request: Request):
    """The publish gate's result for these drafts, without publishing."""
    editor = await require_editor(request)
    body = parse_body(request, GateBody)
    return await _job(request, editor, publishing.evaluate(deps(request), body.answer_ids))


@bp.post("/publish", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary='Publish drafts through the gate; live for the assistant within its check interval (10 s)',
    security=('editorSession', 'agentBearer'),
    body=PublishBody,
    responses={
        202: Reply(JobRunning, 'Still running (the engine takes longer than a request may): poll /api/v1/editor/jobs/{job_id}'),
        200: Reply(PublishResult, 'Published'),
        409: Reply(Error, 'gate_blocked (error.gate lists the regressions), no_draft or publish_busy (another publish is running)'),
        422: Reply(Error, 'invalid_content: error.problems'),
    },
    errors=(400, 401, 403, 404, 503),
)
async def publish(request: Request):
    editor = await require_editor(request)
    body = parse_body(request, PublishBody)
    return await _job(request, editor, publishing.publish_answers(deps(request), editor, body.answer_ids, body.accept))


async def _job(request: Request, editor, coro):
    status, body = await _jobs(request).run(request.app, coro, editor.id)
    return json(body, status=status)


def _jobs(request: Request) -> Jobs:
    if not hasattr(request.app.ctx, "editor_jobs"):
        request.app.ctx.editor_jobs = Jobs()
    return request.app.ctx.editor_jobs


@bp.get("/jobs/<job_id:str>", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary=(
        "A check, gate, publish or rollback that outlasted its request - still running (202), or "
        "its answer as that request would have given it"
    ),
    security=('editorSession', 'agentBearer'),
    path=JobIdPath,
    responses={
        200: Reply(dict[str, Any], "The job's answer (as the original request's 200)"),
        202: Reply(JobRunning, 'Still running'),
    },
    errors=(400, 401, 403, 404, 409, 422, 503),
)
async def job(request: Request, job_id: str):
    """A check, gate or publish that took longer than a request: running (202), or its answer."""
    editor = await require_editor(request)
    if len(job_id) > 64:
        raise Invalid("invalid_job_id", "no such job")
    status, body = _jobs(request).outcome(job_id, editor.id)
    return json(body, status=status)


@bp.get("/publications", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary='The newest publications (imports, publishes, rollbacks)',
    security=('editorSession', 'agentBearer'),
    query=PublicationsQuery,
    responses={
        200: Reply(PublicationsResponse, 'Publications'),
    },
    errors=(400, 401, 403),
)
async def publications(request: Request):
    await require_editor(request)
    limit = parse_query(request, PublicationsQuery).limit
    async with deps(request).sessionmaker() as session:
        return json({"publications": await answers_svc.publications(session, limit)})


@bp.get("/preview-texts", ctx_auth="editor")
@operation(
    tags=['editor'],
    summary=(
        'What the assistant adds around an answer (read-more line, intent button labels, "did it '
        'help?"), from the assistant\'s content files, for the preview'
    ),
    security=('editorSession', 'agentBearer'),
    responses={
        200: Reply(dict[str, Any], 'Per language'),
    },
    errors=(401, 403),
)
async def preview_texts(request: Request):
    """What the assistant adds around an answer (the "read more" line of a municipal
    answer, the labels of buttons to intents, the "did it help?" question), from the
    assistant's own content files, so the preview shows what citizens see."""
    await require_editor(request)
    return json(_preview_texts())


@functools.lru_cache(maxsize=1)
def _preview_texts() -> dict:
    import yaml

    content = yaml.safe_load((REPO_DIR / "actions" / "content.yml").read_text(encoding="utf-8"))
    domain = yaml.safe_load((REPO_DIR / "domain.yml").read_text(encoding="utf-8"))
    helpful = {}
    for variant in domain["responses"]["utter_ask_helpful"]:
        conditions = variant.get("condition") or []
        language = next((c.get("value") for c in conditions if c.get("name") == "language"), "da")
        helpful.setdefault(language, {"text": variant.get("text", ""), "buttons": variant.get("buttons") or []})
    labels = content.get("topic_labels") or {}
    read_more = content["messages"]["knowledge_read_more"]
    out = {}
    for language in ("da", "sv"):
        out[language] = {
            "read_more": (read_more.get(language) or read_more["da"])["text"],
            "helpful": helpful.get(language) or helpful.get("da"),
            "topic_labels": {k: v for k, v in (labels.get(language) or {}).items()
                             if k in ("request_human", "payout_inquiry", "case_status_inquiry")},
        }
    return out
