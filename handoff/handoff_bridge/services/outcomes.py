"""What a conversation shows: its outcome for the insight reports.

`classify` reads one conversation's messages (in order) and whether it was
escalated, and decides whether the assistant resolved it alone:

* an answer was given: a bot turn about a topic that is neither a fallback
  nor conversation mechanics (greetings, yes/no, "talk to a person");
* the answer was not rejected: "did it help?" was not answered no;
* no repeated question: no answered topic came back in a later turn;
* no abandoned clarification: the conversation did not end (closed) with the
  bot's clarifying question or identity request unanswered;
* no failed identity check;
* no escalation of any kind (queue, callback offer outside opening hours).

The bridge knows a bot turn's topic (what the assistant understood), its
buttons, and, when the assistant names it, the response it sent (message key
`response`). A "did it help?" question is a message with yes/no buttons
(/affirm and /deny); a clarification is a turn about `nlu_fallback`; identity
requests and failures are recognised by the responses that name them.

`classify` also finds the citizen messages the assistant did not answer well,
for the editors' review inbox (services/review_inbox.py): no answer fitted (a
fallback topic, or the knowledge base's "no answer" responses), a clarifying
question, an answer the citizen said did not help (the question it answered),
and an escalation because the bot fell short (`BOT_FELL_SHORT_REASONS`; a
citizen who asks for a person right away is not a failure of the content).

`refresh` keeps the conversation_outcomes and unanswered_questions tables up
to date: it recomputes every conversation whose last message or mode changed
since its row was written, and adds the conversation's new inbox items (never
changing or removing one already captured). It runs in the background and
before each report, never on the citizen-message path.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from ..config_files import route
from ..privacy import mask_personal_data
from ..db.models import (
    INBOX_OPEN,
    MODE_CLOSED,
    Conversation,
    ConversationOutcome,
    Escalation,
    InboxItem,
    Message,
    UnansweredQuestion,
    utcnow,
)

log = logging.getLogger("handoff.outcomes")

# Conversation mechanics: a turn about these is not an answer to a question.
DIALOGUE_TOPICS = frozenset({
    "greet", "goodbye", "thank_you", "affirm", "deny", "bot_challenge", "request_human",
})
HELPFUL_YES_TOPIC = "affirm"
HELPFUL_NO_TOPIC = "deny"
HELPFUL_BUTTONS = frozenset({"/affirm", "/deny"})
# Turns in which the assistant asks the citizen to rephrase or to choose
# among likely answers (a knowledge-base close call reports this topic).
CLARIFYING_TOPICS = frozenset({"nlu_fallback", "knowledge_question"})
# Responses (content keys or domain responses) the assistant may name on a message.
HELPFUL_QUESTION_RESPONSES = frozenset({"utter_ask_helpful"})
CLARIFYING_RESPONSES = frozenset({
    "ask_rephrase", "ask_rephrase_with_suggestions", "offer_human_after_fallback", "knowledge_did_you_mean",
})
# The knowledge base found no answer that fits (its turn's topic is out_of_scope).
NO_ANSWER_RESPONSES = frozenset({"knowledge_no_answer", "knowledge_no_answer_with_site"})
IDENTITY_REQUEST_RESPONSES = frozenset({"ask_national_id", "national_id_attempts_left", "national_id_attempts_left_plural"})
IDENTITY_FAILED_RESPONSES = frozenset({
    "national_id_rejected", "national_id_exhausted", "national_id_lost", "login_not_confirmed",
})

# Why a conversation is not resolved, in the order they are checked; the
# first that applies is the conversation's outcome.
OUTCOMES = (
    "escalated",
    "identity_failed",
    "not_helpful",
    "abandoned_clarification",
    "repeated_question",
    "unanswered",
    "resolved",
)
# Escalation reasons (services/queue.REASONS) that mean the assistant fell short;
# "citizen_request" (asked for a person right away) and "system_unavailable"
# (a technical failure) are not about the content.
BOT_FELL_SHORT_REASONS = frozenset({"repeated_fallback", "not_helpful"})
# Review inbox kinds, in the order a message is classified (the first found stays).
REVIEW_NO_ANSWER = "no_answer"
REVIEW_CLARIFICATION = "clarification"
REVIEW_NOT_HELPFUL = "not_helpful"
REVIEW_ESCALATION = "escalation"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIMEZONES = {"da": "Europe/Copenhagen", "sv": "Europe/Stockholm"}
BATCH = 1000
MAX_QUESTION_CHARS = 500
_SPACE = re.compile(r"\s+")


@dataclass
class MessageFacts:
    seq: int
    sender: str
    text: str | None
    payload: dict | None
    topic: str | None
    created_at: dt.datetime


@dataclass
class Outcome:
    topic: str | None = None
    citizen_messages: int = 0
    answered: bool = False
    fallback_turns: int = 0
    helpful_yes: int = 0
    helpful_no: int = 0
    repeated_question: bool = False
    abandoned_clarification: bool = False
    identity_failed: bool = False
    escalated: bool = False
    # (seq, created_at, fallback topic, masked text) of questions the bot fell back on.
    unanswered: list[tuple[int, dt.datetime, str, str]] = field(default_factory=list)
    # (seq, created_at, review kind, masked text as written) for the review inbox, one per message.
    review: list[tuple[int, dt.datetime, str, str]] = field(default_factory=list)

    def add_review(self, question: MessageFacts | None, kind: str) -> None:
        if question is None or any(seq == question.seq for seq, *_ in self.review):
            return
        self.review.append((question.seq, question.created_at, kind, inbox_text(question.text)))

    @property
    def outcome(self) -> str:
        checks = {
            "escalated": self.escalated,
            "identity_failed": self.identity_failed,
            "not_helpful": self.helpful_no > 0,
            "abandoned_clarification": self.abandoned_clarification,
            "repeated_question": self.repeated_question,
            "unanswered": not self.answered,
        }
        return next((name for name, failed in checks.items() if failed), "resolved")

    @property
    def resolved(self) -> bool:
        return self.outcome == "resolved"


def question_key(text: str | None) -> str:
    return _SPACE.sub(" ", (text or "").strip().lower())[:MAX_QUESTION_CHARS]


def inbox_text(text: str | None) -> str:
    """The question as the citizen wrote it, spaces collapsed, masked (again: stored
    texts are masked already) and cut to the column's size."""
    return (mask_personal_data(_SPACE.sub(" ", (text or "").strip())) or "")[:MAX_QUESTION_CHARS]


