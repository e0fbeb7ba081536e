"""Database tables of the bridge. Alembic migrations mirror this module."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names so migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY, not BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


# Ids, sequence numbers and counts are 32-bit integer columns (on SQLite too, by
# this schema's intent): the API refuses larger values before they reach a query.
INT32_MAX = 2**31 - 1


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(dt.timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


# Conversation modes.
MODE_BOT = "bot"
MODE_QUEUED = "queued"
MODE_AGENT = "agent"
MODE_CLOSED = "closed"

# Escalation states. "waiting" and "assigned" are the open ones.
ESC_WAITING = "waiting"
ESC_ASSIGNED = "assigned"
ESC_DONE = "done"
ESC_CALLBACK = "callback"
ESC_CLOSED_HOURS = "closed_hours"
ESC_ABANDONED = "abandoned"
OPEN_ESCALATION_STATES = (ESC_WAITING, ESC_ASSIGNED)


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    municipality: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2))
    mode: Mapped[str] = mapped_column(String(16), default=MODE_BOT)
    # Last allocated message sequence number; bumped atomically per message.
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    consecutive_fallbacks: Mapped[int] = mapped_column(Integer, default=0)
    close_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[dt.datetime | None]
    # Last message from the citizen, and last sign of life (any frame/poll).
    citizen_active_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    citizen_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Last message of anyone; inactivity counts from here.
    last_message_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Set when a timeout was recorded; cleared when the citizen writes again.
    timed_out_at: Mapped[dt.datetime | None]

    __table_args__ = (
        CheckConstraint("mode IN ('bot','queued','agent','closed')", name="mode"),
        CheckConstraint("language IN ('da','sv')", name="language"),
        Index("ix_conversations_mode_seen", "mode", "citizen_seen_at"),
    )


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(8))
    # Text with personal numbers masked; never the raw citizen input.
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None]
    topic: Mapped[str | None] = mapped_column(String(128))
    confidence: Mapped[float | None] = mapped_column(Float)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    # Client-chosen id so a resent message (lost ack) is stored once.
    client_msg_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        UniqueConstraint("conversation_id", "client_msg_id", name="uq_messages_conversation_client_msg"),
        CheckConstraint("sender IN ('citizen','bot','agent','system')", name="sender"),
    )


class Queue(Base):
    """Mirror of config/queues.yml, refreshed at start-up so every instance agrees."""

    __tablename__ = "queues"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(2))
    municipalities: Mapped[list[Any]] = mapped_column(JSON)
    timezone: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Opening hours, holidays, callback and estimate parameters.
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(128), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    status: Mapped[str] = mapped_column(String(16), default="offline")
    capacity: Mapped[int] = mapped_column(Integer, default=3)
    languages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    municipalities: Mapped[list[Any]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_seen_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("role IN ('agent','supervisor','editor')", name="role"),
        CheckConstraint("status IN ('available','busy','away','offline')", name="status"),
        CheckConstraint("capacity >= 0 AND capacity <= 20", name="capacity"),
    )


class AgentSession(Base):
    __tablename__ = "agent_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]


class Escalation(Base):
    """A queue entry: one request for a person, from enqueue to its end."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    queue_name: Mapped[str] = mapped_column(ForeignKey("queues.name"))
    reason: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str | None] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(128))
    confidence: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default=ESC_WAITING)
    # FCFS key; kept on transfer so a transferred citizen does not lose their turn.
    enqueued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    assigned_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    callback_offered_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # At most one open escalation per conversation, enforced by the database.
        Index(
            "uq_escalations_open_per_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text("status IN ('waiting','assigned')"),
            postgresql_where=text("status IN ('waiting','assigned')"),
        ),
        Index("ix_escalations_queue_status_enqueued", "queue_name", "status", "enqueued_at", "id"),
    )


