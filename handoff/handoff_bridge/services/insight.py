"""Insight for managers: what the contact centre achieved in a period.

A period is a range of local dates (at most 366 days) in one time zone;
every figure can be narrowed to one municipality and one topic. Definitions
(also shown on the supervisor's insight page and in docs/insight.md):

* conversation: started in the period, with at least one message. Its topic
  is the first topic the assistant answered (else the first it understood).
* resolved by the assistant alone: see services/outcomes.py; every other
  conversation is counted under the first reason it is not (`outcomes`).
* "did it help?": the citizens' yes and no answers in those conversations.
* escalations: queue entries and closed-hours offers created in the period,
  by reason and by how they ended; wait = queue entry to an agent's claim
  (median and 90th percentile, nearest rank); abandoned = left the queue
  before an agent took it.
* satisfaction: the 1-9 ratings given in the period.
* volume by hour: conversations by weekday and hour of their start, in the
  serving queue's time zone, beside that queue's opening hours.
* closing tags: tags of the chats agents closed in the period.
* unanswered: the citizens' (masked) messages the assistant fell back on,
  by fallback and by identical text.
* changes: each figure against the previous period of the same length.

The figures come from the bridge's own tables: conversation_outcomes (one
row per conversation, kept current by services/outcomes.py) joined to
escalations, ratings and closures. docs/insight.md explains why not Rasa's
event broker.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass

from sqlalchemy import case, func, select

from ..db.models import (
    Closure,
    ClosureTag,
    ConversationOutcome,
    Escalation,
    Rating,
    UnansweredQuestion,
)
from ..errors import Invalid
from . import outcomes as outcome_svc
from . import queue as queue_svc
from .periods import LocalDays, parse_date, parse_timezone
from .stats import median, percentile

DEFAULT_DAYS = 30
MAX_FILTER_CHARS = 128
TOP_QUESTIONS = 25
TOP_CHANGES = 12
# A count below this in both periods is noise, not a change worth showing.
MIN_CHANGE_VOLUME = 5
TABLES = ("summary", "outcomes", "topics", "escalations", "hours", "ratings", "tags", "unanswered", "changes")


def _filter_value(name: str, raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_FILTER_CHARS:
        raise Invalid("invalid_filter", f"{name} must be at most {MAX_FILTER_CHARS} characters")
    return raw


@dataclass(frozen=True)
class Query(LocalDays):
    """A validated report request: local dates [first, last], time zone, filters."""

    municipality: str | None = None
    topic: str | None = None

    @classmethod
    def from_args(cls, args: dict, today: dt.date | None = None) -> "Query":
        tz = parse_timezone(args.get("tz"))
        first, last = cls.bounds(parse_date("from", args.get("from")), parse_date("to", args.get("to")), tz,
                                 default_days=DEFAULT_DAYS, today=today)
        return cls(first, last, tz, _filter_value("municipality", args.get("municipality")),
                   _filter_value("topic", args.get("topic")))

    def outcome_filters(self) -> list:
        conditions = []
        if self.municipality is not None:
            conditions.append(ConversationOutcome.municipality == self.municipality)
        if self.topic is not None:
            conditions.append(ConversationOutcome.topic == self.topic)
        return conditions

    def describe(self) -> dict:
        return {**super().describe(), "municipality": self.municipality, "topic": self.topic,
                "start": self.start.isoformat(), "end": self.end.isoformat()}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _joined(query, model_conversation_id, q: Query):
    """Narrow a query on escalations, ratings or closures to the filtered conversations."""
    conditions = q.outcome_filters()
    if not conditions:
        return query
    O = ConversationOutcome
    return query.join(O, O.conversation_id == model_conversation_id).where(*conditions)


async def _waits(session, q: Query) -> list[float] | tuple[float | None, float | None, int]:
    """Median and 90th percentile (nearest rank) of the period's queue waits, and how many."""
    E = Escalation
    where = [E.created_at >= q.start, E.created_at < q.end, E.assigned_at.is_not(None)]
    if session.bind.dialect.name == "postgresql":
        seconds = func.extract("epoch", E.assigned_at - E.enqueued_at)
        query = _joined(select(
            func.count(),
            func.percentile_cont(0.5).within_group(func.greatest(seconds, 0)),
            func.percentile_disc(0.9).within_group(func.greatest(seconds, 0)),
        ).select_from(E).where(*where), E.conversation_id, q)
        n, p50, p90 = (await session.execute(query)).one()
        return (float(p50) if p50 is not None else None, float(p90) if p90 is not None else None, int(n))
    rows = (await session.execute(_joined(select(E.enqueued_at, E.assigned_at).where(*where), E.conversation_id, q))).all()
    waits = sorted(max(0.0, (assigned - enqueued).total_seconds()) for enqueued, assigned in rows)
    return median(waits), percentile(waits, 90), len(waits)


