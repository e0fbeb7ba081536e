"""Citizen side: conversations, messages, the bot relay, callbacks and ratings."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets

from sqlalchemy import select, update

from .. import i18n
from ..db.models import (
    ESC_ABANDONED,
    ESC_CALLBACK,
    ESC_WAITING,
    MODE_AGENT,
    MODE_BOT,
    MODE_CLOSED,
    MODE_QUEUED,
    CallbackRequest,
    Conversation,
    Message,
    Rating,
    Timeout,
    utcnow,
)
from ..errors import ApiError, Conflict, Invalid, TooLarge, not_found, unauthorized
from ..events import conv_channel
from ..privacy import mask_personal_data, normalise_phone
from ..rasa import RasaUnavailable
from . import queue as queue_svc
from .domain_events import MessageStored, TimedOut, unit_of_work
from .messages import (
    append_message,
    publish_agents,
    publish_messages,
    publish_status,
)

log = logging.getLogger("handoff.citizen")

# The topic of an explicit request for a person (the catalogue's id).
REQUEST_HUMAN_TOPIC = "request_human"

MUNICIPALITY_MAX = 64
PAYLOAD_MAX = 500
# C0 controls other than tab, line feed and carriage return, DEL, and unpaired surrogates.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_municipality(municipality) -> str:
    municipality = municipality.strip() if isinstance(municipality, str) else ""
    if not municipality or len(municipality) > MUNICIPALITY_MAX:
        raise Invalid("invalid_municipality", "municipality is required (at most 64 characters)")
    return municipality


def check_language(language) -> str:
    if language not in ("da", "sv"):
        raise Invalid("invalid_language", "language must be 'da' or 'sv'")
    return language


async def create_conversation(deps, municipality: str, language: str) -> tuple[Conversation, str]:
    """A new conversation; `municipality` and `language` are checked (check_municipality, check_language)."""
    token = secrets.token_urlsafe(32)
    conv = Conversation(
        id=secrets.token_hex(16),
        token_hash=hash_token(token),
        municipality=municipality,
        language=language,
        mode=MODE_BOT,
        last_seq=0,
        consecutive_fallbacks=0,
    )
    async with deps.sessionmaker() as session:
        async with session.begin():
            session.add(conv)
    return conv, token


async def authenticate(deps, conversation_id: str, token: str | None) -> Conversation:
    if not token:
        raise unauthorized("conversation token required")
    async with deps.sessionmaker() as session:
        conv = await session.get(Conversation, conversation_id)
    # Same error for unknown id and wrong token, so ids cannot be probed.
    if conv is None or not hmac.compare_digest(conv.token_hash, hash_token(token)):
        raise unauthorized("unknown conversation or wrong token")
    return conv


async def touch_seen(deps, conversation_id: str, min_interval: float = 10.0) -> None:
    """Record a sign of life; skips the write when one was recorded recently."""
    now = utcnow()
    async with deps.sessionmaker() as session:
        async with session.begin():
            await session.execute(
                update(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.citizen_seen_at < now - dt.timedelta(seconds=min_interval),
                )
                .values(citizen_seen_at=now)
            )


def check_text(text, max_chars: int) -> str:
    """A message's text, stripped; refused when empty, not text or longer than `max_chars`."""
    if not isinstance(text, str):
        raise Invalid("invalid_text", "text must be a string")
    text = text.strip()
    if not text:
        raise Invalid("empty_message", "message text is empty")
    if _CONTROL.search(text):
        raise Invalid("invalid_text", "text must not contain control characters (other than tab and line breaks)")
    if len(text) > max_chars:
        raise TooLarge("message_too_long", f"message is longer than {max_chars} characters", max_chars=max_chars)
    return text


def check_payload(payload) -> str | None:
    if payload is not None and (not isinstance(payload, str) or len(payload) > PAYLOAD_MAX):
        raise Invalid("invalid_payload", "payload must be a string of at most 500 characters")
    return payload


