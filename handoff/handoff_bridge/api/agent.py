"""Agent API: session login, chats, queue, callbacks, canned responses; websocket."""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
import logging

from sanic import Blueprint, Request, json, text
from sanic.response import empty

from ..access import same_origin_websocket
from ..errors import ApiError, Invalid
from ..events import AGENTS_CHANNEL, agent_channel, conv_channel
from ..rate_limit import client_address
from ..services import accounts as accounts_svc
from ..services import audit as audit_svc
from ..services import callbacks as callbacks_svc
from ..services import canned as canned_svc
from ..services import chat_work as chat_svc
from ..services import queue as queue_svc
from ..services import stats as stats_svc
from ..services.messages import last_seqs, message_to_dict, messages_after
from .common import (
    SESSION_COOKIE,
    InvalidHello,
    current_agent,
    deps,
    json_frames,
    parse_frame,
    refuse_hello,
    require_supervisor,
    session_token,
    tracked_websocket,
)
from .contract import Reply, operation
from .models import (
    AgentHello,
    AgentIdPath,
    AgentChangeBody,
    AgentLoginBody,
    AgentMessageFrame,
    AuditExportQuery,
    CallbackIdPath,
    CallbacksQuery,
    CannedChangeBody,
    CannedIdPath,
    CannedQuery,
    ClaimNextBody,
    CloseBody,
    CompleteCallbackBody,
    ConversationIdPath,
    EscalationIdPath,
    NewAgentBody,
    NewCannedBody,
    ReplyBody,
    SetStatusBody,
    StatsSummaryQuery,
    TranscriptQuery,
    TransferBody,
    parse_body,
    parse_query,
    validate,
)
from .responses import (
    Agent,
    AgentLoginResponse,
    AgentMessage,
    AuditExportResponse,
    Callback,
    CallbacksResponse,
    Canned,
    Claim,
    Error,
    LiveStats,
    SummaryStats,
    TranscriptResponse,
)

log = logging.getLogger("handoff.agent")

bp = Blueprint("agent", url_prefix="/api/v1/agent")

HEARTBEAT_SECONDS = 20.0
HELLO_TIMEOUT = 10.0
# Messages replayed per chat on resume; beyond this the console reloads the chat.
REPLAY_LIMIT = 200
# How often a socket compares its held chats with the database (events lost before Redis).
CATCH_UP_SECONDS = 5.0


@bp.post("/login", ctx_auth="public")
@operation(
    tags=['agent'],
    summary='Log in; sets the session cookie',
    body=AgentLoginBody,
    responses={
        200: Reply(AgentLoginResponse, 'Logged in'),
        429: Reply(Error, 'Locked after too many failed logins (per login and per address); see Retry-After'),
    },
    errors=(400, 401, 403),
)
async def login(request: Request):
    body = parse_body(request, AgentLoginBody)
    d = deps(request)
    token, agent = await accounts_svc.login(d, body.login, body.password, client_address(request))
    resp = json({"agent": agent, "token": token})
    resp.add_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        secure=d.settings.cookie_secure,
        samesite="Strict",
        max_age=d.settings.session_ttl_seconds,
        path="/api/v1/agent",
    )
    return resp


@bp.post("/logout", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary='End the session',
    security=('agentSession', 'agentBearer'),
    responses={
        204: Reply(None, 'Done, nothing to return'),
    },
)
async def logout(request: Request):
    token = session_token(request)
    if token:
        await accounts_svc.logout(deps(request), token)
    resp = empty()
    resp.delete_cookie(SESSION_COOKIE, path="/api/v1/agent")
    return resp


@bp.get("/me", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary='The logged-in agent',
    security=('agentSession', 'agentBearer'),
    responses={
        200: Reply(Agent, 'Agent'),
    },
    errors=(401,),
)
async def me(request: Request):
    return json(accounts_svc.agent_to_dict(await current_agent(request)))


