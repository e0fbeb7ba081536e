"""Citizen API: HTTP endpoints and the websocket."""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
import logging
import time

from sanic import Blueprint, Request, json
from sanic.response import empty

from ..errors import ApiError
from ..events import conv_channel
from ..services import citizen as citizen_svc
from ..services.messages import message_to_dict, messages_after
from ..rate_limit import client_address, too_many
from ..services import retention as retention_svc
from .common import (
    InvalidHello,
    bearer,
    deps,
    json_body,
    json_frames,
    parse_frame,
    refuse_hello,
    tracked_websocket,
)
from .contract import Reply, operation
from .models import (
    CallbackBody,
    CitizenHello,
    ConversationIdPath,
    CreateConversationBody,
    GetMessagesQuery,
    IdentityFrame,
    MessageFrame,
    RatingBody,
    SendIdentityBody,
    SendMessageBody,
    parse_body,
    parse_query,
    validate,
)
from .responses import (
    ConversationState,
    CreateConversationResponse,
    EscalationResult,
    GetMessagesResponse,
    MessageStored,
)

log = logging.getLogger("handoff.citizen")

bp = Blueprint("citizen", url_prefix="/api/v1/citizen")

# Fields only agents see (NLU details, agent ids).
_AGENT_ONLY = ("topic", "confidence", "agent_id")
HELLO_TIMEOUT = 10.0

HEARTBEAT_SECONDS = 15.0


def for_citizen(event: dict) -> dict:
    return {k: v for k, v in event.items() if k not in _AGENT_ONLY}


async def _auth(request: Request, conversation_id: str):
    # access.enforce_access has checked the token against this conversation.
    conv = getattr(request.ctx, "conversation", None)
    if conv is not None and conv.id == conversation_id:
        return conv
    return await citizen_svc.authenticate(deps(request), conversation_id, bearer(request))


async def _limit_message(d, conversation_id: str, address: str) -> None:
    """Messages per minute per conversation and per client address."""
    s = d.settings
    retry = await d.limiter.hit_many([("msg_conv", conversation_id, s.messages_per_minute_per_conversation),
                                      ("msg_addr", address, s.messages_per_minute_per_address)])
    if retry is not None:
        raise too_many(retry, "messages")


def _spawn(request: Request, coro, name: str) -> None:
    """Run follow-up work (the bot turn) after the acknowledgement is sent."""
    task = asyncio.get_running_loop().create_task(coro, name=name)
    tasks = request.app.ctx.background
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s failed: %r", task.get_name(), task.exception())


@bp.post("/conversations", ctx_auth="public")
@operation(
    tags=['citizen'],
    summary='Start a conversation',
    body=CreateConversationBody,
    responses={
        201: Reply(CreateConversationResponse, 'Created. Keep the token secret; it authorises every later call.'),
    },
    errors=(400,),
)
async def create_conversation(request: Request):
    data = json_body(request)
    d = deps(request)
    retry = await d.limiter.hit("conv_addr", client_address(request), d.settings.conversations_per_minute_per_address)
    if retry is not None:
        raise too_many(retry, "new conversations")
    body = validate(CreateConversationBody, data, d.settings)
    conv, token = await citizen_svc.create_conversation(d, body.municipality, body.language)
    return json({"conversation_id": conv.id, "token": token, "mode": conv.mode, "last_seq": 0}, status=201)


@bp.get("/conversations/<conversation_id:str>", ctx_auth="citizen")
@operation(
    tags=['citizen'],
    summary='Conversation state (mode, last seq, queue position, rating request)',
    security=('citizenToken',),
    path=ConversationIdPath,
    responses={
        200: Reply(ConversationState, 'State'),
    },
    errors=(401,),
)
async def get_conversation(request: Request, conversation_id: str):
    await _auth(request, conversation_id)
    await citizen_svc.touch_seen(deps(request), conversation_id)
    return json(await citizen_svc.conversation_state(deps(request), conversation_id))


