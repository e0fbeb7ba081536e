"""The audit log: every agent's and supervisor's access to a conversation, exportable
per conversation by supervisors (JSON and CSV), without any message content."""

import csv
import io

from helpers import agent_session, new_conversation, send
from sqlalchemy import select

from handoff_bridge.db.models import AuditEntry


async def test_access_is_recorded_and_exported_by_supervisors(client, bridge):
    d = bridge.deps
    cid, headers = await new_conversation(client)
    await send(client, cid, headers, "Mit cpr er 010203-1234 og jeg er bange")
    await client.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)
    bo = await agent_session(d, client, "bo")
    sara = await agent_session(d, client, "sara", role="supervisor")

    # Preview while waiting (twice: the repeat within a minute is one entry), claim, view.
    for _ in range(2):
        assert (await client.get(f"/api/v1/agent/conversations/{cid}/transcript", headers=bo)).status_code == 200
    assert (await client.post("/api/v1/agent/queue/claim-next", headers=bo)).status_code == 200
    assert (await client.get(f"/api/v1/agent/conversations/{cid}/transcript", headers=bo)).status_code == 200
    assert (await client.get(f"/api/v1/agent/conversations/{cid}/transcript", headers=sara)).status_code == 200
    close = await client.post(f"/api/v1/agent/conversations/{cid}/close", headers=bo, json={"tags": ["borgerservice.pas"]})
    assert close.status_code == 200, close.text

    # Agents cannot export; supervisors can, as JSON and as CSV.
    assert (await client.get(f"/api/v1/agent/audit/conversations/{cid}", headers=bo)).status_code == 403
    assert (await client.get(f"/api/v1/agent/audit/conversations/{cid}", headers=headers)).status_code == 401
    resp = await client.get(f"/api/v1/agent/audit/conversations/{cid}", headers=sara)
    assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store"
    entries = resp.json()["entries"]
    got = [(e["actor_login"], e["actor_type"], e["action"]) for e in entries]
    assert got == [("bo", "agent", "preview"), ("bo", "agent", "claim"), ("bo", "agent", "view"),
                   ("sara", "supervisor", "view"), ("bo", "agent", "close"), ("sara", "supervisor", "export")]
    assert all(e["conversation_id"] == cid and e["created_at"] for e in entries)
    assert "010203" not in resp.text and "bange" not in resp.text

    csv_resp = await client.get(f"/api/v1/agent/audit/conversations/{cid}", headers=sara, params={"format": "csv"})
    assert csv_resp.status_code == 200 and csv_resp.headers["content-type"].startswith("text/csv")
    assert f'filename="audit-{cid}.csv"' in csv_resp.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(csv_resp.text)))
    assert [r["action"] for r in rows] == [e[2] for e in got] + ["export"]
    assert rows[0]["actor_login"] == "bo" and rows[0]["conversation_id"] == cid
    bad = await client.get(f"/api/v1/agent/audit/conversations/{cid}", headers=sara, params={"format": "xml"})
    assert bad.status_code == 400


async def test_csv_export_cannot_carry_spreadsheet_formulas(client, bridge):
    d = bridge.deps
    sara = await agent_session(d, client, "=cmd|' /c calc'!a0", role="supervisor")
    resp = await client.get("/api/v1/agent/audit/conversations/abc", headers=sara, params={"format": "csv"})
    row = next(csv.DictReader(io.StringIO(resp.text)))
    assert row["actor_login"].startswith("'=")


async def test_audit_entries_hold_no_message_content(client, bridge):
    d = bridge.deps
    cid, headers = await new_conversation(client)
    await client.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)
    bo = await agent_session(d, client, "bo")
    await client.post("/api/v1/agent/queue/claim-next", headers=bo)
    await client.post(f"/api/v1/agent/conversations/{cid}/transfer", headers=bo, json={"queue": "da-general"})
    async with d.sessionmaker() as session:
        rows = list(await session.scalars(select(AuditEntry)))
    assert {r.action for r in rows} == {"claim", "transfer"}
    for r in rows:
        assert set((r.detail or {}).keys()) <= {"queue", "agent_id", "callback_id", "format"}