def check_client_msg_id(client_msg_id) -> str | None:
    if client_msg_id is not None and (not isinstance(client_msg_id, str) or not 1 <= len(client_msg_id) <= 64):
        raise Invalid("invalid_client_msg_id", "client_msg_id must be 1-64 characters")
    return client_msg_id


async def receive_message(
    deps,
    conversation_id: str,
    text: str,
    *,
    payload: str | None = None,
    client_msg_id: str | None = None,
) -> tuple[dict, bool, str]:
    """Store a citizen message (text, payload and client_msg_id already checked:
    check_text, check_payload, check_client_msg_id). Returns (message dict,
    duplicate, mode at receipt).

    The caller acknowledges only after this returns, i.e. after commit.
    """
    from .messages import message_to_dict

    try:
        # Group commit (services/message_writer.py): the relay's hot path.
        msg, mode, duplicate = await deps.writer.append(
            conversation_id, text, payload={"payload": payload} if payload else None, client_msg_id=client_msg_id)
    except LookupError:
        async with deps.sessionmaker() as session:
            conv = await session.get(Conversation, conversation_id)
        if conv is None:
            raise not_found("conversation") from None
        raise Conflict("conversation_closed", "the conversation is closed") from None
    # Published by the writer right after its commit.
    return message_to_dict(msg), duplicate, mode


def rasa_text(text: str, payload: str | None) -> str:
    """What Rasa receives for a citizen message: the citizen's own words, unmasked
    (the identity step must see a CPR number typed into the chat box; only the
    webhook body carries it, storage and publishing stay masked). A button click
    is sent as its payload ("/intent"), as Rasa's REST channel expects."""
    return payload if payload else text


# ---------------------------------------------------------------- identity input

# The custom payload of the assistant's question for the number (contract in
# docs/contracts/rasa-bridge.md); the widget then shows its field for it.
IDENTITY_REQUEST_KEY = "identity_request"
IDENTITY_KINDS = ("cpr", "personnummer")
IDENTITY_MAX_CHARS = 20
# Shapes only: the date and check-digit checks are the assistant's, which answers with what is wrong.
_IDENTITY_SHAPES = {
    "cpr": re.compile(r"^\d{6}-?\d{4}$"),
    "personnummer": re.compile(r"^(?:\d{2})?\d{6}[-+]?\d{4}$"),
}


def check_identity(kind, number) -> tuple[str, str]:
    """(kind, number without spaces), or a 400 that never echoes the number."""
    if kind not in IDENTITY_KINDS:
        raise Invalid("invalid_identity_kind", "kind must be 'cpr' or 'personnummer'")
    if not isinstance(number, str) or len(number) > IDENTITY_MAX_CHARS:
        raise Invalid("invalid_national_id", f"number must be a string of at most {IDENTITY_MAX_CHARS} characters")
    compact = re.sub(r"\s", "", number)
    if not _IDENTITY_SHAPES[kind].match(compact):
        raise Invalid("invalid_national_id", "number is not shaped like a CPR number (DDMMYY-XXXX)"
                          if kind == "cpr" else "number is not shaped like a personnummer (YYYYMMDD-XXXX)")
    return kind, compact


async def requested_identity_kind(deps, conversation_id: str) -> str | None:
    """The kind of number the assistant's latest message asks for, if it asks for one."""
    async with deps.sessionmaker() as session:
        payload = await session.scalar(
            select(Message.payload)
            .where(Message.conversation_id == conversation_id, Message.sender == "bot")
            .order_by(Message.seq.desc())
            .limit(1)
        )
    custom = payload.get("custom") if isinstance(payload, dict) else None
    request = custom.get(IDENTITY_REQUEST_KEY) if isinstance(custom, dict) else None
    return request.get("kind") if isinstance(request, dict) else None