class Claim(Base):
    """An agent's hold on a conversation, from claim to close/transfer/hand-back."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        # Never two agents on one chat: one active claim per conversation.
        Index(
            "uq_claims_active_per_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index("ix_claims_agent_active", "agent_id", "ended_at"),
    )


class Tag(Base):
    __tablename__ = "tags"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Closure(Base):
    __tablename__ = "closures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ClosureTag(Base):
    __tablename__ = "closure_tags"

    closure_id: Mapped[int] = mapped_column(ForeignKey("closures.id", ondelete="CASCADE"), primary_key=True)
    tag_code: Mapped[str] = mapped_column(ForeignKey("tags.code"), primary_key=True)


class Rating(Base):
    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 9", name="score"),)


class CallbackRequest(Base):
    __tablename__ = "callback_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    queue_name: Mapped[str] = mapped_column(ForeignKey("queues.name"))
    language: Mapped[str] = mapped_column(String(2))
    municipality: Mapped[str] = mapped_column(String(64))
    # Fernet token; only decrypted for authenticated agents.
    phone_encrypted: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("status IN ('open','in_progress','done')", name="status"),
        Index("ix_callback_requests_status_created", "status", "created_at"),
    )


class CannedResponse(Base):
    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    language: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Timeout(Base):
    __tablename__ = "timeouts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(16))
    idle_seconds: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who accessed which conversation, when, and how. No message content: entries
    stay when the conversation itself is deleted (retention or the citizen)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # No foreign key: the entry outlives the conversation.
    conversation_id: Mapped[str] = mapped_column(String(32))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_login: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any] | None]

    __table_args__ = (
        CheckConstraint("actor_type IN ('agent','supervisor','citizen','system')", name="actor_type"),
        Index("ix_audit_log_conversation_created", "conversation_id", "created_at"),
        Index("ix_audit_log_created", "created_at"),
    )


class RasaDeletion(Base):
    """A deleted conversation whose Rasa tracker still has to be deleted; retried
    by every retention run until Rasa answers 204 or 404."""

    __tablename__ = "rasa_deletions"

    conversation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(64))


class LoginThrottle(Base):
    """Failed agent logins per login name and per client address (both stored as
    SHA-256), shared by every instance through the database."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[dt.datetime]
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]


class ConversationOutcome(Base):
    """What one conversation shows, for the insight reports (services/insight.py).

    Derived from the conversation's messages and escalations by the insight
    refresher, off the citizen-message path; recomputed whenever the
    conversation has new messages or changes mode. Deleted with it."""

    __tablename__ = "conversation_outcomes"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    municipality: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2))
    started_at: Mapped[dt.datetime]
    # Start in the serving queue's time zone, and whether that queue was open then.
    local_weekday: Mapped[int] = mapped_column(Integer)
    local_hour: Mapped[int] = mapped_column(Integer)
    in_opening_hours: Mapped[bool] = mapped_column(Boolean)
    # The first topic the assistant answered; else the first topic it saw.
    topic: Mapped[str | None] = mapped_column(String(128))
    citizen_messages: Mapped[int] = mapped_column(Integer)
    answered: Mapped[bool] = mapped_column(Boolean)
    fallback_turns: Mapped[int] = mapped_column(Integer)
    helpful_yes: Mapped[int] = mapped_column(Integer)
    helpful_no: Mapped[int] = mapped_column(Integer)
    repeated_question: Mapped[bool] = mapped_column(Boolean)
    abandoned_clarification: Mapped[bool] = mapped_column(Boolean)
    identity_failed: Mapped[bool] = mapped_column(Boolean)
    escalated: Mapped[bool] = mapped_column(Boolean)
    resolved: Mapped[bool] = mapped_column(Boolean)
    # The first reason it is not resolved (or "resolved"); see insight.OUTCOMES.
    outcome: Mapped[str] = mapped_column(String(32))
    # The conversation's state when this row was computed.
    source_seq: Mapped[int] = mapped_column(Integer)
    source_mode: Mapped[str] = mapped_column(String(16))
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_conversation_outcomes_started", "started_at"),
        Index("ix_conversation_outcomes_municipality_started", "municipality", "started_at"),
        Index("ix_conversation_outcomes_topic_started", "topic", "started_at"),
    )


