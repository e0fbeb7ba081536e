"""Review inbox API: access, groups, actions with their audit entries, validation."""

import httpx
import inbox_fixture as fx
import pytest
from helpers import agent_session, editor_session
from sqlalchemy import select

from handoff_bridge.db.models import EditorAuditEntry, InboxAction, InboxItem
from handoff_bridge.rasa import tls_context
from handoff_bridge.services import outcomes as outcome_svc
from handoff_bridge.services import review_inbox as inbox_svc

URL = "/api/v1/editor/inbox"


@pytest.fixture
async def inbox(bridge):
    await fx.load(bridge.deps)
    await outcome_svc.refresh(bridge.deps, full=True)
    await inbox_svc.embed_pending(bridge.deps)
    return bridge.deps


@pytest.fixture
async def editor(bridge, client):
    return await editor_session(bridge.deps, client, "edith", languages=("da", "sv"))


async def groups(client, headers, **params):
    resp = await client.get(URL, headers=headers, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def stored(deps, model):
    async with deps.sessionmaker() as session:
        return list((await session.scalars(select(model).order_by(model.id))).all())


async def test_editor_sees_masked_groups_without_conversations(client, inbox, editor):
    body = await groups(client, editor)
    assert body["items"] == len(fx.EXPECTED) and body["period"]["days"] == 7
    assert body["threshold"] == inbox_svc.GROUP_THRESHOLD
    assert sum(g["count"] for g in body["groups"]) == len(fx.EXPECTED)
    # No conversation ids (nor anything else that leads to a chat).
    for cid in fx.CONVERSATIONS:
        assert cid not in str(body)
    sv = await groups(client, editor, language="sv")
    assert [g["languages"] for g in sv["groups"]] == [["sv"]]


async def test_access(client, inbox, editor, bridge):
    agent = await agent_session(bridge.deps, client, "anders", languages=("da",))
    supervisor = await agent_session(bridge.deps, client, "sara", role="supervisor", languages=())
    [item] = [i for i in await stored(inbox, InboxItem) if i.conversation_id == "k03"]
    body = {"item_ids": [item.id], "language": "da", "reason": "not_a_question"}
    # An agent can neither read nor act on the inbox.
    assert (await client.get(URL, headers=agent)).status_code == 403
    assert (await client.post(f"{URL}/dismiss", headers=agent, json=body)).status_code == 403
    assert (await client.get(f"{URL}/answers", headers=agent)).status_code == 403
    # Nor a supervisor (they see the unanswered questions in the insight report).
    assert (await client.get(URL, headers=supervisor)).status_code == 403
    assert (await client.post(f"{URL}/dismiss", headers=supervisor, json=body)).status_code == 403
    # Without a session: 401 (a client without the editor's cookie).
    async with httpx.AsyncClient(base_url=bridge.url, verify=tls_context()) as anonymous:
        assert (await anonymous.get(URL)).status_code == 401
    # An editor sees no agent chat: not the queues, not a transcript.
    assert (await client.get("/api/v1/agent/queues", headers=editor)).status_code == 403
    assert (await client.get("/api/v1/agent/conversations/k03/transcript", headers=editor)).status_code == 403
    assert [i.status for i in await stored(inbox, InboxItem) if i.id == item.id] == ["open"]


async def test_dismiss_changes_status_records_and_audits(client, inbox, editor):
    body = await groups(client, editor, language="da")
    bins = next(g for g in body["groups"] if g["count"] == 2)
    resp = await client.post(f"{URL}/dismiss", headers=editor, json={
        "item_ids": bins["item_ids"], "language": "da", "group": bins["id"], "reason": "out_of_scope",
        "note": "Affald: kommunens side. Ring 12 34 56 78"})
    assert resp.status_code == 200, resp.text
    result = resp.json()
    assert result["changed"] == 2 and result["skipped"] == 0 and result["group"] == bins["id"]
    items = {i.id: i for i in await stored(inbox, InboxItem)}
    assert len(items) == len(fx.EXPECTED)  # nothing deleted
    assert {items[i].status for i in bins["item_ids"]} == {"dismissed"}
    [action] = await stored(inbox, InboxAction)
    assert (action.action, action.reason, action.items, action.editor_login) == ("dismiss", "out_of_scope", 2, "edith")
    assert "12 34 56 78" not in action.note and action.note.startswith("Affald")
    [audit] = [a for a in await stored(inbox, EditorAuditEntry) if a.action == "inbox_dismiss"]
    assert (audit.subject, audit.actor_type, audit.actor_login) == (f"group:{bins['id']}", "editor", "edith")
    assert audit.detail == {"inbox_action": action.id, "language": "da", "items": 2, "conversations": 2,
                            "questions": 0, "reason": "out_of_scope"}
    # The open view no longer shows them; the dismissed view does.
    assert all(g["id"] != bins["id"] for g in (await groups(client, editor))["groups"])
    dismissed = await groups(client, editor, status="dismissed")
    assert [g["count"] for g in dismissed["groups"]] == [2]
    # Acting again on the same items: nothing open any more.
    again = await client.post(f"{URL}/dismiss", headers=editor, json={
        "item_ids": bins["item_ids"], "language": "da", "reason": "duplicate"})
    assert again.status_code == 409
    history = (await client.get(f"{URL}/actions", headers=editor)).json()["actions"]
    assert [(h["action"], h["items"]) for h in history] == [("dismiss", 2)]


@pytest.mark.parametrize("body, fragment", [
    ({"item_ids": [1], "language": "da", "reason": "bored"}, "reason"),
    ({"item_ids": [], "language": "da", "reason": "other"}, "item_ids"),
    ({"item_ids": [1] * 5001, "language": "da", "reason": "other"}, "item_ids"),
    ({"item_ids": [0], "language": "da", "reason": "other"}, "item_ids"),
    ({"item_ids": [1], "language": "en", "reason": "other"}, "language"),
    ({"item_ids": [1], "language": "da", "reason": "other", "extra": 1}, "extra"),
    ({"item_ids": [1], "language": "da", "reason": "other", "note": "x" * 501}, "note"),
])
async def test_bodies_are_validated(client, inbox, editor, body, fragment):
    resp = await client.post(f"{URL}/dismiss", headers=editor, json=body)
    assert resp.status_code == 400, resp.text
    assert fragment in resp.json()["error"]["message"]


async def test_query_is_validated(client, inbox, editor):
    for params in ({"language": "en"}, {"status": "gone"}, {"from": "2026-13-01"}, {"limit": "0"},
                   {"from": "2026-03-02", "to": "2026-03-01"}):
        assert (await client.get(URL, headers=editor, params=params)).status_code == 400, params


async def test_items_of_another_language_are_refused(client, inbox, editor):
    [sv_item] = [i for i in await stored(inbox, InboxItem) if i.language == "sv"]
    resp = await client.post(f"{URL}/dismiss", headers=editor, json={
        "item_ids": [sv_item.id], "language": "da", "reason": "other"})
    assert resp.status_code == 400


async def import_shipped(deps):
    from handoff_bridge.services import answers as answers_svc
    from handoff_bridge.services import knowledge_files as kf
    from handoff_bridge.settings import REPO_DIR

    async with deps.sessionmaker() as session:
        async with session.begin():
            await answers_svc.import_content(session, kf.read_directory(REPO_DIR / "knowledge"))


async def test_attach_makes_the_questions_examples_and_regression_questions(client, inbox, editor):
    from handoff_bridge.db.models import KbAnswer, KbRegressionQuestion

    await import_shipped(inbox)
    picker = (await client.get(f"{URL}/answers", headers=editor, params={"language": "da"})).json()["answers"]
    assert {"id": "passport", "language": "da"}.items() <= next(a for a in picker if a["id"] == "passport").items()
    body = await groups(client, editor, language="da")
    passport = next(g for g in body["groups"] if g["label"] == "Hvordan fornyer jeg mit pas?")
    resp = await client.post(f"{URL}/attach", headers=editor, json={
        "item_ids": passport["item_ids"], "language": "da", "group": passport["id"], "answer_id": "passport"})
    assert resp.status_code == 200, resp.text
    result = resp.json()
    assert result["changed"] == 1 and result["questions"] == ["Hvordan fornyer jeg mit pas?"]
    async with inbox.sessionmaker() as session:
        answer = await session.get(KbAnswer, "passport")
        regression = (await session.scalars(select(KbRegressionQuestion.question).where(
            KbRegressionQuestion.answer_id == "passport", KbRegressionQuestion.source == "inbox"))).all()
    assert regression == ["Hvordan fornyer jeg mit pas?"]
    assert answer.draft is not None  # the change waits in the answer's draft for the publish gate
    [item] = [i for i in await stored(inbox, InboxItem) if i.id in passport["item_ids"]]
    assert item.status == "attached"
    [entry] = [a for a in await stored(inbox, EditorAuditEntry) if a.action == "inbox_attach"]
    assert entry.detail["answer_id"] == "passport" and entry.subject == f"group:{passport['id']}"
    # An unknown answer: nothing changes.
    other = next(g for g in body["groups"] if g["label"] == "xyz blah")
    resp = await client.post(f"{URL}/attach", headers=editor, json={
        "item_ids": other["item_ids"], "language": "da", "answer_id": "no_such_answer"})
    assert resp.status_code == 404
    assert {i.status for i in await stored(inbox, InboxItem) if i.id in other["item_ids"]} == {"open"}


async def test_new_answer_starts_a_draft_the_page_links_to(client, inbox, editor):
    await import_shipped(inbox)
    body = await groups(client, editor, language="da")
    bins = next(g for g in body["groups"] if g["count"] == 2)
    resp = await client.post(f"{URL}/new-answer", headers=editor, json={
        "item_ids": bins["item_ids"], "language": "da", "group": bins["id"], "category": "contact_and_selfservice"})
    assert resp.status_code == 200, resp.text
    result = resp.json()
    assert result["changed"] == 2 and result["draft_id"] == result["answer_id"]
    assert sorted(result["examples"]) == sorted(q["question"] for q in bins["questions"])
    draft = await client.get(f"/api/v1/editor/answers", headers=editor, params={"q": result["draft_id"]})
    assert [a["status"] for a in draft.json()["answers"] if a["id"] == result["draft_id"]] == ["draft"]
    assert {i.status for i in await stored(inbox, InboxItem) if i.id in bins["item_ids"]} == {"drafted"}
    history = (await client.get(f"{URL}/actions", headers=editor)).json()["actions"]
    assert history[0]["action"] == "new_answer" and history[0]["draft_id"] == result["draft_id"]