async def receive_identity(deps, conversation_id: str, kind: str, *, client_msg_id: str | None = None,
                           ) -> tuple[dict, bool, str]:
    """Store the neutral line of a number given in the widget's field; the number
    itself is never stored, published or logged. Returns (message dict, duplicate,
    mode at receipt, the number for the assistant's webhook only).

    Accepted only in answer to the assistant's question for that kind of number,
    so it can never reach an agent. The number (check_identity) stays with the
    caller, which hands it to the assistant's turn only."""
    from .messages import message_to_dict

    async with deps.sessionmaker() as session:
        conv = await session.get(Conversation, conversation_id)
    if conv is None:
        raise not_found("conversation")
    if conv.mode != MODE_BOT or await requested_identity_kind(deps, conversation_id) != kind:
        raise Conflict("identity_not_requested", "the assistant is not asking for this number now")
    try:
        msg, mode, duplicate = await deps.writer.append(
            conversation_id, i18n.text(f"identity_sent_{kind}", conv.language),
            payload={"identity_input": kind}, client_msg_id=client_msg_id)
    except LookupError:
        raise Conflict("conversation_closed", "the conversation is closed") from None
    return message_to_dict(msg), duplicate, mode


def needs_followup(mode: str, payload: str | None) -> bool:
    """Only bot turns and widget actions need work after the ack; agent chats do not."""
    return mode == MODE_BOT or (payload or "").startswith("bridge:")


async def after_citizen_message(deps, conversation_id: str, text: str, payload: str | None, mode: str, login_token: str | None) -> None:
    """What follows a stored citizen message: widget actions, or a bot turn in bot mode.

    `text` is what the citizen wrote (validated, not the stored masked copy)."""
    if payload in queue_svc.HANDOFF_ACTIONS:
        await request_person(deps, conversation_id, queue_svc.HANDOFF_ACTIONS[payload])
        return
    if payload in (queue_svc.ACTION_CALLBACK, queue_svc.ACTION_KEEP_WAITING):
        return  # handled by the widget (form / dismiss); stored for the transcript only
    if mode == MODE_BOT:
        await bot_turn(deps, conversation_id, rasa_text(text, payload), login_token)


async def after_identity(deps, conversation_id: str, kind: str, number: str, login_token: str | None) -> None:
    """The bot turn of a number given in the widget's field: to Rasa only."""
    await bot_turn(deps, conversation_id, number, login_token, extra_metadata={"identity_input": kind})


async def request_person(deps, conversation_id: str, reason: str = queue_svc.REASON_CITIZEN_REQUEST) -> dict:
    """The citizen chose a person (the widget's button): the same escalation the bot's request takes."""
    return await queue_svc.escalate(deps, conversation_id, reason, pause_bot=True)


async def bot_turn(deps, conversation_id: str, text: str, login_token: str | None, *,
                   extra_metadata: dict | None = None) -> None:
    lock = deps.bot_lock(conversation_id)
    try:
        async with lock:
            await _bot_turn_locked(deps, conversation_id, text, login_token, extra_metadata=extra_metadata)
    finally:
        deps.release_bot_lock(conversation_id)


async def _system_message(deps, conversation_id: str, text: str, payload: dict | None = None) -> None:
    async with deps.sessionmaker() as session:
        async with session.begin():
            msg, _ = await append_message(session, conversation_id, "system", text, payload=payload)
    await publish_messages(deps, [msg])


async def offer_person_after_failure(deps, conv: Conversation) -> None:
    """The assistant could not answer: say so and offer a person.

    The button is a widget action the bridge handles itself, so it works
    while Rasa is down; the citizen stays with the bot and may simply retry.
    """
    button = {"title": i18n.text("button_person", conv.language), "payload": queue_svc.ACTION_HANDOFF_AFTER_FAILURE}
    await _system_message(deps, conv.id, i18n.text("rasa_unavailable", conv.language), {"buttons": [button]})