async def _figures(session, q: Query, *, details: bool) -> dict:
    """Every figure of one period. `details` adds the tables only the current period needs."""
    O = ConversationOutcome
    in_period = [O.started_at >= q.start, O.started_at < q.end, *q.outcome_filters()]

    # One pass over the period's outcomes gives the totals, the outcomes and the topics.
    rows = (await session.execute(
        select(
            O.topic, O.outcome, func.count(),
            func.sum(O.helpful_yes), func.sum(O.helpful_no), func.sum(O.fallback_turns),
            func.sum(case((O.in_opening_hours, 1), else_=0)), func.sum(case((O.escalated, 1), else_=0)),
        ).where(*in_period).group_by(O.topic, O.outcome)
    )).all()
    by_outcome = {name: 0 for name in outcome_svc.OUTCOMES}
    per_topic: dict = {}
    helpful_yes = helpful_no = in_hours = 0
    for topic, outcome, n, yes, no, fallbacks, opened, escalated in rows:
        n, yes, no, fallbacks = int(n), int(yes or 0), int(no or 0), int(fallbacks or 0)
        by_outcome[outcome] = by_outcome.get(outcome, 0) + n
        helpful_yes += yes
        helpful_no += no
        in_hours += int(opened or 0)
        t = per_topic.setdefault(topic, {"topic": topic, "conversations": 0, "resolved": 0, "escalated": 0,
                                         "helpful_yes": 0, "helpful_no": 0, "fallback_turns": 0})
        t["conversations"] += n
        t["resolved"] += n if outcome == "resolved" else 0
        t["escalated"] += int(escalated or 0)
        t["helpful_yes"] += yes
        t["helpful_no"] += no
        t["fallback_turns"] += fallbacks
    conversations = sum(by_outcome.values())
    resolved = by_outcome["resolved"]
    topics = sorted(per_topic.values(), key=lambda r: (-r["conversations"], r["topic"] or ""))
    for t in topics:
        t["resolved_share"] = _share(t["resolved"], t["conversations"])

    E = Escalation
    escalation_rows = (await session.execute(_joined(
        select(E.reason, E.status, func.count()).where(E.created_at >= q.start, E.created_at < q.end)
        .group_by(E.reason, E.status), E.conversation_id, q)
    )).all()
    by_reason = {reason: 0 for reason in queue_svc.REASONS}
    by_status: dict[str, int] = {}
    for reason, status, n in escalation_rows:
        by_reason[reason] = by_reason.get(reason, 0) + int(n)
        by_status[status] = by_status.get(status, 0) + int(n)
    p50, p90, answered = await _waits(session, q)

    rating_rows = (await session.execute(_joined(
        select(Rating.score, func.count()).where(Rating.created_at >= q.start, Rating.created_at < q.end)
        .group_by(Rating.score), Rating.conversation_id, q)
    )).all()
    distribution = {str(score): 0 for score in range(1, 10)}
    for score, n in rating_rows:
        distribution[str(score)] = int(n)
    rated = sum(distribution.values())
    mean = sum(int(s) * n for s, n in distribution.items()) / rated if rated else None

    figures = {
        "conversations": conversations,
        "resolved": resolved,
        "resolved_share": _share(resolved, conversations),
        "outcomes": by_outcome,
        "helpful": {"yes": helpful_yes, "no": helpful_no},
        "in_opening_hours": in_hours,
        "escalations": {"total": sum(by_status.values()), "by_reason": by_reason, "by_status": by_status},
        "waits": {
            "answered": answered,
            "median_seconds": _round(p50),
            "p90_seconds": _round(p90),
            "abandoned": by_status.get("abandoned", 0),
        },
        "rating": {"count": rated, "mean": _round(mean, 2), "distribution": distribution},
        "topics": topics,
    }
    if not details:
        return figures

    hour_rows = (await session.execute(
        select(O.local_weekday, O.local_hour, func.count()).where(*in_period).group_by(O.local_weekday, O.local_hour)
    )).all()
    counts = {(int(d), int(h)): int(n) for d, h, n in hour_rows}
    figures["hours"] = {"cells": [
        {"weekday": d, "hour": h, "conversations": counts.get((d, h), 0)} for d in range(7) for h in range(24)
    ]}

    tag_rows = (await session.execute(_joined(
        select(ClosureTag.tag_code, func.count())
        .join(Closure, Closure.id == ClosureTag.closure_id)
        .where(Closure.created_at >= q.start, Closure.created_at < q.end)
        .group_by(ClosureTag.tag_code), Closure.conversation_id, q)
    )).all()
    figures["tags"] = sorted(({"tag": code, "count": int(n)} for code, n in tag_rows),
                             key=lambda r: (-r["count"], r["tag"]))
    figures["closed_by_agents"] = int(await session.scalar(_joined(
        select(func.count()).select_from(Closure)
        .where(Closure.created_at >= q.start, Closure.created_at < q.end, Closure.agent_id.is_not(None)),
        Closure.conversation_id, q)
    ) or 0)

    U = UnansweredQuestion
    unanswered_where = [U.asked_at >= q.start, U.asked_at < q.end]
    if q.municipality is not None:
        unanswered_where.append(U.municipality == q.municipality)
    if q.topic is not None:
        unanswered_where.append(U.conversation_id.in_(select(O.conversation_id).where(O.topic == q.topic)))
    by_fallback = (await session.execute(
        select(U.fallback_topic, func.count()).where(*unanswered_where).group_by(U.fallback_topic)
    )).all()
    questions = (await session.execute(
        select(U.question, func.count(), func.count(func.distinct(U.conversation_id)), func.max(U.asked_at),
               func.min(U.language), func.max(U.language))
        .where(*unanswered_where).group_by(U.question)
        .order_by(func.count().desc(), U.question).limit(TOP_QUESTIONS)
    )).all()
    figures["unanswered"] = {
        "total": sum(int(n) for _t, n in by_fallback),
        "by_fallback": sorted(({"fallback": t, "count": int(n)} for t, n in by_fallback), key=lambda r: -r["count"]),
        "questions": [
            {"question": text, "count": int(n), "conversations": int(convs), "last_asked": last.isoformat() if last else None,
             "languages": sorted({lo, hi} - {None})}
            for text, n, convs, last, lo, hi in questions
        ],
    }
    return figures


