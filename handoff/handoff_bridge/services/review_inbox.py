"""The editors' review inbox: what the assistant did not answer well, grouped by meaning.

Capture: the outcome refresher (services/outcomes.py) adds one inbox item per
citizen message the assistant did not answer well (no answer fitted, a
clarifying question, "not helpful", an escalation because the bot fell short),
with the masked text as stored in messages. `embed_pending` gives each new
item its sentence embedding (multilingual-e5-small, services/embeddings.py)
in bounded batches, in the background after each refresh: never on a
request.

Grouping (`groups`): the period's items of one language, identical texts
(lower-cased, spaces collapsed) first counted together, are put into groups
by meaning: in order of frequency, a text joins the group whose centroid it is
most similar to when the cosine similarity is at least `GROUP_THRESHOLD`, else
it starts a group. The threshold was chosen on the knowledge base's own
example questions (bench/review_inbox.py --calibrate; docs/review-inbox.md),
never on reported questions. The trend compares the group with the previous
period of the same length: that period's items (whatever became of them)
that are as similar to the group's centroid.

A group is identified by the items in it: the page sends back the item ids
the editor saw, and an action changes exactly those that are still open
(`attach`, `new_answer`, `dismiss`). Items change status, they are never
deleted by an action; every action is recorded (inbox_actions) and in the
editors' audit log (subject "group:<id>"). Items leave with their
conversation (retention, the citizen's deletion); actions after
`audit_retention_days`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections import Counter, OrderedDict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, select, update

from ..db.models import (
    INBOX_ATTACHED,
    INBOX_DISMISSED,
    INBOX_DRAFTED,
    INBOX_KINDS,
    INBOX_OPEN,
    INBOX_STATUSES,
    InboxAction,
    InboxItem,
    utcnow,
)
from ..errors import Conflict, Invalid
from ..privacy import mask_personal_data
from . import answers
from . import audit as audit_svc
from . import embeddings
from .outcomes import question_key
from .periods import LocalDays, parse_timezone

log = logging.getLogger("handoff.review_inbox")

# Cosine similarity of a question to a group's centroid at which it joins the
# group. Chosen on the knowledge base's example questions (docs/review-inbox.md).
GROUP_THRESHOLD = 0.92
DEFAULT_DAYS = 7
# Items embedded per background run (about 30 a second on the shared 2-core machine).
EMBED_BATCH = 64
EMBED_MAX_PER_RUN = 512
# Remembered text -> vector, so a question asked again is not encoded again.
_CACHE_LIMIT = 20_000
_vector_cache: "OrderedDict[str, bytes]" = OrderedDict()
# Bounds of one grouping and of one action.
MAX_ITEMS_PER_PERIOD = 200_000
MAX_GROUPS = 500
QUESTIONS_SHOWN = 50
MAX_ACTION_ITEMS = 5000
DISMISS_REASONS = ("not_a_question", "out_of_scope", "personal_case", "duplicate", "already_answered", "other")
MAX_NOTE_CHARS = 500
ACTION_AUDIT = {"attach": "inbox_attach", "new_answer": "inbox_new_answer", "dismiss": "inbox_dismiss"}
STATUS_OF_ACTION = {"attach": INBOX_ATTACHED, "new_answer": INBOX_DRAFTED, "dismiss": INBOX_DISMISSED}


# --- capture: embeddings ----------------------------------------------------------------------

async def embed_pending(deps, max_items: int = EMBED_MAX_PER_RUN, asked_since: dt.datetime | None = None) -> int:
    """Embed items that have no vector yet, newest first (the week an editor looks
    at before a backlog), in batches; returns how many."""
    done = 0
    while done < max_items:
        query = (select(InboxItem.id, InboxItem.question).where(InboxItem.embedding.is_(None))
                 .order_by(InboxItem.id.desc()).limit(min(EMBED_BATCH, max_items - done)))
        if asked_since is not None:
            query = query.where(InboxItem.asked_at >= asked_since)
        async with deps.sessionmaker() as session:
            rows = (await session.execute(query)).all()
        if not rows:
            break
        keys = [question_key(q) for _id, q in rows]
        # One text per key, as the citizen wrote it (identical texts up to case and spaces share a vector).
        missing: dict[str, str] = {}
        for (_id, q), key in zip(rows, keys):
            if key not in _vector_cache:
                missing.setdefault(key, q)
        if missing:
            vectors = await embeddings.embed_async(list(missing.values()))
            for key, vector in zip(missing, vectors):
                _vector_cache[key] = embeddings.to_bytes(vector)
                while len(_vector_cache) > _CACHE_LIMIT:
                    _vector_cache.popitem(last=False)
        async with deps.sessionmaker() as session:
            async with session.begin():
                for (item_id, _q), key in zip(rows, keys):
                    data = _vector_cache.get(key)
                    if data is None:  # evicted meanwhile: next run
                        continue
                    await session.execute(update(InboxItem).where(InboxItem.id == item_id,
                                                                  InboxItem.embedding.is_(None))
                                          .values(embedding=data))
        done += len(rows)
    return done


# --- grouping -----------------------------------------------------------------------------------

class Period(LocalDays):
    """The inbox's period: local days in one time zone (default the last DEFAULT_DAYS)."""