async def _hand_over_from_bot(deps, conv: Conversation, turn) -> None:
    """The bot asked for a person in this turn and paused itself: queue from its signal."""
    signal = turn.handoff or {}
    reason = signal.get("reason") if signal.get("reason") in queue_svc.REASONS else queue_svc.REASON_CITIZEN_REQUEST
    try:
        result = await queue_svc.escalate(
            deps,
            conv.id,
            reason,
            summary=signal.get("summary"),
            topic=signal.get("topic"),
            confidence=signal.get("confidence"),
            language=signal.get("language"),
            pause_bot=False,
        )
    except ApiError as err:
        log.warning("escalation requested by the bot for %s failed: %s", conv.id, err.code)
        # Nobody takes the conversation: the bot must keep answering.
        await deps.rasa.resume(conv.id)
        if err.code != "conversation_closed":
            await _system_message(deps, conv.id, i18n.text("handoff_unavailable", conv.language))
        return
    if result["status"] == "closed":
        # Outside opening hours: the callback is offered and the bot carries on.
        await deps.rasa.resume(conv.id)


async def _bot_turn_locked(deps, conversation_id: str, text: str, login_token: str | None, *,
                           extra_metadata: dict | None = None) -> None:
    async with deps.sessionmaker() as session:
        conv = await session.get(Conversation, conversation_id)
    # Checked again under the lock: an escalation may have happened meanwhile,
    # and a conversation that is not in bot mode never reaches Rasa.
    if conv is None or conv.mode != MODE_BOT:
        return
    metadata = {"municipality": conv.municipality, "language": conv.language}
    if login_token:
        metadata["login_token"] = login_token
    metadata.update(extra_metadata or {})
    try:
        turn = await deps.rasa.send_message(conversation_id, text, metadata)
    except RasaUnavailable as exc:
        log.warning("rasa unavailable for %s: %s", conversation_id, exc)
        await offer_person_after_failure(deps, conv)
        return

    if not turn.messages and not turn.paused:
        # Rasa understood the message but its actions did not run (the action
        # server is down or silent): an empty reply is a failure, not an answer.
        log.warning("empty bot reply for %s (topic %s)", conversation_id, turn.topic)
        if turn.topic == REQUEST_HUMAN_TOPIC:
            try:
                await queue_svc.escalate(deps, conversation_id, queue_svc.REASON_CITIZEN_REQUEST, pause_bot=True,
                                         topic=turn.topic, confidence=turn.confidence,
                                         summary="The assistant could not answer; the citizen asked for a person.")
                return
            except ApiError as err:
                log.warning("escalation after an empty bot reply for %s failed: %s", conversation_id, err.code)
        await offer_person_after_failure(deps, conv)
        return

    is_fallback = turn.topic in deps.settings.fallback_topics
    stored = []
    async with deps.sessionmaker() as session:
        async with session.begin():
            for m in turn.messages:
                payload = {k: v for k, v in m.items() if k != "text"}
                if turn.reply_language and turn.reply_language != conv.language:
                    # A Danish answer in a Swedish chat: the widget renders all of it in Danish.
                    payload["language"] = turn.reply_language
                payload = payload or None
                msg, _ = await append_message(
                    session,
                    conversation_id,
                    "bot",
                    m.get("text"),
                    payload=payload,
                    topic=turn.topic,
                    confidence=turn.confidence,
                )
                stored.append(msg)
            conv = await session.get(Conversation, conversation_id)
            # Only counted: the bot itself offers a person after repeated
            # misunderstanding, and only the citizen's choice enters the queue.
            conv.consecutive_fallbacks = conv.consecutive_fallbacks + 1 if is_fallback else 0
    await publish_messages(deps, stored)

    if turn.paused:
        await _hand_over_from_bot(deps, conv, turn)


def check_phone(phone) -> str:
    """The phone number normalised (privacy.normalise_phone); the error never echoes it."""
    normalised = normalise_phone(phone if isinstance(phone, str) else "")
    if normalised is None:
        raise Invalid("invalid_phone", "phone must be a phone number (7-15 digits)")
    return normalised


def check_description(description) -> str | None:
    if description is not None and (not isinstance(description, str) or len(description) > 1000):
        raise Invalid("invalid_description", "description must be text of at most 1000 characters")
    return description