class UnansweredQuestion(Base):
    """A citizen message the assistant fell back on (masked, as stored in messages),
    kept by the insight refresher so the biggest gaps are counted without
    scanning every message."""

    __tablename__ = "unanswered_questions"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    asked_at: Mapped[dt.datetime]
    municipality: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2))
    # The fallback the assistant answered with (nlu_fallback, out_of_scope, ...).
    fallback_topic: Mapped[str] = mapped_column(String(128))
    # Lower-cased, whitespace-collapsed masked text: the grouping key.
    question: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_unanswered_questions_asked", "asked_at"),)


# --- knowledge-base content (services/answers.py) -------------------------------------------
# The working content of the knowledge base: the repository's knowledge/*.yml
# are imported into these tables and published content is exported back
# (`knowledge-import`, `knowledge-export`), so git keeps reviewing it.

ANSWER_ID_LENGTH = 80
PUBLICATION_KINDS = ("import", "publish", "rollback")


class KbCategory(Base):
    """One knowledge/<category>.yml: its name, attribution and leading comment lines."""

    __tablename__ = "kb_categories"

    category: Mapped[str] = mapped_column(String(ANSWER_ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # The comment lines above the content, written back unchanged on export.
    header: Mapped[str] = mapped_column(Text, default="")
    attribution: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class KbRevision(Base):
    """One published state of one answer (the answer as its category file holds it)."""

    __tablename__ = "kb_revisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # No foreign key: the answer row points here (published_revision_id).
    answer_id: Mapped[str] = mapped_column(String(ANSWER_ID_LENGTH))
    # 1, 2, 3 ... per answer.
    number: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(ANSWER_ID_LENGTH))
    # {"id", "source", "last_verified", "da": {...}, "sv": {...}} as in the YAML file.
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    publication_id: Mapped[int | None] = mapped_column(ForeignKey("kb_publications.id"))
    # The revision this one restores (a rollback), if any.
    restores_revision_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))

    __table_args__ = (
        UniqueConstraint("answer_id", "number", name="uq_kb_revisions_answer_number"),
        Index("ix_kb_revisions_publication", "publication_id"),
    )


class KbAnswer(Base):
    """An answer of the knowledge base: its published revision and its draft."""

    __tablename__ = "kb_answers"

    id: Mapped[str] = mapped_column(String(ANSWER_ID_LENGTH), primary_key=True)
    # The published category (None until the answer is first published).
    category: Mapped[str | None] = mapped_column(ForeignKey("kb_categories.category"))
    # Order inside its category file.
    position: Mapped[int] = mapped_column(Integer, default=0)
    published_revision_id: Mapped[int | None] = mapped_column(ForeignKey("kb_revisions.id"))
    # The editors' working copy (same shape as a revision's document plus "category"),
    # None when there is no change waiting. It need not be valid until it is published.
    draft: Mapped[dict[str, Any] | None]
    # Bumped on every save: a save based on an older version is refused (two editors).
    draft_version: Mapped[int] = mapped_column(Integer, default=0)
    draft_updated_at: Mapped[dt.datetime | None]
    draft_updated_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class KbPublication(Base):
    """One change of the live content: an import, a publish or a rollback."""

    __tablename__ = "kb_publications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    # The publication directory's version (var/knowledge/versions/<version>).
    version: Mapped[str | None] = mapped_column(String(128))
    # Answer ids changed by this publication.
    changed: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The publish gate's result: counts, and the regressions the editor accepted.
    gate: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_by_login: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (
        CheckConstraint("kind IN ('import','publish','rollback')", name="kind"),
        Index("ix_kb_publications_created", "created_at"),
    )