def _is_question(m: MessageFacts) -> bool:
    """A citizen message written as text: not a button's payload."""
    if m.sender != "citizen" or not (m.text or "").strip():
        return False
    payload = (m.payload or {}).get("payload")
    return not (isinstance(payload, str) and payload)


def _response(m: MessageFacts) -> str | None:
    value = (m.payload or {}).get("response")
    return value if isinstance(value, str) else None


def _asks_helpful(m: MessageFacts) -> bool:
    if _response(m) in HELPFUL_QUESTION_RESPONSES:
        return True
    buttons = (m.payload or {}).get("buttons") or []
    payloads = {b.get("payload") for b in buttons if isinstance(b, dict)}
    return HELPFUL_BUTTONS <= payloads


def classify(messages: list[MessageFacts], *, escalated: bool, closed: bool, fallback_topics,
             escalations: list[tuple[str, dt.datetime]] = ()) -> Outcome:
    """The outcome of one conversation from its messages in sequence order.
    `escalations`: (reason, created_at) of its queue entries, for the review inbox."""
    fallback_topics = frozenset(fallback_topics)
    out = Outcome(escalated=escalated)
    questions: list[MessageFacts] = []  # the citizen's written questions, in order
    handled: list[MessageFacts] = []  # those the assistant answered (not those written to an agent)
    answered_question: MessageFacts | None = None  # the question the latest answer was about
    first_topic = None
    answered_topics: set[str] = set()
    previous: MessageFacts | None = None
    helpful_asked = False  # the latest bot turn asked "did it help?"
    waiting_on_citizen = False  # the latest bot message asks for a rephrase or an identity number
    identity_asked = False  # the latest bot turn asked for an identity number
    for m in messages:
        if m.sender == "citizen":
            out.citizen_messages += 1
            waiting_on_citizen = False
            if _is_question(m) and not identity_asked:
                questions.append(m)
        elif m.sender == "bot":
            response = _response(m)
            turn_start = previous is None or previous.sender != "bot"
            if turn_start:
                topic = m.topic
                first_topic = first_topic or topic
                asked = previous if previous is not None and previous.sender == "citizen" and questions \
                    and questions[-1] is previous else None
                if asked is not None and topic in DIALOGUE_TOPICS and topic not in fallback_topics:
                    # A greeting, thanks, yes/no or "a person, please": conversation mechanics, not a question.
                    questions.pop()
                    asked = None
                if asked is not None:
                    handled.append(asked)
                if identity_asked:
                    # The reply to an identity request is form input (a masked number),
                    # not a question: whatever NLU made of it is neither a fallback nor a repeat.
                    pass
                elif helpful_asked and topic in (HELPFUL_YES_TOPIC, HELPFUL_NO_TOPIC):
                    out.helpful_yes += topic == HELPFUL_YES_TOPIC
                    out.helpful_no += topic == HELPFUL_NO_TOPIC
                    if topic == HELPFUL_NO_TOPIC:
                        out.add_review(answered_question, REVIEW_NOT_HELPFUL)
                elif topic in fallback_topics or response in NO_ANSWER_RESPONSES:
                    out.fallback_turns += 1
                    if previous is not None and previous.sender == "citizen" and previous.text:
                        out.unanswered.append((previous.seq, previous.created_at,
                                               topic if topic in fallback_topics else response,
                                               question_key(previous.text)))
                    out.add_review(asked, REVIEW_CLARIFICATION if response in CLARIFYING_RESPONSES
                                   else REVIEW_NO_ANSWER)
                elif topic in CLARIFYING_TOPICS:
                    # "Did you mean…": no answer yet, the citizen's choice is the next turn
                    if response is None or response in CLARIFYING_RESPONSES:
                        out.add_review(asked, REVIEW_CLARIFICATION)
                elif topic and topic not in DIALOGUE_TOPICS:
                    if topic in answered_topics:
                        out.repeated_question = True
                    answered_topics.add(topic)
                    out.answered = True
                    out.topic = out.topic or topic
                    answered_question = asked or answered_question
                helpful_asked = False
                identity_asked = False
            if response in IDENTITY_REQUEST_RESPONSES:
                identity_asked = True
            if _asks_helpful(m):
                helpful_asked = True
            if response in IDENTITY_FAILED_RESPONSES:
                out.identity_failed = True
            waiting_on_citizen = (
                response in CLARIFYING_RESPONSES
                or response in IDENTITY_REQUEST_RESPONSES
                or (response is None and m.topic in CLARIFYING_TOPICS)
            )
        previous = m
    out.topic = out.topic or first_topic
    out.abandoned_clarification = closed and waiting_on_citizen
    for reason, at in escalations:
        if reason in BOT_FELL_SHORT_REASONS:
            # The last question the assistant handled before the escalation (clocks of the
            # bridge's instances may differ a little: else the last it handled at all).
            before = [q for q in handled if q.created_at <= at]
            out.add_review(before[-1] if before else (handled[-1] if handled else None), REVIEW_ESCALATION)
    return out