async def request_callback(deps, conversation_id: str, phone: str, description: str | None) -> dict:
    """A callback request; `phone` is normalised (check_phone), `description` checked (check_description)."""
    normalised = phone
    async with deps.sessionmaker() as session:
        async with session.begin():
            conv = await session.get(Conversation, conversation_id, with_for_update=True)
            if conv is None:
                raise not_found("conversation")
            esc = await queue_svc.callback_allowed(session, conversation_id)
            if esc is None:
                raise Conflict("callback_not_offered", "a callback can be requested while queued or when the queue is closed")
            was_waiting = esc.status == ESC_WAITING
            esc.status = ESC_CALLBACK
            esc.ended_at = utcnow()
            cb = CallbackRequest(
                conversation_id=conversation_id,
                queue_name=esc.queue_name,
                language=conv.language,
                municipality=conv.municipality,
                phone_encrypted=deps.vault.encrypt(normalised),
                description=mask_personal_data(description.strip()) if description else None,
            )
            session.add(cb)
            msg, _ = await append_message(session, conversation_id, "system", i18n.text("callback_registered", conv.language))
            if was_waiting:
                conv.mode = MODE_CLOSED
                conv.close_reason = "callback_requested"
                conv.closed_at = utcnow()
            await session.flush()
            queue_name, mode, cb_id = esc.queue_name, conv.mode, cb.id
    await publish_messages(deps, [msg])
    if was_waiting:
        await publish_status(deps, conversation_id, mode)
        deps.queue_changed(queue_name)
    await publish_agents(deps, {"type": "callback_new", "callback_id": cb_id, "queue": queue_name})
    return {"status": "registered", "callback_id": cb_id}


def check_score(score) -> int:
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 9:
        raise Invalid("invalid_score", "score must be an integer from 1 to 9")
    return score


def check_comment(comment) -> str | None:
    if comment is not None and (not isinstance(comment, str) or len(comment) > 1000):
        raise Invalid("invalid_comment", "comment must be text of at most 1000 characters")
    return comment


async def rate(deps, conversation_id: str, score: int, comment: str | None) -> dict:
    """The citizen's rating (checked: check_score, check_comment)."""
    async with deps.sessionmaker() as session:
        async with session.begin():
            conv = await session.get(Conversation, conversation_id)
            if conv is None:
                raise not_found("conversation")
            if conv.close_reason != "agent_closed":
                raise Conflict("rating_not_requested", "a chat can be rated after an agent has closed it")
            if await session.scalar(select(Rating.id).where(Rating.conversation_id == conversation_id)):
                raise Conflict("already_rated", "this chat has already been rated")
            session.add(Rating(conversation_id=conversation_id, score=score,
                               comment=mask_personal_data(comment.strip()) if comment else None))
            # The conversation is closed, so the thank-you is an event, not a stored message.
            language = conv.language
    await deps.bus.publish(conv_channel(conversation_id), {"type": "notice", "text": i18n.text("rating_thanks", language)})
    return {"status": "rated", "score": score}