def _minutes(t: dt.time) -> int:
    # "24:00" is stored as 23:59:59.999999.
    return 24 * 60 if t >= dt.time(23, 59, 59) else t.hour * 60 + t.minute


def opening_hours(deps, q: Query) -> list[dict]:
    """Weekly opening hours of the queues that serve the period's conversations
    (the municipality's queues when one is chosen), by weekday and hour."""
    queues = [c for c in deps.queues.values() if q.municipality is None or "*" in c.municipalities
              or q.municipality in c.municipalities]
    result = []
    for queue in queues:
        open_hours = []
        for d, day in enumerate(outcome_svc.DAY_NAMES):
            intervals = [(_minutes(s), _minutes(e)) for s, e in queue.hours.get(day, ())]
            open_hours += [[d, h] for h in range(24) if any(s < (h + 1) * 60 and e > h * 60 for s, e in intervals)]
        result.append({"queue": queue.name, "language": queue.language, "timezone": queue.timezone,
                       "weekly_hours": queue.weekly_hours(), "open": open_hours})
    return result


def _changes(current: dict, previous: dict) -> list[dict]:
    """The figures that moved most, against the previous period."""
    candidates: list[tuple[str, str | None, float | None, float | None, str]] = [
        ("conversations", None, current["conversations"], previous["conversations"], "count"),
        ("resolved_share", None, current["resolved_share"], previous["resolved_share"], "share"),
        ("helpful_no", None, current["helpful"]["no"], previous["helpful"]["no"], "count"),
        ("escalations", None, current["escalations"]["total"], previous["escalations"]["total"], "count"),
        ("abandoned", None, current["waits"]["abandoned"], previous["waits"]["abandoned"], "count"),
        ("median_wait_seconds", None, current["waits"]["median_seconds"], previous["waits"]["median_seconds"], "seconds"),
        ("rating_mean", None, current["rating"]["mean"], previous["rating"]["mean"], "score"),
    ]
    for reason, n in current["escalations"]["by_reason"].items():
        candidates.append(("escalations_by_reason", reason, n, previous["escalations"]["by_reason"].get(reason, 0), "count"))
    before = {t["topic"]: t for t in previous["topics"]}
    now = {t["topic"]: t for t in current["topics"]}
    for topic in set(before) | set(now):
        a, b = now.get(topic), before.get(topic)
        candidates.append(("topic_conversations", topic, a["conversations"] if a else 0,
                           b["conversations"] if b else 0, "count"))
        if a and b and a["conversations"] >= MIN_CHANGE_VOLUME and b["conversations"] >= MIN_CHANGE_VOLUME:
            candidates.append(("topic_resolved_share", topic, a["resolved_share"], b["resolved_share"], "share"))
    changes = []
    for metric, key, cur, prev, kind in candidates:
        if cur is None or prev is None:
            continue
        if kind == "count" and max(cur, prev) < MIN_CHANGE_VOLUME:
            continue
        delta = cur - prev
        if delta == 0:
            continue
        if kind == "share":
            weight = abs(delta) * 5  # 20 percentage points weigh like a doubling
            relative = round(delta / prev, 4) if prev else None
        else:
            relative = round(delta / prev, 4) if prev else None
            weight = abs(relative) if relative is not None else math.inf
        changes.append({"metric": metric, "key": key, "current": cur, "previous": prev,
                        "change": round(delta, 4), "relative": relative, "_weight": weight})
    changes.sort(key=lambda c: (-c["_weight"], c["metric"], c["key"] or ""))
    for c in changes:
        del c["_weight"]
    return changes[:TOP_CHANGES]