@bp.put("/me/status", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary='Set availability',
    security=('agentSession', 'agentBearer'),
    body=SetStatusBody,
    responses={
        200: Reply(Agent, 'Agent'),
    },
    errors=(400, 401),
)
async def set_status(request: Request):
    agent = await current_agent(request)
    body = parse_body(request, SetStatusBody)
    return json(await accounts_svc.set_status(deps(request), agent, body.status))


@bp.get("/queues", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary='The queues this agent serves, with waiting chats in FCFS order',
    security=('agentSession', 'agentBearer'),
    responses={
        200: Reply(None, 'Queues'),
    },
    errors=(401,),
)
async def queues(request: Request):
    agent = await current_agent(request)
    return json({"queues": await chat_svc.queue_overview(deps(request), agent)})


@bp.post("/queue/claim-next", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary='Claim the oldest waiting chat (optionally in one queue)',
    security=('agentSession', 'agentBearer'),
    body=ClaimNextBody,
    body_required=False,
    responses={
        200: Reply(Claim, 'Claimed'),
    },
    errors=(403, 404, 409),
)
async def claim_next(request: Request):
    agent = await current_agent(request)
    body = parse_body(request, ClaimNextBody, optional=True)
    result = await chat_svc.claim(deps(request), agent, queue_name=body.queue)
    await audit_svc.record(deps(request), result["conversation_id"], "claim", agent=agent)
    return json(result)


@bp.post("/escalations/<escalation_id:int>/claim", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary='Claim a specific waiting chat; exactly one of several racing agents wins',
    security=('agentSession', 'agentBearer'),
    path=EscalationIdPath,
    responses={
        200: Reply(Claim, 'Claimed'),
    },
    errors=(403, 404, 409),
)
async def claim(request: Request, escalation_id: int):
    agent = await current_agent(request)
    result = await chat_svc.claim(deps(request), agent, escalation_id=escalation_id)
    await audit_svc.record(deps(request), result["conversation_id"], "claim", agent=agent)
    return json(result)


@bp.get("/chats", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary="The agent's active chats",
    security=('agentSession', 'agentBearer'),
    responses={
        200: Reply(None, 'Chats'),
    },
    errors=(401,),
)
async def chats(request: Request):
    agent = await current_agent(request)
    return json({"chats": await chat_svc.my_chats(deps(request), agent)})


@bp.get("/conversations/<conversation_id:str>/transcript", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary='Whole transcript, bot turns with topic and confidence',
    security=('agentSession', 'agentBearer'),
    path=ConversationIdPath,
    query=TranscriptQuery,
    responses={
        200: Reply(TranscriptResponse, 'Transcript'),
    },
    errors=(403,),
)
async def transcript(request: Request, conversation_id: str):
    agent = await current_agent(request)
    query = parse_query(request, TranscriptQuery)
    return json(await chat_svc.transcript(deps(request), agent, conversation_id, query.after))


@bp.post("/conversations/<conversation_id:str>/messages", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary='Reply to the citizen',
    security=('agentSession', 'agentBearer'),
    path=ConversationIdPath,
    body=ReplyBody,
    responses={
        201: Reply(AgentMessage, 'Stored and relayed'),
    },
    errors=(400, 403),
)
async def reply(request: Request, conversation_id: str):
    agent = await current_agent(request)
    body = parse_body(request, ReplyBody)
    msg = await chat_svc.reply(deps(request), agent, conversation_id, body.text, body.client_msg_id)
    return json(msg, status=201)


@bp.post("/conversations/<conversation_id:str>/typing", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary='Agent is typing (shown to the citizen)',
    security=('agentSession', 'agentBearer'),
    path=ConversationIdPath,
    responses={
        204: Reply(None, 'Done, nothing to return'),
    },
    errors=(403,),
)
async def typing(request: Request, conversation_id: str):
    agent = await current_agent(request)
    await chat_svc.agent_typing(deps(request), agent, conversation_id)
    return empty()