def period_of(first: dt.date | None = None, last: dt.date | None = None, tz_name: str | None = None,
              today: dt.date | None = None) -> Period:
    """The local days `first`..`last` in `tz_name` (default: the DEFAULT_DAYS days to today)."""
    tz = parse_timezone(tz_name)
    return Period(*Period.bounds(first, last, tz, default_days=DEFAULT_DAYS, today=today), tz)


def group_id(item_ids) -> str:
    """A group's identity: the items in it (what the editor saw)."""
    digest = hashlib.sha256(",".join(str(i) for i in sorted(item_ids)).encode()).hexdigest()
    return "g" + digest[:31]


@dataclass
class _Text:
    key: str
    shown: str
    items: list  # rows
    vector: np.ndarray | None


def cluster(vectors: np.ndarray, threshold: float = GROUP_THRESHOLD) -> tuple[list[int], np.ndarray]:
    """Greedy centroid clustering of L2-normalised rows, in the given order: each
    row joins the most similar group when its centroid is at least `threshold`
    similar, else starts one. Returns each row's group and the normalised centroids."""
    n = len(vectors)
    if n == 0:
        return [], np.zeros((0, embeddings.DIM), dtype=np.float32)
    sums = np.zeros((n, vectors.shape[1]), dtype=np.float32)
    centroids = np.zeros_like(sums)
    groups: list[int] = []
    k = 0
    for i in range(n):
        v = vectors[i]
        if k:
            sims = centroids[:k] @ v
            best = int(np.argmax(sims))
            if sims[best] >= threshold:
                groups.append(best)
                sums[best] += v
                centroids[best] = sums[best] / max(float(np.linalg.norm(sums[best])), 1e-12)
                continue
        sums[k] = v
        centroids[k] = v
        groups.append(k)
        k += 1
    return groups, centroids[:k]


async def _items(deps, period: Period, language: str, statuses) -> list:
    async with deps.sessionmaker() as session:
        query = (select(InboxItem.id, InboxItem.question, InboxItem.municipality, InboxItem.asked_at,
                        InboxItem.kind, InboxItem.status, InboxItem.embedding)
                 .where(InboxItem.language == language, InboxItem.asked_at >= period.start,
                        InboxItem.asked_at < period.end)
                 .order_by(InboxItem.asked_at, InboxItem.id).limit(MAX_ITEMS_PER_PERIOD))
        if statuses is not None:
            query = query.where(InboxItem.status.in_(statuses))
        return list((await session.execute(query)).all())


def _texts(rows) -> list[_Text]:
    by_key: dict[str, _Text] = {}
    for row in rows:
        key = question_key(row.question)
        t = by_key.get(key)
        if t is None:
            t = by_key[key] = _Text(key, row.question, [], None)
        t.items.append(row)
        if t.vector is None and row.embedding is not None:
            t.vector = embeddings.from_bytes(row.embedding)
    # Most asked first; ties by first asked.
    return sorted(by_key.values(), key=lambda t: (-len(t.items), t.items[0].asked_at, t.key))


def _group_language(texts: list[_Text], previous: list[_Text], threshold: float, language: str) -> list[dict]:
    embedded = [t for t in texts if t.vector is not None]
    pending = [t for t in texts if t.vector is None]
    assignment, centroids = cluster(np.vstack([t.vector for t in embedded]) if embedded
                                    else np.zeros((0, embeddings.DIM), dtype=np.float32), threshold)
    members: dict[int, list[_Text]] = {}
    for t, g in zip(embedded, assignment):
        members.setdefault(g, []).append(t)
    # Previous period: each of its texts counts for the most similar group, if similar enough.
    previous_counts: Counter = Counter()
    prev_embedded = [t for t in previous if t.vector is not None]
    if prev_embedded and len(centroids):
        sims = np.vstack([t.vector for t in prev_embedded]) @ centroids.T
        best = sims.argmax(axis=1)
        for t, g, s in zip(prev_embedded, best, sims[np.arange(len(best)), best]):
            if s >= threshold:
                previous_counts[int(g)] += len(t.items)
    prev_by_key = {t.key: len(t.items) for t in previous}
    groups = [_describe(members[g], previous_counts[g], language, embedded=True) for g in sorted(members)]
    # Not embedded yet (captured within the last minutes): grouped by identical text until they are.
    groups += [_describe([t], prev_by_key.get(t.key, 0), language, embedded=False) for t in pending]
    return groups