async def filter_options(session, q: Query, topics_seen: list[dict]) -> dict:
    """Municipalities and topics of the period, for the pickers. Without filters the
    topics are those of the figures already counted."""
    O = ConversationOutcome
    in_period = [O.started_at >= q.start, O.started_at < q.end]
    municipalities = (await session.scalars(select(O.municipality).where(*in_period).group_by(O.municipality))).all()
    if q.municipality is None and q.topic is None:
        topics = [t["topic"] for t in topics_seen if t["topic"] is not None]
    else:
        topics = (await session.scalars(
            select(O.topic).where(*in_period, O.topic.is_not(None)).group_by(O.topic))).all()
    return {"municipalities": sorted(municipalities), "topics": sorted(topics)}


DEFINITIONS = {
    "resolved": [
        "answer_given", "answer_not_rejected", "no_repeated_question", "no_abandoned_clarification",
        "no_failed_identity_check", "no_escalation",
    ],
    "outcome_order": list(outcome_svc.OUTCOMES),
}
# What each CSV table needs beyond the period's headline figures.
_NEEDS_PREVIOUS = {"summary", "changes"}
_NEEDS_DETAILS = {"hours", "tags", "unanswered"}


async def report(deps, q: Query, *, table: str | None = None) -> dict:
    """The whole report, or (table) what one CSV table needs of it."""
    with_previous = table is None or table in _NEEDS_PREVIOUS
    details = table is None or table in _NEEDS_DETAILS
    await outcome_svc.refresh(deps)
    previous_q = q.previous()
    async with deps.sessionmaker() as session:
        current = await _figures(session, q, details=details)
        previous = await _figures(session, previous_q, details=False) if with_previous else None
        options = await filter_options(session, q, current["topics"]) if table is None else None
    if details:
        current["hours"]["opening_hours"] = opening_hours(deps, q)
    result = {"period": q.describe(), "previous_period": previous_q.describe(), **current,
              "definitions": DEFINITIONS}
    if options is not None:
        result["filters"] = options
    if previous is not None:
        result["previous"] = {k: previous[k] for k in ("conversations", "resolved", "resolved_share", "helpful",
                                                       "escalations", "waits", "rating")}
        result["changes"] = _changes(current, previous)
    return result


