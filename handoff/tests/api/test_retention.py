"""Deleting conversations: by the citizen from the widget, and by the retention job
(command and scheduled task). Rasa is asked to delete its tracker; a failure is
recorded and retried by the next run. Audit entries stay."""

import asyncio
import datetime as dt
import os
import subprocess
import sys

import pytest
from helpers import agent_session, new_conversation, send, wait_for_messages
from sqlalchemy import func, select, update

from conftest import SERVICE_DIR
from handoff_bridge.db.models import (
    AuditEntry,
    CallbackRequest,
    Conversation,
    Escalation,
    Message,
    RasaDeletion,
)
from handoff_bridge.services import retention as retention_svc


async def count(deps, model, *where):
    async with deps.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def age(deps, cid, days):
    then = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
    async with deps.sessionmaker() as session:
        async with session.begin():
            await session.execute(update(Conversation).where(Conversation.id == cid).values(
                created_at=then, updated_at=then, last_message_at=then))


async def test_citizen_deletes_own_conversation_and_rasa_tracker(client, bridge, fake_rasa):
    d = bridge.deps
    cid, headers = await new_conversation(client)
    other, other_headers = await new_conversation(client)
    await send(client, cid, headers, "hej, mit cpr er 010203-1234")
    await wait_for_messages(client, cid, headers, lambda m: any(x["sender"] == "bot" for x in m))
    # Another conversation's token cannot delete it.
    assert (await client.delete(f"/api/v1/citizen/conversations/{cid}", headers=other_headers)).status_code == 401
    assert (await client.delete(f"/api/v1/citizen/conversations/{cid}")).status_code == 401
    resp = await client.delete(f"/api/v1/citizen/conversations/{cid}", headers=headers)
    assert resp.status_code == 204
    assert await count(d, Conversation, Conversation.id == cid) == 0
    assert await count(d, Message, Message.conversation_id == cid) == 0
    assert await count(d, Conversation, Conversation.id == other) == 1
    # The token no longer opens anything; a second delete is refused the same way.
    assert (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).status_code == 401
    assert (await client.delete(f"/api/v1/citizen/conversations/{cid}", headers=headers)).status_code == 401
    for _ in range(100):
        if await count(d, RasaDeletion) == 0:
            break
        await asyncio.sleep(0.05)
    assert fake_rasa.deleted == [cid]
    assert await count(d, RasaDeletion) == 0
    async with d.sessionmaker() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.conversation_id == cid)))
    assert [(e.actor_type, e.action) for e in entries] == [("citizen", "delete")]


async def test_deleting_a_chat_an_agent_holds_releases_it(client, bridge):
    d = bridge.deps
    cid, headers = await new_conversation(client)
    await client.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)
    agent = await agent_session(d, client, "bo")
    assert (await client.post("/api/v1/agent/queue/claim-next", headers=agent)).status_code == 200
    assert (await client.delete(f"/api/v1/citizen/conversations/{cid}", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/agent/chats", headers=agent)).json()["chats"] == []
    assert await count(d, Escalation, Escalation.conversation_id == cid) == 0
    # The agent's earlier claim stays in the audit log, without content.
    async with d.sessionmaker() as session:
        actions = [e.action for e in await session.scalars(
            select(AuditEntry).where(AuditEntry.conversation_id == cid).order_by(AuditEntry.id))]
    assert actions == ["claim", "delete"]
    r = await client.get(f"/api/v1/agent/conversations/{cid}/transcript", headers=agent)
    assert r.status_code in (403, 404)


async def test_retention_deletes_old_conversations_only_and_retries_rasa(client, bridge, fake_rasa):
    d = bridge.deps
    old, old_h = await new_conversation(client)
    await send(client, old, old_h, "gammel samtale")
    await wait_for_messages(client, old, old_h, lambda m: any(x["sender"] == "bot" for x in m))
    recent, recent_h = await new_conversation(client)
    await send(client, recent, recent_h, "ny samtale")
    await age(d, old, 31)
    await age(d, recent, 29)
    fake_rasa.fail_deletes = True
    first = await retention_svc.purge_expired(d)
    assert first["conversations_deleted"] == 1 and first["rasa_failed"] == 1
    assert await count(d, Conversation, Conversation.id == old) == 0
    assert await count(d, Conversation, Conversation.id == recent) == 1
    async with d.sessionmaker() as session:
        pending = await session.get(RasaDeletion, old)
    assert pending.attempts == 1 and pending.last_error == "HTTP 503"
    # Idempotent: nothing more to delete; the Rasa call is retried and now succeeds.
    fake_rasa.fail_deletes = False
    second = await retention_svc.purge_expired(d)
    assert second["conversations_deleted"] == 0 and second["rasa_deleted"] == 1
    assert await count(d, RasaDeletion) == 0
    async with d.sessionmaker() as session:
        purge = await session.scalar(select(AuditEntry).where(AuditEntry.conversation_id == old))
    assert (purge.actor_type, purge.action) == ("system", "purge")


async def test_retention_period_is_configurable_and_removes_callbacks(client, bridge):
    d = bridge.deps
    cid, headers = await new_conversation(client, municipality="closed-town")
    await client.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)
    r = await client.post(f"/api/v1/citizen/conversations/{cid}/callback", headers=headers,
                          json={"phone": "+45 12 34 56 78", "description": "om min pension"})
    assert r.status_code == 201
    await age(d, cid, 8)
    d.settings.retention_days = 7
    try:
        assert (await retention_svc.purge_expired(d))["conversations_deleted"] == 1
    finally:
        d.settings.retention_days = 30
    assert await count(d, CallbackRequest) == 0


async def test_purge_is_safe_when_two_instances_run_it_at_once(client, bridge):
    d = bridge.deps
    ids = []
    for _ in range(6):
        cid, _h = await new_conversation(client)
        await age(d, cid, 40)
        ids.append(cid)
    results = await asyncio.gather(retention_svc.purge_expired(d), retention_svc.purge_expired(d))
    deleted = sum(r.get("conversations_deleted", 0) for r in results)
    assert deleted == 6
    assert await count(d, Conversation) == 0
    async with d.sessionmaker() as session:
        purges = await session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "purge"))
    assert purges == 6


@pytest.mark.parametrize("bridge_overrides", [{"retention_interval_seconds": 0.2}])
async def test_scheduled_retention_job_runs_in_the_service(client, bridge, bridge_overrides):
    d = bridge.deps
    cid, _ = await new_conversation(client)
    await age(d, cid, 45)
    for _ in range(100):
        if await count(d, Conversation, Conversation.id == cid) == 0:
            break
        await asyncio.sleep(0.05)
    assert await count(d, Conversation, Conversation.id == cid) == 0


async def test_purge_command(client, bridge, backend_settings, fake_rasa):
    d = bridge.deps
    cid, _ = await new_conversation(client)
    await age(d, cid, 31)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANDOFF_")}
    env.update({
        "HANDOFF_ENV": "development",
        "HANDOFF_DATABASE_URL": backend_settings.database_url,
        "HANDOFF_RASA_URL": fake_rasa.url,
        "HANDOFF_RASA_TOKEN": "test-rasa-token",
        "HANDOFF_QUEUES_CONFIG": str(backend_settings.queues_config),
    })
    if backend_settings.db_schema:
        env["HANDOFF_DB_SCHEMA"] = backend_settings.db_schema
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "handoff_bridge", "purge", cwd=str(SERVICE_DIR), env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert '"conversations_deleted": 1' in out.decode()
    assert await count(d, Conversation, Conversation.id == cid) == 0
