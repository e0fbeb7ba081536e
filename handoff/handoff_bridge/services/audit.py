"""Audit logs: every agent's and supervisor's access to a conversation, and
every editor's change to content or to the review inbox.

An entry says who (agent id, login and role), when, which conversation and
what they did (`ACTIONS`). It never holds message content, so entries are
kept when the conversation is deleted; they are deleted after
`audit_retention_days`. Supervisors export the entries of one conversation
as JSON or CSV (the citizen's right to know who read their conversation).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import delete, insert, select

from ..db.models import AuditEntry, EditorAuditEntry, utcnow

ACTIONS = {
    "preview": "read a waiting chat before claiming it",
    "view": "read the transcript of a chat they handle (supervisors: any chat)",
    "claim": "took the chat from the queue",
    "transfer": "transferred the chat",
    "close": "closed the chat",
    "handback": "handed the chat back to the assistant",
    "callback_take": "took a callback request (phone number shown)",
    "callback_complete": "completed a callback request",
    "export": "exported this audit log",
    "delete": "conversation deleted by the citizen",
    "purge": "conversation deleted by the retention job",
}
# Reading the same chat again within this window is one entry, not one per poll.
REPEAT_WINDOW = dt.timedelta(seconds=60)
CSV_FIELDS = ("id", "created_at", "conversation_id", "actor_type", "actor_id", "actor_login", "action", "detail")


def actor_of(agent) -> dict:
    return {"actor_type": agent.role, "actor_id": agent.id, "actor_login": agent.login}


async def record(deps, conversation_id: str, action: str, *, agent=None, actor_type: str | None = None,
                 detail: dict | None = None, conn=None) -> None:
    """Add an entry. `agent` is the acting Agent; otherwise actor_type is 'citizen' or 'system'.
    With `conn`, the entry is written in the caller's transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    row = {"conversation_id": conversation_id, "action": action, "detail": detail, "created_at": utcnow()}
    if agent is not None:
        row.update(actor_of(agent))
    else:
        row.update(actor_type=actor_type or "system", actor_id=None, actor_login=None)
    if conn is not None:
        await conn.execute(insert(AuditEntry), [row])
        return
    async with deps.engine.begin() as c:
        if action in ("view", "preview") and agent is not None:
            recent = await c.scalar(
                select(AuditEntry.id).where(
                    AuditEntry.conversation_id == conversation_id, AuditEntry.actor_id == agent.id,
                    AuditEntry.action == action, AuditEntry.created_at > row["created_at"] - REPEAT_WINDOW,
                ).limit(1))
            if recent is not None:
                return
        await c.execute(insert(AuditEntry), [row])


def entry_to_dict(e: AuditEntry) -> dict:
    return {
        "id": e.id, "created_at": e.created_at.isoformat(), "conversation_id": e.conversation_id,
        "actor_type": e.actor_type, "actor_id": e.actor_id, "actor_login": e.actor_login,
        "action": e.action, "detail": e.detail,
    }


async def entries_for(deps, conversation_id: str) -> list[dict]:
    async with deps.sessionmaker() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.conversation_id == conversation_id)
            .order_by(AuditEntry.created_at, AuditEntry.id).limit(100_000))
        return [entry_to_dict(e) for e in rows]


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        value = ";".join(f"{k}={v}" for k, v in sorted(value.items()))
    text = str(value)
    # A cell starting with = + - @ would be a formula in a spreadsheet.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def to_csv(entries: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for e in entries:
        writer.writerow([_csv_cell(e[f]) for f in CSV_FIELDS])
    return out.getvalue()


async def purge_old(deps, now: dt.datetime) -> int:
    cutoff = now - dt.timedelta(days=deps.settings.audit_retention_days)
    async with deps.engine.begin() as conn:
        res = await conn.execute(delete(AuditEntry).where(AuditEntry.created_at < cutoff))
    return res.rowcount or 0


# --- editors ----------------------------------------------------------------------------------
# Editors never open a conversation; what they do to content (answers, drafts,
# publications) and to the review inbox goes to editor_audit_log, with the
# subject it was done to ("answer:<id>", "publication:<id>", "group:<id>").
# Entries hold ids, counts and masked questions, never a conversation's
# messages; they are kept as long as the content history they explain.

EDITOR_ACTIONS = {
    "knowledge_import": "imported the knowledge-base files into the content store",
    "knowledge_export": "exported the published content to the knowledge-base files",
    "answer_new": "started a new answer (draft)",
    "answer_draft_save": "saved an answer's draft",
    "answer_draft_discard": "discarded an answer's draft",
    "answer_examples_add": "added example questions to an answer's draft (and its regression set)",
    "publish": "published content (after the publish gate)",
    "gate_accept": "accepted the listed regressions of a publish",
    "rollback": "restored an earlier revision of an answer (published through the gate)",
    # The review inbox (static/editor/index.html).
    "inbox_attach": "attached a group of questions to an existing answer",
    "inbox_new_answer": "started a new answer from a group of questions",
    "inbox_dismiss": "dismissed a group of questions, with a reason",
}
MAX_SUBJECT_CHARS = 160


async def record_editor(conn, action: str, *, subject: str, editor=None, detail: dict | None = None) -> None:
    """Add an editor entry in the caller's transaction (`conn`: a session or a connection).
    `editor` is the acting Agent (role editor); without one the actor is the system."""
    if action not in EDITOR_ACTIONS:
        raise ValueError(f"unknown editor audit action {action!r}")
    if not 1 <= len(subject) <= MAX_SUBJECT_CHARS:
        raise ValueError("audit subject must be 1-160 characters")
    row = {"created_at": utcnow(), "action": action, "subject": subject, "detail": detail,
           "actor_type": "editor" if editor is not None else "system",
           "actor_id": editor.id if editor is not None else None,
           "actor_login": editor.login if editor is not None else None}
    await conn.execute(insert(EditorAuditEntry), [row])


def editor_entry_to_dict(e: EditorAuditEntry) -> dict:
    return {"id": e.id, "created_at": e.created_at.isoformat(), "actor_type": e.actor_type,
            "actor_id": e.actor_id, "actor_login": e.actor_login, "action": e.action,
            "subject": e.subject, "detail": e.detail}


async def editor_entries(conn, *, subject: str | None = None, limit: int = 200) -> list[dict]:
    """The newest editor entries (of one subject), newest first."""
    stmt = select(EditorAuditEntry).order_by(EditorAuditEntry.created_at.desc(), EditorAuditEntry.id.desc())
    if subject is not None:
        stmt = stmt.where(EditorAuditEntry.subject == subject)
    rows = await conn.scalars(stmt.limit(max(1, min(limit, 1000))))
    return [editor_entry_to_dict(e) for e in rows]