# --- CSV --------------------------------------------------------------------------------------

def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    text = str(value)
    # A cell starting with = + - @ would be a formula in a spreadsheet.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def table_rows(data: dict, table: str) -> tuple[list[str], list[list]]:
    """Header and rows of one report table, as the page shows it."""
    if table == "summary":
        rows = [
            ["conversations", data["conversations"], data["previous"]["conversations"]],
            ["resolved", data["resolved"], data["previous"]["resolved"]],
            ["resolved_share", data["resolved_share"], data["previous"]["resolved_share"]],
            ["helpful_yes", data["helpful"]["yes"], data["previous"]["helpful"]["yes"]],
            ["helpful_no", data["helpful"]["no"], data["previous"]["helpful"]["no"]],
            ["escalations", data["escalations"]["total"], data["previous"]["escalations"]["total"]],
            ["wait_answered", data["waits"]["answered"], data["previous"]["waits"]["answered"]],
            ["wait_median_seconds", data["waits"]["median_seconds"], data["previous"]["waits"]["median_seconds"]],
            ["wait_p90_seconds", data["waits"]["p90_seconds"], data["previous"]["waits"]["p90_seconds"]],
            ["abandoned", data["waits"]["abandoned"], data["previous"]["waits"]["abandoned"]],
            ["ratings", data["rating"]["count"], data["previous"]["rating"]["count"]],
            ["rating_mean", data["rating"]["mean"], data["previous"]["rating"]["mean"]],
        ]
        return ["figure", "period", "previous_period"], rows
    if table == "outcomes":
        return ["outcome", "conversations"], [[k, v] for k, v in data["outcomes"].items()]
    if table == "topics":
        keys = ["topic", "conversations", "resolved", "resolved_share", "escalated", "helpful_yes", "helpful_no",
                "fallback_turns"]
        return keys, [[t[k] for k in keys] for t in data["topics"]]
    if table == "escalations":
        rows = [["reason", k, v] for k, v in data["escalations"]["by_reason"].items()]
        rows += [["status", k, v] for k, v in sorted(data["escalations"]["by_status"].items())]
        return ["group", "value", "escalations"], rows
    if table == "hours":
        open_cells = {}
        for queue in data["hours"]["opening_hours"]:
            for d, h in queue["open"]:
                open_cells.setdefault((d, h), []).append(queue["queue"])
        return ["weekday", "hour", "conversations", "open_queues"], [
            [outcome_svc.DAY_NAMES[c["weekday"]], c["hour"], c["conversations"], open_cells.get((c["weekday"], c["hour"]), [])]
            for c in data["hours"]["cells"]
        ]
    if table == "ratings":
        return ["score", "ratings"], [[s, n] for s, n in data["rating"]["distribution"].items()]
    if table == "tags":
        return ["tag", "count"], [[t["tag"], t["count"]] for t in data["tags"]]
    if table == "unanswered":
        return ["question", "count", "conversations", "languages", "last_asked"], [
            [r["question"], r["count"], r["conversations"], r["languages"], r["last_asked"]]
            for r in data["unanswered"]["questions"]
        ]
    if table == "changes":
        keys = ["metric", "key", "current", "previous", "change", "relative"]
        return keys, [[c[k] for k in keys] for c in data["changes"]]
    raise Invalid("invalid_table", "table must be one of " + ", ".join(TABLES))


def to_csv(data: dict, table: str) -> str:
    header, rows = table_rows(data, table)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()