@bp.post("/conversations/<conversation_id:str>/messages", ctx_auth="citizen")
@operation(
    tags=['citizen'],
    summary='Send a message (HTTP fallback of the websocket)',
    description=(
        "Stored with its sequence number before the response. In bot mode it is then relayed to "
        "Rasa; bot replies arrive as messages."
    ),
    security=('citizenToken',),
    path=ConversationIdPath,
    body=SendMessageBody,
    responses={
        201: Reply(MessageStored, 'Stored'),
        200: Reply(None, 'Already stored earlier with this client_msg_id'),
    },
    errors=(400, 401, 409, 413, 429),
)
async def send_message(request: Request, conversation_id: str):
    await _auth(request, conversation_id)
    data = json_body(request)
    d = deps(request)
    await _limit_message(d, conversation_id, client_address(request))
    body = validate(SendMessageBody, data, d.settings)
    # The citizen's own words go to Rasa; the stored (and published) copy is masked.
    message, duplicate, mode = await citizen_svc.receive_message(
        d, conversation_id, body.text, payload=body.payload, client_msg_id=body.client_msg_id
    )
    if not duplicate and citizen_svc.needs_followup(mode, body.payload):
        _spawn(request, citizen_svc.after_citizen_message(d, conversation_id, body.text, body.payload,
                                                          mode, body.login_token), f"turn-{conversation_id}")
    return json({"seq": message["seq"], "duplicate": duplicate, "message": for_citizen(message)},
                status=200 if duplicate else 201)


@bp.post("/conversations/<conversation_id:str>/identity", ctx_auth="citizen")
@operation(
    tags=['citizen'],
    summary=(
        "Give the CPR number / personnummer the assistant asked for (HTTP fallback of the "
        "websocket's identity frame)"
    ),
    description=(
        "Accepted only while the assistant's latest message carries an `identity_request` of this "
        "kind (docs/contracts/rasa-bridge.md) and the conversation is with the assistant. The "
        "number is checked for its shape and forwarded to the assistant only; it is never stored, "
        'published or logged. The transcript gets a neutral citizen line ("[CPR-nummer sendt]") '
        "instead."
    ),
    security=('citizenToken',),
    path=ConversationIdPath,
    body=SendIdentityBody,
    responses={
        201: Reply(MessageStored, "The neutral line is stored; the assistant's answer arrives as messages"),
        200: Reply(None, 'Already stored earlier with this client_msg_id'),
    },
    errors=(400, 401, 404, 409, 429),
)
async def send_identity(request: Request, conversation_id: str):
    """A CPR number / personnummer from the widget's field, in answer to the
    assistant's question: forwarded to the assistant only; the transcript gets
    a neutral line instead (HTTP fallback of the websocket's identity frame)."""
    await _auth(request, conversation_id)
    data = json_body(request)
    d = deps(request)
    await _limit_message(d, conversation_id, client_address(request))
    body = validate(SendIdentityBody, data, d.settings)
    message, duplicate, mode = await citizen_svc.receive_identity(
        d, conversation_id, body.kind, client_msg_id=body.client_msg_id)
    if not duplicate:
        _spawn(request, citizen_svc.after_identity(d, conversation_id, body.kind, body.number, body.login_token),
               f"turn-{conversation_id}")
    return json({"seq": message["seq"], "duplicate": duplicate, "message": for_citizen(message)},
                status=200 if duplicate else 201)


@bp.get("/conversations/<conversation_id:str>/messages", ctx_auth="citizen")
@operation(
    tags=['citizen'],
    summary='Messages after a sequence number (long-poll with `wait`)',
    security=('citizenToken',),
    path=ConversationIdPath,
    query=GetMessagesQuery,
    responses={
        200: Reply(GetMessagesResponse, 'Messages in order'),
    },
    errors=(400, 401),
)
async def get_messages(request: Request, conversation_id: str):
    """Everything after `after`, in order. With `wait`, long-polls until something arrives."""
    await _auth(request, conversation_id)
    d = deps(request)
    query = parse_query(request, GetMessagesQuery)
    after, wait = query.after, query.wait
    await citizen_svc.touch_seen(d, conversation_id)
    # Subscribe before reading, so nothing committed in between is missed.
    with d.bus.subscribe(conv_channel(conversation_id)) as sub:
        if wait:
            await d.bus.ready(sub)
        async with d.sessionmaker() as session:
            msgs = await messages_after(session, conversation_id, after)
        deadline = time.monotonic() + wait
        while not msgs and time.monotonic() < deadline:
            got = await sub.get(timeout=deadline - time.monotonic())
            if got is None:
                break
            if sub.interrupted:  # events may be lost: read what is stored
                async with d.sessionmaker() as session:
                    msgs = await messages_after(session, conversation_id, after)
                break
            if got[1].get("type") == "message" and got[1].get("seq", 0) > after:
                async with d.sessionmaker() as session:
                    msgs = await messages_after(session, conversation_id, after)
    out = [for_citizen(message_to_dict(m)) for m in msgs]
    return json({"messages": out, "last_seq": out[-1]["seq"] if out else after})


