"""Review inbox capture and grouping, on SQLite and PostgreSQL."""

import datetime as dt
from types import SimpleNamespace

import inbox_fixture as fx
import numpy as np
from sqlalchemy import select, update

from handoff_bridge.db.models import InboxItem, utcnow
from handoff_bridge.services import embeddings
from handoff_bridge.services import outcomes as outcome_svc
from handoff_bridge.services import review_inbox as inbox_svc


async def items(deps) -> dict:
    async with deps.sessionmaker() as session:
        rows = (await session.scalars(select(InboxItem).order_by(InboxItem.id))).all()
    return {(r.conversation_id, r.seq): r for r in rows}


async def test_every_failure_kind_is_captured_once(bridge):
    deps = bridge.deps
    await fx.load(deps)
    await outcome_svc.refresh(deps, full=True)
    captured = await items(deps)
    assert {key: (r.kind, r.question) for key, r in captured.items()} == fx.EXPECTED
    assert all(r.status == "open" for r in captured.values())
    assert captured[("k04", 1)].language == "sv" and captured[("k04", 1)].municipality == "1480"
    # Idempotent: computing again (all, or after a new message) adds nothing and keeps what was there.
    await outcome_svc.refresh(deps, full=True)
    assert (await items(deps)).keys() == captured.keys()


async def test_items_keep_their_status_when_the_conversation_goes_on(bridge):
    deps = bridge.deps
    await fx.load(deps)
    await outcome_svc.refresh(deps, full=True)
    async with deps.sessionmaker() as session:
        async with session.begin():
            await session.execute(update(InboxItem).where(InboxItem.conversation_id == "k03").values(status="dismissed"))
    # The citizen writes again; the bot falls back once more.
    await fx.add_message(deps, "k03", "citizen", "hvordan søger jeg om fritidspas")
    await fx.add_message(deps, "k03", "bot", "Det har jeg ikke et svar på.", "out_of_scope",
                         {"response": "knowledge_no_answer"})
    await outcome_svc.refresh(deps)
    after = await items(deps)
    assert after[("k03", 1)].status == "dismissed"
    assert (after[("k03", 3)].kind, after[("k03", 3)].question) == ("no_answer", "hvordan søger jeg om fritidspas")
    assert len(after) == len(fx.EXPECTED) + 1


async def test_knowledge_no_answer_counts_as_unanswered(bridge):
    """The knowledge base's "no answer" responses are unanswered whatever topic the turn reports."""
    deps = bridge.deps
    await fx.load(deps, {"u01": ("101", "da", 1, [
        fx.c("hvad koster en hundeskat"), fx.b("Det har jeg ikke et svar på.", "knowledge_question",
                                               "knowledge_no_answer")], None)})
    await outcome_svc.refresh(deps, full=True)
    [item] = (await items(deps)).values()
    assert item.kind == "no_answer"
    o = outcome_svc.classify(
        [outcome_svc.MessageFacts(1, "citizen", "hvad koster en hundeskat", None, None, utcnow()),
         outcome_svc.MessageFacts(2, "bot", "...", {"response": "knowledge_no_answer"}, "knowledge_question", utcnow())],
        escalated=False, closed=True, fallback_topics=deps.settings.fallback_topics)
    assert o.outcome == "unanswered" and o.fallback_turns == 1
    assert o.unanswered[0][2] == "knowledge_no_answer"


async def test_embedding_and_grouping_by_meaning(bridge):
    deps = bridge.deps
    await fx.load(deps)
    await outcome_svc.refresh(deps, full=True)
    await inbox_svc.embed_pending(deps)  # (the bridge's own refresher may have embedded some already)
    assert await inbox_svc.embed_pending(deps) == 0
    for item in (await items(deps)).values():
        assert len(item.embedding) == embeddings.DIM * 2  # float16
        assert abs(float(np.linalg.norm(embeddings.from_bytes(item.embedding))) - 1) < 0.01
    period = inbox_svc.period_of()
    result = await inbox_svc.groups(deps, period)
    assert result["items"] == len(fx.EXPECTED) and result["not_yet_embedded"] == 0
    assert result["items_by_language"] == {"da": 5, "sv": 1}
    by_label = {g["label"]: g for g in result["groups"]}
    # The two questions about emptying the bin are one group; the others stand alone.
    bins = next(g for g in result["groups"] if g["count"] == 2)
    assert {q["question"] for q in bins["questions"]} == {"Hvornår tømmes min skraldespand?",
                                                          "hvornår bliver skraldespanden tømt"}
    assert bins["municipalities"] == [{"municipality": "101", "count": 1}, {"municipality": "751", "count": 1}]
    assert bins["kinds"]["no_answer"] == 2 and bins["languages"] == ["da"]
    assert bins["trend"] == {"previous": 0, "change": 2, "change_share": None}
    assert bins["first_seen"] < bins["last_seen"]
    assert bins["id"] == inbox_svc.group_id(bins["item_ids"])
    assert len(result["groups"]) == 5
    assert by_label["Hur ansöker jag om bygglov för en altan?"]["languages"] == ["sv"]
    # Per language.
    sv = await inbox_svc.groups(deps, period, languages=("sv",))
    assert [g["label"] for g in sv["groups"]] == ["Hur ansöker jag om bygglov för en altan?"]