def _describe(texts: list[_Text], previous: int, language: str, *, embedded: bool) -> dict:
    rows = [r for t in texts for r in t.items]
    count = len(rows)
    municipalities = Counter(r.municipality for r in rows)
    kinds = Counter(r.kind for r in rows)
    statuses = Counter(r.status for r in rows)
    ordered = sorted(texts, key=lambda t: (-len(t.items), t.key))
    return {
        "id": group_id(r.id for r in rows),
        "label": ordered[0].shown,
        "count": count,
        "distinct_questions": len(texts),
        "languages": [language],
        "municipalities": [{"municipality": m, "count": c} for m, c in sorted(municipalities.items(),
                                                                             key=lambda kv: (-kv[1], kv[0]))],
        "kinds": {k: kinds.get(k, 0) for k in INBOX_KINDS},
        "statuses": {s: statuses.get(s, 0) for s in INBOX_STATUSES if statuses.get(s)},
        "first_seen": min(r.asked_at for r in rows).isoformat(),
        "last_seen": max(r.asked_at for r in rows).isoformat(),
        "trend": {"previous": previous, "change": count - previous,
                  "change_share": round((count - previous) / previous, 4) if previous else None},
        "questions": [{"question": t.shown, "count": len(t.items)} for t in ordered[:QUESTIONS_SHOWN]],
        "item_ids": sorted(r.id for r in rows),
        "embedded": embedded,
    }


async def groups(deps, period: Period, *, languages=("da", "sv"), status: str = INBOX_OPEN,
                 threshold: float = GROUP_THRESHOLD, limit: int = 100) -> dict:
    """The period's inbox items grouped by meaning, per language, largest groups first."""
    statuses = None if status == "all" else (status,)
    previous_period = period.previous()
    result = []
    totals = {}
    for language in languages:
        rows = await _items(deps, period, language, statuses)
        previous_rows = await _items(deps, previous_period, language, None)
        totals[language] = len(rows)
        # CPU work (numpy): in a thread, so a long period does not hold up the event loop.
        result += await asyncio.to_thread(_group_language, _texts(rows), _texts(previous_rows), threshold, language)
    result.sort(key=lambda g: (-g["count"], g["first_seen"], g["id"]))
    return {
        "period": period.describe(),
        "previous_period": previous_period.describe(),
        "status": status,
        "threshold": threshold,
        "items": sum(totals.values()),
        "items_by_language": totals,
        "not_yet_embedded": sum(g["count"] for g in result if not g["embedded"]),
        "groups_total": len(result),
        "groups": result[:limit],
    }


# --- actions ------------------------------------------------------------------------------------

async def _open_items(session, item_ids: list[int], language: str) -> list:
    rows = (await session.execute(
        select(InboxItem.id, InboxItem.conversation_id, InboxItem.question, InboxItem.status, InboxItem.language)
        .where(InboxItem.id.in_(item_ids)).with_for_update())).all()
    if any(r.language != language for r in rows):
        raise Invalid("invalid_items", "every item of a group must be in the group's language")
    return rows