@bp.post("/conversations/<conversation_id:str>/typing", ctx_auth="citizen")
@operation(
    tags=['citizen'],
    summary='Citizen is typing (shown to the agent)',
    security=('citizenToken',),
    path=ConversationIdPath,
    responses={
        204: Reply(None, 'Done, nothing to return'),
    },
    errors=(401,),
)
async def typing(request: Request, conversation_id: str):
    await _auth(request, conversation_id)
    await citizen_svc.citizen_typing(deps(request), conversation_id)
    return empty()


@bp.post("/conversations/<conversation_id:str>/handoff", ctx_auth="citizen")
@operation(
    tags=['citizen'],
    summary='Talk to a person',
    description=(
        "The one escalation the bot's request for a person takes too. Pauses the bot and queues "
        "the conversation (one system line with the place and expected wait), or offers a "
        "callback when the queue is closed. Idempotent while queued."
    ),
    security=('citizenToken',),
    path=ConversationIdPath,
    responses={
        200: Reply(EscalationResult, 'Result'),
    },
    errors=(401, 409),
)
async def handoff(request: Request, conversation_id: str):
    """The citizen's "talk to a person" button."""
    await _auth(request, conversation_id)
    return json(await citizen_svc.request_person(deps(request), conversation_id))


@bp.post("/conversations/<conversation_id:str>/callback", ctx_auth="citizen")
@operation(
    tags=['citizen'],
    summary='Request a callback (when offered, or while queued)',
    security=('citizenToken',),
    path=ConversationIdPath,
    body=CallbackBody,
    responses={
        201: Reply(None, 'Registered'),
    },
    errors=(400, 401, 409),
)
async def callback(request: Request, conversation_id: str):
    await _auth(request, conversation_id)
    body = parse_body(request, CallbackBody)
    result = await citizen_svc.request_callback(deps(request), conversation_id, body.phone, body.description)
    return json(result, status=201)


@bp.post("/conversations/<conversation_id:str>/rating", ctx_auth="citizen")
@operation(
    tags=['citizen'],
    summary='Rate the chat 1-9 after an agent closed it',
    security=('citizenToken',),
    path=ConversationIdPath,
    body=RatingBody,
    responses={
        201: Reply(None, 'Rated'),
    },
    errors=(400, 401, 409),
)
async def rating(request: Request, conversation_id: str):
    await _auth(request, conversation_id)
    body = parse_body(request, RatingBody)
    return json(await citizen_svc.rate(deps(request), conversation_id, body.score, body.comment), status=201)


@bp.post("/conversations/<conversation_id:str>/leave", ctx_auth="citizen")
@operation(
    tags=['citizen'],
    summary='The citizen closed the chat (recorded as a timeout with reason citizen_closed)',
    security=('citizenToken',),
    path=ConversationIdPath,
    responses={
        200: Reply(None, 'Left'),
    },
    errors=(401,),
)
async def leave(request: Request, conversation_id: str):
    await _auth(request, conversation_id)
    return json(await citizen_svc.leave(deps(request), conversation_id))


@bp.delete("/conversations/<conversation_id:str>", ctx_auth="citizen")
@operation(
    tags=['citizen'],
    summary="Delete the conversation (the citizen's own)",
    description=(
        "Deletes everything the bridge stored about the conversation\n"
        "(messages, queue entries, callback requests, rating). The token stops\n"
        "working. Rasa is asked to delete its tracker in the background; the\n"
        "audit log keeps who accessed the conversation, without content."
    ),
    security=('citizenToken',),
    path=ConversationIdPath,
    responses={
        204: Reply(None, 'Done, nothing to return'),
    },
    errors=(401,),
)
async def delete_conversation(request: Request, conversation_id: str):
    """The citizen deletes their conversation: everything the bridge stored about it
    goes at once; Rasa is asked to delete its tracker in the background."""
    await _auth(request, conversation_id)
    d = deps(request)
    deleted = await retention_svc.delete_conversations(d, [conversation_id], actor_type="citizen", action="delete")
    if deleted:
        _spawn(request, retention_svc.delete_rasa_trackers(d, deleted), f"rasa-delete-{conversation_id}")
    return empty(status=204)


