"""Figures for the supervisor view: live queue and staffing, and period summaries.

Definitions (also in docs/handoff/README.md):

* conversation: created in the period, with at least one message.
* resolved by the bot alone (straksafklaring): such a conversation in which an
  answer was given and not rejected, no question was repeated, no clarifying
  question or identity request was left unanswered, no identity check failed
  and no person was asked for (services/outcomes.py has the rules).
* escalations: queue entries and closed-hours offers created in the period,
  by reason.
* wait: from entering the queue to an agent's claim, for escalations of the
  period that an agent took. Median and 90th percentile (nearest rank).
* rating: the 1-9 scores given in the period.
* tags: closing tags of the chats agents closed in the period.

Percentiles and day buckets are computed in Python, so SQLite and PostgreSQL
give the same answers; a period is at most 31 days of rows.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..db.models import (
    ESC_WAITING,
    Agent,
    Claim,
    Closure,
    ClosureTag,
    Conversation,
    ConversationOutcome,
    Escalation,
    Rating,
    utcnow,
)
from ..errors import Invalid
from . import outcomes as outcome_svc
from . import queue as queue_svc

PERIODS = {"today": 1, "7d": 7}


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def median(sorted_values: list[float]) -> float | None:
    n = len(sorted_values)
    if n == 0:
        return None
    mid = n // 2
    return sorted_values[mid] if n % 2 else (sorted_values[mid - 1] + sorted_values[mid]) / 2


def period_bounds(period: str, tz: ZoneInfo, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime, list[dt.date]]:
    """[start, end) in UTC for 'today' or the last 7 days (today included), and the local days."""
    if period not in PERIODS:
        raise Invalid("invalid_period", "period must be 'today' or '7d'")
    now = now or utcnow()
    today = now.astimezone(tz).date()
    days = [today - dt.timedelta(days=i) for i in range(PERIODS[period] - 1, -1, -1)]
    start = dt.datetime.combine(days[0], dt.time(0), tzinfo=tz).astimezone(dt.timezone.utc)
    return start, now, days


async def live(deps) -> dict:
    """Queue lengths and longest waits per queue, agents online and busy."""
    now = utcnow()
    cutoff = now - dt.timedelta(seconds=deps.settings.agent_presence_ttl_seconds)
    async with deps.sessionmaker() as session:
        rows = (await session.execute(
            select(Escalation.queue_name, func.count(), func.min(Escalation.enqueued_at))
            .where(Escalation.status == ESC_WAITING)
            .group_by(Escalation.queue_name)
        )).all()
        agents = (await session.scalars(
            select(Agent).where(Agent.active.is_(True), Agent.status != "offline", Agent.last_seen_at >= cutoff)
        )).all()
        chats = dict((await session.execute(
            select(Claim.agent_id, func.count()).where(Claim.ended_at.is_(None)).group_by(Claim.agent_id)
        )).all())
    waiting = {name: (count, oldest) for name, count, oldest in rows}
    queues = []
    for name, q in deps.queues.items():
        count, oldest = waiting.get(name, (0, None))
        queues.append({
            "queue": name,
            "language": q.language,
            "open": q.is_open(now),
            "waiting": int(count),
            "longest_wait_seconds": int((now - oldest).total_seconds()) if oldest else 0,
        })
    online = [a for a in agents if a.role == "agent" or a.languages]
    with_chats = [a for a in online if chats.get(a.id, 0) > 0]
    return {
        "generated_at": now.isoformat(),
        "queues": queues,
        "waiting": sum(q["waiting"] for q in queues),
        "longest_wait_seconds": max((q["longest_wait_seconds"] for q in queues), default=0),
        "agents": {
            "online": len(online),
            "available": sum(1 for a in online if a.status == "available"),
            "busy": len({a.id for a in with_chats} | {a.id for a in online if a.status == "busy"}),
            "away": sum(1 for a in online if a.status == "away"),
            "active_chats": sum(chats.get(a.id, 0) for a in online),
            "free_slots": sum(max(0, a.capacity - chats.get(a.id, 0)) for a in online if a.status == "available"),
        },
    }


async def summary(deps, period: str, tz: ZoneInfo, *, now: dt.datetime | None = None) -> dict:
    start, end, days = period_bounds(period, tz, now)
    await outcome_svc.refresh(deps)
    async with deps.sessionmaker() as session:
        conversations = (await session.execute(
            select(Conversation.id, Conversation.created_at, ConversationOutcome.resolved)
            .outerjoin(ConversationOutcome, ConversationOutcome.conversation_id == Conversation.id)
            .where(Conversation.created_at >= start, Conversation.created_at < end, Conversation.last_seq > 0)
        )).all()
        escalations = (await session.execute(
            select(Escalation.reason, Escalation.status, Escalation.enqueued_at, Escalation.assigned_at, Escalation.created_at)
            .where(Escalation.created_at >= start, Escalation.created_at < end)
        )).all()
        ratings = (await session.execute(
            select(Rating.score).where(Rating.created_at >= start, Rating.created_at < end)
        )).scalars().all()
        tags = (await session.execute(
            select(ClosureTag.tag_code, func.count())
            .join(Closure, Closure.id == ClosureTag.closure_id)
            .where(Closure.created_at >= start, Closure.created_at < end)
            .group_by(ClosureTag.tag_code)
        )).all()

    def local_day(ts: dt.datetime) -> str:
        return ts.astimezone(tz).date().isoformat()

    per_day = {d.isoformat(): {"date": d.isoformat(), "conversations": 0, "bot_only": 0, "escalations": 0} for d in days}
    bot_only = 0
    for _cid, created, resolved in conversations:
        day = per_day.get(local_day(created))
        alone = bool(resolved)
        bot_only += alone
        if day is not None:
            day["conversations"] += 1
            day["bot_only"] += alone
    by_reason: dict[str, int] = {r: 0 for r in queue_svc.REASONS}
    by_status: dict[str, int] = {}
    waits = []
    for reason, status, enqueued, assigned, created in escalations:
        by_reason[reason] = by_reason.get(reason, 0) + 1
        by_status[status] = by_status.get(status, 0) + 1
        day = per_day.get(local_day(created))
        if day is not None:
            day["escalations"] += 1
        if assigned is not None and enqueued is not None:
            waits.append(max(0.0, (assigned - enqueued).total_seconds()))
    waits.sort()
    total = len(conversations)
    return {
        "period": period,
        "timezone": tz.key,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "conversations": total,
        "bot_only": bot_only,
        "bot_only_share": round(bot_only / total, 4) if total else None,
        "escalations": {"total": len(escalations), "by_reason": by_reason, "by_status": by_status},
        "wait_seconds": {
            "answered": len(waits),
            "median": _round(median(waits)),
            "p90": _round(percentile(waits, 90)),
        },
        "rating": {
            "count": len(ratings),
            "average": round(sum(ratings) / len(ratings), 2) if ratings else None,
            "distribution": {str(score): sum(1 for r in ratings if r == score) for score in range(1, 10)},
        },
        "tags": dict(sorted(((code, int(n)) for code, n in tags), key=lambda item: (-item[1], item[0]))),
        "days": list(per_day.values()),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