@bp.post("/conversations/<conversation_id:str>/transfer", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary="Transfer to another queue (keeps the citizen's turn) or agent",
    security=('agentSession', 'agentBearer'),
    path=ConversationIdPath,
    body=TransferBody,
    responses={
        200: Reply(None, 'Transferred'),
    },
    errors=(400, 403, 404, 409),
)
async def transfer(request: Request, conversation_id: str):
    agent = await current_agent(request)
    body = parse_body(request, TransferBody)
    result = await chat_svc.transfer(deps(request), agent, conversation_id,
                                      queue_name=body.queue, agent_id=body.agent_id)
    await audit_svc.record(deps(request), conversation_id, "transfer", agent=agent,
                           detail={k: v for k, v in result.items() if k in ("queue", "agent_id")})
    return json(result)


@bp.post("/conversations/<conversation_id:str>/close", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary='Close with at least one tag; the citizen is asked for a 1-9 rating',
    security=('agentSession', 'agentBearer'),
    path=ConversationIdPath,
    body=CloseBody,
    responses={
        200: Reply(None, 'Closed'),
    },
    errors=(400, 403),
)
async def close(request: Request, conversation_id: str):
    agent = await current_agent(request)
    body = parse_body(request, CloseBody)
    result = await chat_svc.close(deps(request), agent, conversation_id, body.tags, body.note)
    await audit_svc.record(deps(request), conversation_id, "close", agent=agent)
    return json(result)


@bp.post("/conversations/<conversation_id:str>/handback", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary='Hand the conversation back to the bot (resumes Rasa)',
    security=('agentSession', 'agentBearer'),
    path=ConversationIdPath,
    responses={
        200: Reply(None, 'Back in bot mode'),
    },
    errors=(403, 409),
)
async def handback(request: Request, conversation_id: str):
    agent = await current_agent(request)
    result = await chat_svc.hand_back(deps(request), agent, conversation_id)
    await audit_svc.record(deps(request), conversation_id, "handback", agent=agent)
    return json(result)


@bp.get("/tags", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary='Closing-tag taxonomy',
    security=('agentSession', 'agentBearer'),
    responses={
        200: Reply(None, 'Tags'),
    },
)
async def tags(request: Request):
    await current_agent(request)
    return json({"tags": await chat_svc.list_tags(deps(request))})


@bp.get("/canned", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary='Canned responses',
    security=('agentSession', 'agentBearer'),
    query=CannedQuery,
    responses={
        200: Reply(None, 'Canned responses'),
    },
)
async def canned(request: Request):
    await current_agent(request)
    query = parse_query(request, CannedQuery)
    return json({"canned": await canned_svc.list_canned(deps(request), query.language)})


@bp.post("/canned", ctx_auth="supervisor")
@operation(
    tags=['agent'],
    summary='Create a canned response (supervisor)',
    security=('agentSession', 'agentBearer'),
    body=NewCannedBody,
    responses={
        201: Reply(Canned, 'Created'),
    },
    errors=(400, 403),
)
async def create_canned(request: Request):
    agent = await require_supervisor(request)
    body = parse_body(request, NewCannedBody)
    return json(await canned_svc.create_canned(deps(request), agent, body), status=201)


@bp.put("/canned/<canned_id:int>", ctx_auth="supervisor")
@operation(
    tags=['agent'],
    summary='Update a canned response (supervisor)',
    security=('agentSession', 'agentBearer'),
    path=CannedIdPath,
    body=CannedChangeBody,
    responses={
        200: Reply(None, 'Updated'),
    },
    errors=(403, 404),
)
async def update_canned(request: Request, canned_id: int):
    await require_supervisor(request)
    body = parse_body(request, CannedChangeBody)
    return json(await canned_svc.update_canned(deps(request), canned_id, body))