@bp.websocket("/conversations/<conversation_id:str>/ws", ctx_auth="websocket")
@operation(
    tags=['citizen'],
    summary='Citizen websocket',
    description=(
        "Upgrade to a websocket. First frame from the client:\n"
        '`{"type":"hello","token":"<conversation '
        'token>","last_seq":N,"login_token":"<optional>"}`.\n'
        "The server answers `hello` (the conversation state), then every\n"
        "message with `seq > last_seq`, then live frames: `message`, `ack`\n"
        "(`{client_msg_id, seq}` after the message is stored), `typing`,\n"
        "`queue` (position and estimated wait), `status` (mode changes),\n"
        "`message_masked` (`seq` and the masked `text` of an earlier citizen\n"
        "message), `notice`, `error`, `pong`.\n"
        "Client frames: `message` (`text`, `payload`, `client_msg_id`),\n"
        "`typing`, `handoff`, `ping`. Close codes: 4401 bad token, 4400 no hello."
    ),
    path=ConversationIdPath,
    responses={
        101: Reply(None, 'Switching protocols'),
    },
)
async def citizen_ws(request: Request, ws, conversation_id: str):
    """Websocket protocol (JSON frames):

    client -> {"type":"hello","token":..,"last_seq":N,"login_token":..}   (first frame)
    client -> {"type":"message","text":..,"payload":..,"client_msg_id":..}
    client -> {"type":"identity","kind":"cpr"|"personnummer","number":..,"client_msg_id":..}
              (only in answer to the assistant's identity_request; the number goes to Rasa only)
    client -> {"type":"typing"} | {"type":"handoff"} | {"type":"ping"}
    server -> hello, message (with seq), ack, typing, queue, status, notice, error, pong
    """
    d = deps(request)
    address = client_address(request)
    conn_id = await d.limiter.open_connection(address, d.settings.websockets_per_address)
    if conn_id is None:
        await ws.close(code=4429, reason="too many connections")
        return
    try:
        await _citizen_ws(request, ws, conversation_id, d, address, conn_id)
    finally:
        with contextlib.suppress(Exception):
            await d.limiter.close_connection(address, conn_id)