def local_start(deps, language: str, municipality: str, started_at: dt.datetime) -> tuple[int, int, bool]:
    """Weekday (0 = Monday) and hour of the start in the serving queue's time zone,
    and whether that queue was open then."""
    queue = route(list(deps.queues.values()), language, municipality)
    tz = ZoneInfo(queue.timezone if queue else DEFAULT_TIMEZONES.get(language, "Europe/Copenhagen"))
    local = started_at.astimezone(tz)
    return local.weekday(), local.hour, bool(queue and queue.is_open(started_at))


# Message and escalation ids are allocated before commit, so a row may become
# visible after a later id; every refresh looks this far behind its watermark.
WATERMARK_SLACK = 500


def _stale(candidates=None):
    """Conversations whose outcome row is missing or older than their last message or mode."""
    query = (
        select(Conversation.id)
        .outerjoin(ConversationOutcome, ConversationOutcome.conversation_id == Conversation.id)
        .where(
            Conversation.last_seq > 0,
            or_(
                ConversationOutcome.conversation_id.is_(None),
                ConversationOutcome.source_seq != Conversation.last_seq,
                ConversationOutcome.source_mode != Conversation.mode,
            ),
        )
    )
    if candidates is not None:
        query = query.where(Conversation.id.in_(candidates))
    return query.limit(BATCH)