@bp.delete("/canned/<canned_id:int>", ctx_auth="supervisor")
@operation(
    tags=['agent'],
    summary='Delete a canned response (supervisor)',
    security=('agentSession', 'agentBearer'),
    path=CannedIdPath,
    responses={
        204: Reply(None, 'Done, nothing to return'),
    },
    errors=(403, 404),
)
async def delete_canned(request: Request, canned_id: int):
    await require_supervisor(request)
    await canned_svc.delete_canned(deps(request), canned_id)
    return empty()


@bp.get("/callbacks", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary="Callback requests in the agent's queues, oldest first",
    security=('agentSession', 'agentBearer'),
    query=CallbacksQuery,
    responses={
        200: Reply(CallbacksResponse, 'Callbacks'),
    },
)
async def callbacks(request: Request):
    agent = await current_agent(request)
    query = parse_query(request, CallbacksQuery)
    return json({"callbacks": await callbacks_svc.list_callbacks(deps(request), agent, query.status)})


@bp.post("/callbacks/<callback_id:int>/take", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary='Take an open callback (atomic)',
    security=('agentSession', 'agentBearer'),
    path=CallbackIdPath,
    responses={
        200: Reply(Callback, 'Taken'),
    },
    errors=(404, 409),
)
async def take_callback(request: Request, callback_id: int):
    agent = await current_agent(request)
    result = await callbacks_svc.take_callback(deps(request), agent, callback_id)
    await audit_svc.record(deps(request), result["conversation_id"], "callback_take", agent=agent,
                           detail={"callback_id": callback_id})
    return json(result)


@bp.post("/callbacks/<callback_id:int>/complete", ctx_auth="agent")
@operation(
    tags=['agent'],
    summary='Mark a taken callback done',
    security=('agentSession', 'agentBearer'),
    path=CallbackIdPath,
    body=CompleteCallbackBody,
    body_required=False,
    responses={
        200: Reply(None, 'Done'),
    },
    errors=(409,),
)
async def complete_callback(request: Request, callback_id: int):
    agent = await current_agent(request)
    body = parse_body(request, CompleteCallbackBody, optional=True)
    result = await callbacks_svc.complete_callback(deps(request), agent, callback_id, body.outcome)
    await audit_svc.record(deps(request), result["conversation_id"], "callback_complete", agent=agent,
                           detail={"callback_id": callback_id})
    return json(result)


@bp.get("/agents", ctx_auth="supervisor")
@operation(
    tags=['agent'],
    summary='List agents (supervisor)',
    security=('agentSession', 'agentBearer'),
    responses={
        200: Reply(None, 'Agents'),
    },
    errors=(403,),
)
async def list_agents(request: Request):
    await require_supervisor(request)
    return json({"agents": await accounts_svc.list_agents(deps(request))})


@bp.post("/agents", ctx_auth="supervisor")
@operation(
    tags=['agent'],
    summary='Create an agent (supervisor)',
    security=('agentSession', 'agentBearer'),
    body=NewAgentBody,
    responses={
        201: Reply(Agent, 'Created'),
    },
    errors=(400, 403, 409),
)
async def create_agent(request: Request):
    await require_supervisor(request)
    body = parse_body(request, NewAgentBody)
    return json(await accounts_svc.create_agent(deps(request), body), status=201)


@bp.patch("/agents/<agent_id:int>", ctx_auth="supervisor")
@operation(
    tags=['agent'],
    summary="Change an agent's role, capacity, skills, password or deactivate (supervisor)",
    security=('agentSession', 'agentBearer'),
    path=AgentIdPath,
    body=AgentChangeBody,
    responses={
        200: Reply(Agent, 'Updated'),
    },
    errors=(400, 403, 404),
)
async def update_agent(request: Request, agent_id: int):
    await require_supervisor(request)
    body = parse_body(request, AgentChangeBody)
    return json(await accounts_svc.update_agent(deps(request), agent_id, body))