async def _citizen_ws(request: Request, ws, conversation_id: str, d, address: str, conn_id: str):
    try:
        raw = await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT)
        try:
            frame = parse_frame(raw) if raw else {}
        except ValueError as exc:
            raise InvalidHello("the first frame must be a JSON object (finite numbers)") from exc
        hello = validate(CitizenHello, frame, d.settings)
        last_seq = hello.last_seq
        await citizen_svc.authenticate(d, conversation_id, hello.token)
    except ApiError:
        await ws.close(code=4401, reason="unauthorized")
        return
    except InvalidHello as exc:
        await refuse_hello(ws, str(exc))
        return
    except (ValueError, asyncio.TimeoutError):
        await ws.close(code=4400, reason="expected hello")
        return
    login_token = hello.login_token

    send_lock = asyncio.Lock()

    async def send(obj: dict) -> None:
        async with send_lock:
            await ws.send(jsonlib.dumps(obj, separators=(",", ":")))

    with tracked_websocket(request) as tracked, d.bus.subscribe(conv_channel(conversation_id)) as sub:
        # Subscribed first, then the backlog: anything newer arrives as an event
        # and the seq check below drops what the backlog already covered.
        sent_seq = last_seq
        if not await d.bus.ready(sub):
            await ws.close(code=4408, reason="live updates unavailable; reconnect")
            return
        state = await citizen_svc.conversation_state(d, conversation_id)
        await send({"type": "hello", **state})
        async with d.sessionmaker() as session:
            backlog = await messages_after(session, conversation_id, sent_seq, limit=5000)
        for m in backlog:
            await send(for_citizen(message_to_dict(m)))
            sent_seq = m.seq
        await citizen_svc.touch_seen(d, conversation_id, min_interval=0)

        async def writer():
            nonlocal sent_seq
            while True:
                got = await sub.get(timeout=HEARTBEAT_SECONDS)
                if sub.interrupted:
                    # The instance lost its Redis connection: status events may be
                    # missing too. The widget reconnects with its last seq.
                    await ws.close(code=4408, reason="live updates interrupted; reconnect")
                    return
                if got is None or sub.lagged:
                    sub.lagged = False
                    await citizen_svc.touch_seen(d, conversation_id)
                    await d.limiter.refresh_connection(address, conn_id)
                    # Idle or lagged: catch up from the database.
                    async with d.sessionmaker() as session:
                        for m in await messages_after(session, conversation_id, sent_seq):
                            await send(for_citizen(message_to_dict(m)))
                            sent_seq = m.seq
                    continue
                _channel, event = got
                if event.get("type") == "status" and event.get("mode") == "deleted":
                    # Deleted (in another tab, or by retention): the widget starts afresh on 4401.
                    await ws.close(code=4401, reason="conversation deleted")
                    return
                if event.get("type") != "message":
                    if event.get("type") == "typing" and event.get("sender") == "citizen":
                        continue
                    await send(for_citizen(event))
                    continue
                seq = event.get("seq", 0)
                if seq <= sent_seq:
                    continue
                if seq == sent_seq + 1:
                    await send(for_citizen(event))
                    sent_seq = seq
                    continue
                # A gap (events from several instances can overtake each other): fill from the DB.
                async with d.sessionmaker() as session:
                    for m in await messages_after(session, conversation_id, sent_seq):
                        await send(for_citizen(message_to_dict(m)))
                        sent_seq = m.seq

        async def reader():
            async for frame in json_frames(ws, send):
                kind = frame.get("type")
                try:
                    if kind == "message":
                        await _limit_message(d, conversation_id, address)
                        message = validate(MessageFrame, frame, d.settings)
                        msg, duplicate, mode = await citizen_svc.receive_message(
                            d, conversation_id, message.text, payload=message.payload,
                            client_msg_id=message.client_msg_id)
                        await send({"type": "ack", "client_msg_id": message.client_msg_id, "seq": msg["seq"],
                                    "duplicate": duplicate})
                        if not duplicate and citizen_svc.needs_followup(mode, message.payload):
                            _spawn(request, citizen_svc.after_citizen_message(
                                d, conversation_id, message.text, message.payload, mode, login_token),
                                f"turn-{conversation_id}")
                    elif kind == "identity":
                        await _limit_message(d, conversation_id, address)
                        identity = validate(IdentityFrame, frame, d.settings)
                        msg, duplicate, mode = await citizen_svc.receive_identity(
                            d, conversation_id, identity.kind, client_msg_id=identity.client_msg_id)
                        await send({"type": "ack", "client_msg_id": identity.client_msg_id, "seq": msg["seq"],
                                    "duplicate": duplicate})
                        if not duplicate:
                            _spawn(request, citizen_svc.after_identity(d, conversation_id, identity.kind,
                                                                       identity.number, login_token),
                                   f"turn-{conversation_id}")
                    elif kind == "typing":
                        await citizen_svc.citizen_typing(d, conversation_id)
                    elif kind == "handoff":
                        await send({"type": "handoff", **await citizen_svc.request_person(d, conversation_id)})
                    elif kind == "ping":
                        await citizen_svc.touch_seen(d, conversation_id)
                        await send({"type": "pong"})
                    else:
                        await send({"type": "error", "error": {"code": "unknown_type", "message": f"unknown frame type {kind!r}"}})
                except ApiError as err:
                    await send({"type": "error", "client_msg_id": frame.get("client_msg_id"), **err.body(), "status": err.status})
                except Exception:  # noqa: BLE001 - e.g. database overload: tell the client, keep the socket
                    log.exception("citizen frame failed for %s", conversation_id)
                    await send({"type": "error", "client_msg_id": frame.get("client_msg_id"), "status": 503,
                                "error": {"code": "unavailable", "message": "not stored; please resend"}})

        writer_task = asyncio.create_task(writer())
        reader_task = asyncio.create_task(reader())
        try:
            done, _ = await asyncio.wait({writer_task, reader_task}, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                if not t.cancelled() and t.exception() is not None and not _is_disconnect(t.exception()):
                    log.warning("citizen websocket of %s ended: %r", conversation_id, t.exception())
        finally:
            for t in (writer_task, reader_task):
                t.cancel()
                with contextlib.suppress(BaseException):
                    await t
            if not tracked.stopping:
                # Last sign of life: the leave grace period counts from here.
                with contextlib.suppress(Exception):
                    await citizen_svc.touch_seen(d, conversation_id, min_interval=0)


def _is_disconnect(exc: BaseException) -> bool:
    from websockets.exceptions import ConnectionClosed

    return isinstance(exc, (ConnectionClosed, asyncio.CancelledError))