async def _watermarks(session) -> tuple[int, int]:
    return (int(await session.scalar(select(func.coalesce(func.max(Message.id), 0))) or 0),
            int(await session.scalar(select(func.coalesce(func.max(Escalation.id), 0))) or 0))


async def refresh(deps, max_batches: int | None = None, *, full: bool = False) -> int:
    """Recompute the outcome of every changed conversation; returns how many.

    The first refresh of a process (and `full`) compares every conversation
    with its outcome row; later ones only look at conversations with messages
    or escalations newer than the previous refresh saw, through the primary
    keys, so a report pays almost nothing when little has changed."""
    total = 0
    batches = 0
    async with deps.sessionmaker() as session:
        marks = await _watermarks(session)
    previous = getattr(deps, "outcome_watermarks", None)
    candidates = None
    if previous is not None and not full:
        async with deps.sessionmaker() as session:
            message_floor, escalation_floor = (max(0, m - WATERMARK_SLACK) for m in previous)
            candidates = set((await session.scalars(
                select(Message.conversation_id).where(Message.id > message_floor).distinct())).all())
            candidates |= set((await session.scalars(
                select(Escalation.conversation_id).where(Escalation.id > escalation_floor).distinct())).all())
        if not candidates:
            deps.outcome_watermarks = marks
            return 0
    while max_batches is None or batches < max_batches:
        batches += 1
        async with deps.sessionmaker() as session:
            if candidates is None:
                ids = list((await session.scalars(_stale())).all())
            else:
                ids = []
                pending = sorted(candidates)
                for i in range(0, len(pending), BATCH):
                    ids += (await session.scalars(_stale(pending[i:i + BATCH]))).all()
                    if len(ids) >= BATCH:
                        break
        if not ids:
            break
        try:
            total += await _recompute(deps, ids[:BATCH])
        except IntegrityError:
            # Another instance wrote the same rows first; theirs are as good.
            log.debug("outcome rows written concurrently; skipped a batch")
    deps.outcome_watermarks = marks
    return total