@bp.get("/stats/live", ctx_auth="supervisor")
@operation(
    tags=['agent'],
    summary='Live queue lengths, longest waits and agents online and busy (supervisor)',
    security=('agentSession', 'agentBearer'),
    responses={
        200: Reply(LiveStats, 'Live figures'),
    },
    errors=(401, 403),
)
async def stats_live(request: Request):
    await require_supervisor(request)
    return json(await stats_svc.live(deps(request)))


@bp.get("/stats/summary", ctx_auth="supervisor")
@operation(
    tags=['agent'],
    summary=(
        "Conversations, bot-only share, escalations, waits, ratings and tags for today or the "
        "last 7 days (supervisor)"
    ),
    security=('agentSession', 'agentBearer'),
    query=StatsSummaryQuery,
    responses={
        200: Reply(SummaryStats, 'Summary'),
    },
    errors=(400, 401, 403),
)
async def stats_summary(request: Request):
    await require_supervisor(request)
    query = parse_query(request, StatsSummaryQuery)
    return json(await stats_svc.summary(deps(request), query.period, query.zone))


@bp.get("/audit/conversations/<conversation_id:str>", ctx_auth="supervisor")
@operation(
    tags=['agent'],
    summary='Audit log of one conversation (supervisor)',
    description=(
        "Every recorded access by agents and supervisors (preview, view, claim,\n"
        "transfer, close, handback, callback_take, callback_complete, export)\n"
        "and the deletion (by the citizen or retention), oldest first. No\n"
        "message content. The export is itself recorded."
    ),
    security=('agentSession', 'agentBearer'),
    path=ConversationIdPath,
    query=AuditExportQuery,
    responses={
        200: Reply(AuditExportResponse, 'Entries', csv=True),
    },
    errors=(400, 401, 403),
)
async def audit_export(request: Request, conversation_id: str):
    """Every recorded access to one conversation, as JSON or (format=csv) CSV.
    The export itself is recorded too."""
    agent = await current_agent(request)
    fmt = parse_query(request, AuditExportQuery).format
    if not 1 <= len(conversation_id) <= 64:
        raise Invalid("invalid_conversation_id", "conversation id must be 1-64 characters")
    d = deps(request)
    await audit_svc.record(d, conversation_id, "export", agent=agent, detail={"format": fmt})
    entries = await audit_svc.entries_for(d, conversation_id)
    if fmt == "csv":
        safe = conversation_id if conversation_id.isalnum() else "conversation"
        return text(audit_svc.to_csv(entries), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="audit-{safe}.csv"'})
    return json({"conversation_id": conversation_id, "entries": entries})


@bp.websocket("/ws", ctx_auth="websocket")
@operation(
    tags=['agent'],
    summary='Agent websocket with live updates',
    description=(
        "Authenticated by the session cookie, or a first frame\n"
        '`{"type":"hello","token":"<session token>"}`. Server frames:\n'
        "`hello` (agent and active chats), `chat_waiting`, `chat_claimed`,\n"
        "`queue_changed`, `chat_assigned`, `chat_released`, `message`,\n"
        "`message_masked` (an earlier citizen message stored again masked,\n"
        "because a later one completed a number: `conversation_id`, `seq`,\n"
        "`text`), `typing`, `status`, `citizen_timeout`, `callback_new`,\n"
        "`callback_taken`, `callback_done`, `agent_status`, `ack`, `error`,\n"
        "`pong`. Client frames: `typing` and `message` (with\n"
        "`conversation_id`), `ping`. Close codes: 4401 bad session, 4403\n"
        "cross-origin, 4429 too many connections, 4408 the socket fell behind\n"
        "(events were dropped): reconnect and reload queues, chats and\n"
        "transcripts."
    ),
    security=('agentSession',),
    responses={
        101: Reply(None, 'Switching protocols'),
    },
)
async def agent_ws(request: Request, ws):
    """Live updates for one agent, resumable from per-chat cursors.

    client -> first frame {"type":"hello","token":..?,"cursors":{<conversation id>: <last seq seen>}}
              (token only without the session cookie; cursors for the chats the console
              has seen, omitted on a first connect)
    server -> hello {agent, chats (each with last_seq)}, then for every held chat the
              messages after its cursor (at most REPLAY_LIMIT; beyond that a
              {"type":"resync","conversation_id":..,"last_seq":N} asks the console to
              reload that chat), then live: chat_waiting, chat_claimed, queue_changed,
              chat_assigned (with last_seq), chat_released, message, typing, status,
              citizen_timeout, callback_*, agent_status; {"type":"resync"} (no
              conversation id) asks it to reload queues, chats and callbacks.
    client -> {"type":"typing","conversation_id":..}
              {"type":"message","conversation_id":..,"text":..,"client_msg_id":..}
              {"type":"ping"}
    Each message of a held chat reaches the socket once, in seq order, with no gap
    after the cursor. Close codes: handoff/README.md ("Websocket close codes").
    """
    d = deps(request)
    address = client_address(request)
    conn_id = await d.limiter.open_connection(address, d.settings.websockets_per_address)
    if conn_id is None:
        await ws.close(code=4429, reason="too many connections")
        return
    try:
        await _agent_ws(request, ws, d, address, conn_id)
    finally:
        with contextlib.suppress(Exception):
            await d.limiter.close_connection(address, conn_id)


def parse_agent_hello(raw, settings=None) -> tuple[str | None, dict[str, int]]:
    """The token (if any) and the cursors of an agent hello frame; InvalidHello says what is wrong."""
    try:
        frame = parse_frame(raw) if raw else {}
    except ValueError as exc:
        raise InvalidHello("the first frame must be a JSON object (finite numbers)") from exc
    hello = validate(AgentHello, frame, settings)
    return hello.token, hello.cursors


async def _agent_ws(request: Request, ws, d, address: str, conn_id: str):
    cookie_token = request.cookies.get(SESSION_COOKIE)
    if cookie_token and not same_origin_websocket(request):
        # A cookie-authenticated socket opened by another site's page (cross-site websocket hijacking).
        await ws.close(code=4403, reason="cross-origin websocket refused")
        return
    try:
        raw = await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT)
        token, cursors = parse_agent_hello(raw, d.settings)
    except asyncio.TimeoutError:
        await ws.close(code=4400, reason="expected hello")
        return
    except InvalidHello as exc:
        await refuse_hello(ws, str(exc))
        return
    try:
        agent = await accounts_svc.agent_for_token(d, cookie_token or token)
    except ApiError:
        await ws.close(code=4401, reason="unauthorized")
        return
    if agent.role not in accounts_svc.CONSOLE_ROLES:
        # Editors see no chat and no queue.
        await ws.close(code=4403, reason="editors have no access to chats")
        return

    served = set(queue_svc.served_queue_names(d, agent))
    send_lock = asyncio.Lock()

    async def send(obj: dict) -> None:
        async with send_lock:
            await ws.send(jsonlib.dumps(obj, separators=(",", ":")))

    with tracked_websocket(request), d.bus.subscribe(AGENTS_CHANNEL, agent_channel(agent.id)) as sub:
        stream = ChatStream(d, sub, send)
        chats = await chat_svc.my_chats(d, agent)
        for chat in chats:
            sub.add(conv_channel(chat["conversation_id"]))
        if not await d.bus.ready(sub):
            await ws.close(code=4408, reason="live updates unavailable; reconnect")
            return
        # Read again once live: the last_seq read now is where the live stream starts.
        chats = await chat_svc.my_chats(d, agent)
        if any(conv_channel(c["conversation_id"]) not in sub.channels for c in chats):
            for chat in chats:
                sub.add(conv_channel(chat["conversation_id"]))
            if not await d.bus.ready(sub):
                await ws.close(code=4408, reason="live updates unavailable; reconnect")
                return
            chats = await chat_svc.my_chats(d, agent)
        await accounts_svc.heartbeat(d, agent.id)
        await send({"type": "hello", "agent": accounts_svc.agent_to_dict(agent), "chats": chats})
        for chat in chats:
            await stream.start(chat["conversation_id"], cursors.get(chat["conversation_id"]), chat["last_seq"])

        async def reconcile() -> None:
            """Safety net for events that never reached Redis (an instance that
            died between commit and publish, a publish that failed elsewhere):
            compare the held chats and their last seq with what was sent."""
            held = {c["conversation_id"]: c["last_seq"] for c in await chat_svc.my_chats(d, agent)}
            if set(held) != set(stream.sent):
                for cid in set(stream.sent) - set(held):
                    stream.stop(cid)
                for cid in set(held) - set(stream.sent):
                    sub.add(conv_channel(cid))
                if not await d.bus.ready(sub):
                    raise LostFanout()
                for cid in set(held) - set(stream.sent):
                    stream.sent[cid] = held[cid]
                # Assignments were missed: the console reloads its chats and queues.
                await send({"type": "resync"})
            for cid, last_seq in held.items():
                if last_seq > stream.sent.get(cid, last_seq):
                    await stream.catch_up(cid)

        async def writer():
            loop = asyncio.get_running_loop()
            next_beat = loop.time() + HEARTBEAT_SECONDS
            next_check = loop.time() + CATCH_UP_SECONDS
            while True:
                now = loop.time()
                if now >= next_beat:
                    await accounts_svc.heartbeat(d, agent.id)
                    await d.limiter.refresh_connection(address, conn_id)
                    next_beat = now + HEARTBEAT_SECONDS
                if now >= next_check:
                    await reconcile()
                    next_check = loop.time() + CATCH_UP_SECONDS
                got = await sub.get(timeout=max(0.0, min(next_beat, next_check) - loop.time()))
                if sub.lagged:
                    # Events were dropped for this socket: the console reconnects
                    # on this code with its cursors and reloads queues and chats.
                    await ws.close(code=4408, reason="fell behind; reconnect")
                    return
                if sub.interrupted:
                    raise LostFanout()
                if got is None:
                    continue
                channel, event = got
                kind = event.get("type")
                if channel == AGENTS_CHANNEL:
                    queue = event.get("queue")
                    if queue is not None and queue not in served and agent.role != "supervisor":
                        continue
                    # Timeouts matter to the agent holding the chat; queues show the rest.
                    if kind == "citizen_timeout" and event.get("agent_id") != agent.id:
                        continue
                elif channel == agent_channel(agent.id):
                    cid = event.get("conversation_id")
                    if kind == "chat_assigned" and isinstance(cid, str):
                        if cid not in stream.sent:
                            sub.add(conv_channel(cid))
                            if not await d.bus.ready(sub):
                                raise LostFanout()
                            stream.sent[cid] = await stream.last_seq(cid)
                        event = {**event, "last_seq": stream.sent[cid]}
                    elif kind == "chat_released" and isinstance(cid, str):
                        stream.stop(cid)
                elif kind == "message":
                    await stream.deliver(event)
                    continue
                elif kind == "typing" and event.get("sender") != "citizen":
                    continue
                await send(event)

        async def reader():
            async for frame in json_frames(ws, send):
                kind = frame.get("type")
                cid = frame.get("conversation_id")
                try:
                    if kind == "ping":
                        await accounts_svc.heartbeat(d, agent.id)
                        await send({"type": "pong"})
                    elif kind == "typing" and isinstance(cid, str):
                        await chat_svc.agent_typing(d, agent, cid)
                    elif kind == "message" and isinstance(cid, str):
                        message = validate(AgentMessageFrame, frame, d.settings)
                        msg = await chat_svc.reply(d, agent, cid, message.text, message.client_msg_id)
                        await send({"type": "ack", "conversation_id": cid, "client_msg_id": message.client_msg_id,
                                    "seq": msg["seq"]})
                    else:
                        await send({"type": "error", "error": {"code": "unknown_type", "message": "unknown frame"}})
                except ApiError as err:
                    await send({"type": "error", "client_msg_id": frame.get("client_msg_id"), **err.body(),
                                "status": err.status})
                except Exception:  # noqa: BLE001 - keep the socket; the client resends
                    log.exception("agent frame failed")
                    await send({"type": "error", "client_msg_id": frame.get("client_msg_id"), "status": 503,
                                "error": {"code": "unavailable", "message": "not stored; please resend"}})

        tasks = [asyncio.create_task(writer()), asyncio.create_task(reader())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                exc = None if task.cancelled() else task.exception()
                if isinstance(exc, LostFanout):
                    # This instance lost its Redis connection: events may be missing.
                    # The client reconnects (here or elsewhere) and resumes from its cursors.
                    with contextlib.suppress(Exception):
                        await ws.close(code=4408, reason="live updates interrupted; reconnect")
                elif exc is not None and not _is_disconnect(exc):
                    log.warning("agent websocket of agent %s ended: %r", agent.id, exc)
        finally:
            for t in tasks:
                t.cancel()
                with contextlib.suppress(BaseException):
                    await t


def _is_disconnect(exc: BaseException) -> bool:
    from websockets.exceptions import ConnectionClosed

    return isinstance(exc, (ConnectionClosed, asyncio.CancelledError))


class LostFanout(Exception):
    """The instance's fan-out lost events for this socket."""


class ChatStream:
    """The messages of an agent's held chats on one socket: per chat the last seq
    sent, so replay, live events and catch-up from the database meet without a
    gap or a duplicate."""

    def __init__(self, d, sub, send):
        self._d = d
        self._sub = sub
        self._send = send
        self.sent: dict[str, int] = {}

    async def start(self, conversation_id: str, cursor: int | None, last_seq: int) -> None:
        if cursor is None:
            # The console has not seen this chat: it loads the transcript itself.
            self.sent[conversation_id] = last_seq
            return
        # A cursor beyond the chat's end (a stale or made-up one) must not hide what comes next.
        self.sent[conversation_id] = min(cursor, last_seq)
        if last_seq > cursor:
            await self.catch_up(conversation_id)

    def stop(self, conversation_id: str) -> None:
        self.sent.pop(conversation_id, None)
        self._sub.remove(conv_channel(conversation_id))

    async def last_seq(self, conversation_id: str) -> int:
        async with self._d.sessionmaker() as session:
            return (await last_seqs(session, [conversation_id])).get(conversation_id, 0)

    async def catch_up(self, conversation_id: str) -> None:
        """Everything after the last seq sent, from the database; beyond
        REPLAY_LIMIT messages the console reloads the chat instead."""
        after = self.sent[conversation_id]
        async with self._d.sessionmaker() as session:
            missed = await messages_after(session, conversation_id, after, limit=REPLAY_LIMIT + 1)
        if len(missed) > REPLAY_LIMIT:
            latest = await self.last_seq(conversation_id)
            self.sent[conversation_id] = latest
            await self._send({"type": "resync", "conversation_id": conversation_id, "last_seq": latest})
            return
        for m in missed:
            await self._send(message_to_dict(m, for_agent=True))
            self.sent[conversation_id] = m.seq

    async def deliver(self, event: dict) -> None:
        cid = event.get("conversation_id")
        seq = event.get("seq")
        if cid not in self.sent or not isinstance(seq, int):
            return  # a chat no longer held (released while the event was on its way)
        if seq <= self.sent[cid]:
            return  # already sent (replayed or caught up)
        if seq == self.sent[cid] + 1:
            await self._send(event)
            self.sent[cid] = seq
            return
        # A gap: events from several instances can overtake each other; fill from the database.
        await self.catch_up(cid)