async def record_timeout(deps, conversation_id: str, reason: str, *, expect_modes: tuple[str, ...], idle_seconds: int) -> bool:
    """Time a citizen out once. Queued/bot conversations close; agent chats stay with the agent to tag.

    The conditional update makes this safe when several instances sweep at once.
    """
    now = utcnow()
    async with unit_of_work(deps) as uow:
        session = uow.session
        conv = await session.get(Conversation, conversation_id)
        if conv is None or conv.mode not in expect_modes or conv.timed_out_at is not None:
            return False
        res = await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.mode == conv.mode, Conversation.timed_out_at.is_(None))
            .values(timed_out_at=now)
        )
        if res.rowcount != 1:
            return False
        mode_before = conv.mode
        session.add(Timeout(conversation_id=conversation_id, reason=reason, mode=mode_before, idle_seconds=idle_seconds))
        msg, _ = await append_message(session, conversation_id, "system", i18n.text("timeout_inactive", conv.language),
                                      payload={"timeout": reason})
        queue_name = None
        esc = await queue_svc.open_escalation(session, conversation_id)
        if mode_before in (MODE_BOT, MODE_QUEUED):
            if esc is not None and esc.status == ESC_WAITING:
                esc.status = ESC_ABANDONED
                esc.ended_at = now
                queue_name = esc.queue_name
            await session.execute(
                update(Conversation).where(Conversation.id == conversation_id)
                .values(mode=MODE_CLOSED, close_reason=reason, closed_at=now)
            )
        agent_id = esc.assigned_agent_id if esc is not None and mode_before == MODE_AGENT else None
        uow.record(MessageStored(msg), TimedOut(conversation_id=conversation_id, reason=reason, mode_before=mode_before,
                                                agent_id=agent_id, abandoned_queue=queue_name))
    return True


async def leave(deps, conversation_id: str) -> dict:
    ok = await record_timeout(deps, conversation_id, "citizen_closed",
                              expect_modes=(MODE_BOT, MODE_QUEUED, MODE_AGENT), idle_seconds=0)
    return {"status": "left" if ok else "unchanged"}


async def sweep_timeouts(deps) -> int:
    """Find silent or vanished citizens and time them out with the reason."""
    s = deps.settings
    now = utcnow()
    inactive_cutoff = now - dt.timedelta(seconds=s.citizen_inactivity_seconds)
    gone_cutoff = now - dt.timedelta(seconds=s.citizen_leave_grace_seconds)
    async with deps.sessionmaker() as session:
        gone = (await session.execute(
            select(Conversation.id, Conversation.citizen_seen_at).where(
                Conversation.mode.in_((MODE_BOT, MODE_QUEUED, MODE_AGENT)),
                Conversation.timed_out_at.is_(None),
                Conversation.citizen_seen_at < gone_cutoff,
            ).limit(500)
        )).all()
        # Waiting in the queue is not inactivity; only bot and agent chats count silence.
        silent = (await session.execute(
            select(Conversation.id, Conversation.last_message_at).where(
                Conversation.mode.in_((MODE_BOT, MODE_AGENT)),
                Conversation.timed_out_at.is_(None),
                Conversation.last_message_at < inactive_cutoff,
                Conversation.citizen_seen_at >= gone_cutoff,
            ).limit(500)
        )).all()
    count = 0
    for cid, seen in gone:
        count += await record_timeout(deps, cid, "citizen_left", expect_modes=(MODE_BOT, MODE_QUEUED, MODE_AGENT),
                                      idle_seconds=int((now - seen).total_seconds()))
    for cid, last in silent:
        count += await record_timeout(deps, cid, "citizen_inactive", expect_modes=(MODE_BOT, MODE_AGENT),
                                      idle_seconds=int((now - last).total_seconds()))
    return count


async def conversation_state(deps, conversation_id: str) -> dict:
    async with deps.sessionmaker() as session:
        conv = await session.get(Conversation, conversation_id)
        if conv is None:
            raise not_found("conversation")
        state = {
            "conversation_id": conv.id,
            "mode": conv.mode,
            "language": conv.language,
            "municipality": conv.municipality,
            "last_seq": conv.last_seq,
            "close_reason": conv.close_reason,
            "queue": None,
            "rating_requested": False,
        }
        esc = await queue_svc.open_escalation(session, conversation_id)
        if esc is not None and esc.status == ESC_WAITING:
            state["queue"] = await queue_svc.queue_snapshot(deps, session, esc)
        if conv.close_reason == "agent_closed":
            rated = await session.scalar(select(Rating.id).where(Rating.conversation_id == conversation_id))
            state["rating_requested"] = rated is None
    return state


async def citizen_typing(deps, conversation_id: str) -> None:
    await deps.bus.publish(conv_channel(conversation_id), {"type": "typing", "conversation_id": conversation_id, "sender": "citizen"})