async def _recompute(deps, ids: list[str]) -> int:
    fallback_topics = deps.settings.fallback_topics
    now = utcnow()
    async with deps.sessionmaker() as session:
        async with session.begin():
            convs = (await session.execute(
                select(Conversation.id, Conversation.municipality, Conversation.language, Conversation.created_at,
                       Conversation.last_seq, Conversation.mode)
                .where(Conversation.id.in_(ids))
            )).all()
            rows = (await session.execute(
                select(Message.conversation_id, Message.seq, Message.sender, Message.text, Message.payload,
                       Message.topic, Message.created_at)
                .where(Message.conversation_id.in_(ids), Message.sender.in_(("citizen", "bot")))
                .order_by(Message.conversation_id, Message.seq)
            )).all()
            escalations: dict[str, list[tuple[str, dt.datetime]]] = {}
            for cid, reason, created in (await session.execute(
                select(Escalation.conversation_id, Escalation.reason, Escalation.created_at)
                .where(Escalation.conversation_id.in_(ids)).order_by(Escalation.id)
            )).all():
                escalations.setdefault(cid, []).append((reason, created))
            escalated = set(escalations)
            by_conversation: dict[str, list[MessageFacts]] = {}
            for cid, seq, sender, text, payload, topic, created in rows:
                by_conversation.setdefault(cid, []).append(MessageFacts(seq, sender, text, payload, topic, created))
            outcome_rows = []
            question_rows = []
            inbox_rows = []
            for cid, municipality, language, created, last_seq, mode in convs:
                o = classify(by_conversation.get(cid, []), escalated=cid in escalated, closed=mode == MODE_CLOSED,
                             fallback_topics=fallback_topics, escalations=escalations.get(cid, ()))
                weekday, hour, in_hours = local_start(deps, language, municipality, created)
                outcome_rows.append({
                    "conversation_id": cid, "municipality": municipality, "language": language,
                    "started_at": created, "local_weekday": weekday, "local_hour": hour,
                    "in_opening_hours": in_hours, "topic": o.topic, "citizen_messages": o.citizen_messages,
                    "answered": o.answered, "fallback_turns": o.fallback_turns, "helpful_yes": o.helpful_yes,
                    "helpful_no": o.helpful_no, "repeated_question": o.repeated_question,
                    "abandoned_clarification": o.abandoned_clarification, "identity_failed": o.identity_failed,
                    "escalated": o.escalated, "resolved": o.resolved, "outcome": o.outcome,
                    "source_seq": last_seq, "source_mode": mode, "computed_at": now,
                })
                for seq, asked, topic, question in o.unanswered:
                    question_rows.append({
                        "conversation_id": cid, "seq": seq, "asked_at": asked, "municipality": municipality,
                        "language": language, "fallback_topic": topic, "question": question,
                    })
                for seq, asked, kind, question in o.review:
                    if question:
                        inbox_rows.append({
                            "conversation_id": cid, "seq": seq, "asked_at": asked, "municipality": municipality,
                            "language": language, "kind": kind, "question": question, "status": INBOX_OPEN,
                            "created_at": now, "updated_at": now,
                        })
            found = [r[0] for r in convs]
            await session.execute(delete(UnansweredQuestion).where(UnansweredQuestion.conversation_id.in_(found)))
            await session.execute(delete(ConversationOutcome).where(ConversationOutcome.conversation_id.in_(found)))
            if outcome_rows:
                await session.execute(insert(ConversationOutcome), outcome_rows)
            if question_rows:
                await session.execute(insert(UnansweredQuestion), question_rows)
            if inbox_rows:
                # Captured once per message: an item already in the inbox keeps its kind and status.
                dialect_insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
                for i in range(0, len(inbox_rows), BATCH):
                    await session.execute(
                        dialect_insert(InboxItem).on_conflict_do_nothing(index_elements=["conversation_id", "seq"]),
                        inbox_rows[i:i + BATCH])
    return len(outcome_rows)


async def refresh_loop(deps, interval: float = 60.0, full_every: int = 10) -> None:
    """Keeps outcomes current on a running instance, so a report only has the
    last minute's conversations left to compute. Every `full_every`-th run
    compares every conversation with its row (a full scan); the others only
    look at what is new since the previous run. After each refresh, the review
    inbox's new items are embedded."""
    from . import review_inbox

    runs = 0
    while True:
        try:
            await refresh(deps, full=runs % full_every == 0)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - try again next interval
            log.exception("refreshing conversation outcomes failed")
        try:
            # The review inbox's new items get their sentence embeddings (bounded per run).
            await review_inbox.embed_pending(deps)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - try again next interval
            log.exception("embedding review inbox items failed")
        runs += 1
        await asyncio.sleep(interval)