async def test_trend_counts_similar_questions_of_the_previous_period(bridge):
    deps = bridge.deps
    now = utcnow()
    week = dt.timedelta(days=7)
    await fx.load(deps, {k: v for k, v in fx.CONVERSATIONS.items() if k in ("k01", "k02")}, now=now)
    # The same questions a week earlier, three times.
    earlier = {f"p{i}{k}": v for i in range(3) for k, v in fx.CONVERSATIONS.items() if k == "k01"}
    await fx.load(deps, earlier, now=now - week)
    await outcome_svc.refresh(deps, full=True)
    await inbox_svc.embed_pending(deps)
    result = await inbox_svc.groups(deps, inbox_svc.period_of())
    [group] = result["groups"]
    assert group["count"] == 2 and group["trend"] == {"previous": 3, "change": -1, "change_share": round(-1 / 3, 4)}


async def test_items_not_yet_embedded_are_shown_by_identical_text(bridge):
    deps = bridge.deps
    await fx.load(deps)
    await outcome_svc.refresh(deps, full=True)
    period = inbox_svc.period_of()
    rows = [SimpleNamespace(**{**r._mapping, "embedding": None})
            for r in await inbox_svc._items(deps, period, "da", ("open",))]
    groups = inbox_svc._group_language(inbox_svc._texts(rows), [], inbox_svc.GROUP_THRESHOLD, "da")
    assert len(groups) == 5 and not any(g["embedded"] for g in groups)
    assert sum(g["count"] for g in groups) == 5


def test_cluster_threshold():
    a = np.array([1.0, 0.0], dtype=np.float32)
    b = np.array([0.96, 0.28], dtype=np.float32)  # cosine 0.96 to a
    c = np.array([0.0, 1.0], dtype=np.float32)
    groups, centroids = inbox_svc.cluster(np.vstack([a, b, c]), 0.92)
    assert groups == [0, 0, 1] and len(centroids) == 2
    assert inbox_svc.cluster(np.vstack([a, b, c]), 0.97)[0] == [0, 1, 2]


async def test_an_escalation_names_the_question_not_the_greeting(bridge):
    deps = bridge.deps
    await fx.load(deps, {"e01": ("101", "da", 1, [
        fx.c("Hej"), fx.b("Hej! Hvad kan jeg hjælpe med?", "greet"),
        fx.c("hvordan får jeg et fiskekort"), fx.b("Pas fornyer du ...", "passport", "knowledge_answer"),
        fx.c("Tal med en medarbejder", "bridge:handoff"),
    ], "not_helpful")})
    await outcome_svc.refresh(deps, full=True)
    assert [(r.kind, r.question) for r in (await items(deps)).values()] == [
        ("escalation", "hvordan får jeg et fiskekort")]


async def test_retention_removes_items_with_their_conversation_and_old_actions(bridge):
    from handoff_bridge.db.models import InboxAction
    from handoff_bridge.services import retention as retention_svc

    deps = bridge.deps
    now = utcnow()
    await fx.load(deps, {"r01": fx.CONVERSATIONS["k01"], "r02": fx.CONVERSATIONS["k03"]})
    await outcome_svc.refresh(deps, full=True)
    async with deps.sessionmaker() as session:
        async with session.begin():
            old = InboxAction(action="dismiss", group_id="g" + "0" * 31, language="da", reason="other", items=1,
                              created_at=now - dt.timedelta(days=deps.settings.audit_retention_days + 1))
            session.add(old)
    # r01 is past the retention period; r02 is not.
    from handoff_bridge.db.models import Conversation

    past = now - dt.timedelta(days=deps.settings.retention_days + 1)
    async with deps.sessionmaker() as session:
        async with session.begin():
            await session.execute(update(Conversation).where(Conversation.id == "r01").values(
                created_at=past, updated_at=past, last_message_at=past))
    result = await retention_svc.purge_expired(deps, now)
    assert result["conversations_deleted"] == 1 and result["inbox_actions_deleted"] == 1
    assert [key[0] for key in (await items(deps))] == ["r02"]