def distinct_questions(rows) -> list[str]:
    """The group's distinct questions (as written), most asked first, that an
    answer can take as example questions (answers.MIN/MAX_QUESTION_CHARS)."""
    counts: Counter = Counter()
    shown: dict[str, str] = {}
    for r in rows:
        key = question_key(r.question)
        counts[key] += 1
        shown.setdefault(key, r.question)
    ordered = [shown[k] for k, _c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return [q for q in ordered if answers.MIN_QUESTION_CHARS <= len(q) <= answers.MAX_QUESTION_CHARS]


async def act(deps, agent, action: str, *, item_ids: list[int], language: str, group: str | None = None,
              answer_id: str | None = None, category: str | None = None, reason: str | None = None,
              note: str | None = None) -> dict:
    """Apply an editor's action to the open items among `item_ids`, in one
    transaction: the answer change, the items' status, the action row and the
    editor audit entry (subject "group:<id>")."""
    if action not in ACTION_AUDIT:
        raise Invalid("invalid_action", "action must be attach, new_answer or dismiss")
    if action == "dismiss" and reason not in DISMISS_REASONS:
        raise Invalid("invalid_reason", "reason must be one of " + ", ".join(DISMISS_REASONS))
    ids = sorted(set(item_ids))
    if not ids or len(ids) > MAX_ACTION_ITEMS:
        raise Invalid("invalid_items", f"give 1 to {MAX_ACTION_ITEMS} item ids")
    now = utcnow()
    gid = (group or group_id(ids))[:32]
    async with deps.sessionmaker() as session:
        async with session.begin():
            rows = await _open_items(session, ids, language)
            open_rows = [r for r in rows if r.status == INBOX_OPEN]
            if not open_rows:
                raise Conflict("nothing_open", "none of these items is open any more (another editor acted on them)")
            questions = distinct_questions(open_rows) if action != "dismiss" else []
            if action != "dismiss" and not questions:
                raise Invalid("invalid_questions", "no question of this group can be an example question "
                                                       f"({answers.MIN_QUESTION_CHARS}-{answers.MAX_QUESTION_CHARS} characters)")
            draft_id = None
            examples: list[str] = []
            if action == "attach":
                for i in range(0, len(questions), answers.MAX_QUESTIONS_PER_CALL):
                    result = await answers.add_example_questions(
                        session, answer_id=answer_id, language=language,
                        questions=questions[i:i + answers.MAX_QUESTIONS_PER_CALL], editor=agent, source="inbox")
                    examples += result["added_examples"]
            elif action == "new_answer":
                draft = await answers.new_draft_from_questions(
                    session, language=language, questions=questions[:answers.MAX_QUESTIONS_PER_CALL],
                    category=category, editor=agent, source="inbox")
                draft_id = draft["answer_id"]
                examples = list((draft["document"].get(language) or {}).get("examples") or [])
                # The rest of a large group joins the new answer's regression set too.
                rest = questions[answers.MAX_QUESTIONS_PER_CALL:]
                for i in range(0, len(rest), answers.MAX_QUESTIONS_PER_CALL):
                    await answers.add_to_regression_set(session, answer_id=draft_id, language=language,
                                                        questions=answers.clean_questions(
                                                            rest[i:i + answers.MAX_QUESTIONS_PER_CALL]),
                                                        editor=agent, source="inbox")
            masked_note = mask_personal_data(note.strip())[:MAX_NOTE_CHARS] if note and note.strip() else None
            record = InboxAction(action=action, group_id=gid, language=language,
                                 answer_id=answer_id if action == "attach" else draft_id, draft_id=draft_id,
                                 reason=reason if action == "dismiss" else None, note=masked_note,
                                 items=len(open_rows), editor_id=agent.id, editor_login=agent.login, created_at=now)
            session.add(record)
            await session.flush()
            changed = [r.id for r in open_rows]
            for i in range(0, len(changed), 1000):
                await session.execute(update(InboxItem).where(InboxItem.id.in_(changed[i:i + 1000]),
                                                              InboxItem.status == INBOX_OPEN)
                                      .values(status=STATUS_OF_ACTION[action], action_id=record.id, updated_at=now))
            detail = {"inbox_action": record.id, "language": language, "items": len(open_rows),
                      "conversations": len({r.conversation_id for r in open_rows}), "questions": len(questions)}
            if action == "attach":
                detail["answer_id"] = answer_id
            elif action == "new_answer":
                detail["answer_id"] = draft_id
            else:
                detail["reason"] = reason
            await audit_svc.record_editor(session, ACTION_AUDIT[action], subject=f"group:{gid}", editor=agent,
                                          detail=detail)
            action_id = record.id
    return {"action": action, "action_id": action_id, "group": gid, "changed": len(open_rows),
            "skipped": len(ids) - len(open_rows), "answer_id": answer_id if action == "attach" else draft_id,
            "draft_id": draft_id, "questions": questions, "examples": examples}


async def answer_choices(deps, languages) -> list[dict]:
    """The answers a group of this language can be attached to, with their title in it."""
    out = []
    async with deps.sessionmaker() as session:
        for language in languages:
            for a in await answers.list_answers(session, language=language):
                out.append({"id": a["id"], "language": language, "title": a["titles"].get(language) or a["id"],
                            "category": a["category"], "status": a["status"]})
    return out


async def history(deps, limit: int = 50) -> list[dict]:
    """The latest actions on the inbox (no citizen text)."""
    async with deps.sessionmaker() as session:
        rows = (await session.scalars(select(InboxAction).order_by(InboxAction.id.desc()).limit(limit))).all()
    return [{"id": a.id, "action": a.action, "group": a.group_id, "language": a.language, "answer_id": a.answer_id,
             "draft_id": a.draft_id, "reason": a.reason, "note": a.note, "items": a.items,
             "editor": a.editor_login, "created_at": a.created_at.isoformat()} for a in rows]


async def purge_old_actions(deps, now: dt.datetime) -> int:
    """Actions are kept as long as the audit log (`audit_retention_days`)."""
    cutoff = now - dt.timedelta(days=deps.settings.audit_retention_days)
    async with deps.engine.begin() as conn:
        res = await conn.execute(delete(InboxAction).where(InboxAction.created_at < cutoff))
    return res.rowcount or 0