class KbRegressionQuestion(Base):
    """Every reviewed question ever attached to an answer: the publish gate's regression set.
    Masked like every citizen text."""

    __tablename__ = "kb_regression_questions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    answer_id: Mapped[str] = mapped_column(String(ANSWER_ID_LENGTH))
    language: Mapped[str] = mapped_column(String(2))
    question: Mapped[str] = mapped_column(Text)
    # SHA-256 of the case-folded question: one row per answer, language and question.
    question_hash: Mapped[str] = mapped_column(String(64))
    # Where it came from: "inbox" (a reviewed group), "editor" (typed as an example).
    source: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))

    __table_args__ = (
        UniqueConstraint("answer_id", "language", "question_hash", name="uq_kb_regression_questions_question"),
        CheckConstraint("language IN ('da','sv')", name="language"),
    )


class KbSupportFile(Base):
    """Files of the content directory the editor does not edit (knowledge/municipalities.yml,
    knowledge/calibration/*.txt), kept verbatim so publish and export have the whole base."""

    __tablename__ = "kb_support_files"

    path: Mapped[str] = mapped_column(String(200), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class KbPublishLock(Base):
    """One row: the bridge instance publishing now, until expires_at (a lease, so a
    crashed instance does not block publishing for ever)."""

    __tablename__ = "kb_publish_lock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    acquired_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]


class EditorAuditEntry(Base):
    """What editors did to content and to the review inbox (services/audit.py, EDITOR_ACTIONS).
    Holds masked questions at most, never a conversation's messages."""

    __tablename__ = "editor_audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_login: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    # What it was done to: "answer:<id>", "publication:<id>", "group:<id>", ...
    subject: Mapped[str] = mapped_column(String(160))
    detail: Mapped[dict[str, Any] | None]

    __table_args__ = (
        CheckConstraint("actor_type IN ('editor','system')", name="actor_type"),
        Index("ix_editor_audit_log_subject_created", "subject", "created_at"),
        Index("ix_editor_audit_log_created", "created_at"),
    )


# Review inbox (services/review_inbox.py): why a citizen message is in it, and
# what has become of it. An item is never deleted by an action; it leaves with
# its conversation (retention, the citizen's deletion).
INBOX_KINDS = ("no_answer", "clarification", "not_helpful", "escalation")
INBOX_OPEN = "open"
INBOX_ATTACHED = "attached"
INBOX_DRAFTED = "drafted"
INBOX_DISMISSED = "dismissed"
INBOX_STATUSES = (INBOX_OPEN, INBOX_ATTACHED, INBOX_DRAFTED, INBOX_DISMISSED)


class InboxAction(Base):
    """What an editor did with a group of inbox items. Holds no citizen text:
    the dismissal note is the editor's own, masked like everything else."""

    __tablename__ = "inbox_actions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(16))
    # The group's identity as the editor saw it (services/review_inbox.group_id).
    group_id: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(2))
    answer_id: Mapped[str | None] = mapped_column(String(128))
    draft_id: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    items: Mapped[int] = mapped_column(Integer)
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    editor_login: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("action IN ('attach','new_answer','dismiss')", name="action"),
        Index("ix_inbox_actions_created", "created_at"),
    )


class InboxItem(Base):
    """A citizen message the assistant did not answer well, masked as stored in
    messages, with its sentence embedding for grouping by meaning."""

    __tablename__ = "inbox_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    # The citizen message's sequence number: one item per message, so capture is idempotent.
    seq: Mapped[int] = mapped_column(Integer)
    asked_at: Mapped[dt.datetime]
    municipality: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(16))
    # Masked, whitespace-collapsed text as the citizen wrote it (at most 500 characters).
    question: Mapped[str] = mapped_column(Text)
    # multilingual-e5-small query vector, 384 float16 values (768 bytes); NULL until embedded.
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default=INBOX_OPEN)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_actions.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_inbox_items_conversation_seq"),
        CheckConstraint("kind IN ('no_answer','clarification','not_helpful','escalation')", name="kind"),
        CheckConstraint("status IN ('open','attached','drafted','dismissed')", name="status"),
        Index("ix_inbox_items_language_asked", "language", "asked_at"),
        # Items still to embed (a partial index: the refresher looks them up every run).
        Index("ix_inbox_items_unembedded", "id", sqlite_where=text("embedding IS NULL"),
              postgresql_where=text("embedding IS NULL")),
    )
