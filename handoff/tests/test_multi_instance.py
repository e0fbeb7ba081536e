"""Two bridge instances as real processes on one PostgreSQL and Redis.

A citizen talks to instance A, an agent to instance B; live events cross
between them through Redis, and claims stay atomic across instances.
"""

import asyncio
import os
import subprocess
import sys

import httpx
import pytest
from bench.bridge_processes import start_bridge, stop_bridges, wait_healthy
from tests.support import log_audit
from conftest import RASA_TOKEN, SERVICE_DIR, clean_tables, free_port
from helpers import DEFAULT_PASSWORD, WsClient, is_msg, login, new_conversation

pytestmark = pytest.mark.multi_instance


def instance_env(settings, port, rasa_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANDOFF_")}
    env.update({
        "HANDOFF_ENV": "development",
        "HANDOFF_PORT": str(port),
        "HANDOFF_DATABASE_URL": settings.database_url,
        "HANDOFF_DB_SCHEMA": settings.db_schema,
        "HANDOFF_REDIS_URL": settings.redis_url,
        "HANDOFF_REDIS_CHANNEL_PREFIX": settings.redis_channel_prefix,
        "HANDOFF_RASA_URL": rasa_url,
        "HANDOFF_RASA_TOKEN": RASA_TOKEN,
        "HANDOFF_QUEUES_CONFIG": str(settings.queues_config),
        "HANDOFF_COOKIE_SECURE": "false",
        "HANDOFF_PASSWORD_TIME_COST": "1",
        "HANDOFF_PASSWORD_MEMORY_KIB": "8192",
        # As in production: INFO lines are where URLs (and once, tokens) were logged.
        "HANDOFF_LOG_LEVEL": "INFO",
    })
    return env


@pytest.fixture
async def two_instances(backend_settings, fake_rasa, tmp_path):
    if backend_settings.is_sqlite:
        pytest.skip("several instances need PostgreSQL and Redis")
    await clean_tables(backend_settings)
    procs, urls = [], []
    for name in ("a", "b"):
        port = free_port()
        env = instance_env(backend_settings, port, fake_rasa.url)
        log_audit.watch(tmp_path / f"instance-{name}.log", env)
        procs.append(start_bridge(env, tmp_path / f"instance-{name}.log"))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        await asyncio.gather(*(wait_healthy(u, p) for u, p in zip(urls, procs)))
        # Agents are created with the command line tool, as an operator would.
        for login_name in ("anna", "bo"):
            env = instance_env(backend_settings, 0, fake_rasa.url)
            env["HANDOFF_NEW_AGENT_PASSWORD"] = DEFAULT_PASSWORD
            subprocess.run([sys.executable, "-m", "handoff_bridge", "create-agent", login_name, "--capacity", "2"],
                           cwd=SERVICE_DIR, env=env, check=True, capture_output=True, timeout=60)
        yield urls
    finally:
        stop_bridges(procs)


async def test_citizen_on_one_instance_talks_to_agent_on_another(two_instances, fake_rasa):
    url_a, url_b = two_instances
    async with httpx.AsyncClient(base_url=url_a, timeout=10) as a, httpx.AsyncClient(base_url=url_b, timeout=10) as b:
        cid, headers = await new_conversation(a)
        anna = await login(b, "anna")
        agent_ws = await WsClient.agent(url_b, anna)
        await agent_ws.recv_until(lambda f: f["type"] == "hello")
        citizen_ws = await WsClient.citizen(url_a, cid, headers)
        await citizen_ws.recv_until(lambda f: f["type"] == "hello")

        # Bot turn on A, then the citizen asks for a person.
        await citizen_ws.send({"type": "message", "text": "Hvordan får jeg et pas?", "client_msg_id": "1"})
        await citizen_ws.recv_until(is_msg("bot"))
        await citizen_ws.send({"type": "handoff"})
        waiting = await agent_ws.recv_until(lambda f: f["type"] == "chat_waiting")  # event from A seen on B
        assert waiting["conversation_id"] == cid

        claimed = await b.post("/api/v1/agent/queue/claim-next", headers=anna)
        assert claimed.json()["conversation_id"] == cid
        await citizen_ws.recv_until(lambda f: f["type"] == "status" and f["mode"] == "agent")

        await citizen_ws.send({"type": "message", "text": "Hej fra borgeren", "client_msg_id": "2"})
        got = await agent_ws.recv_until(is_msg("citizen", "Hej fra borgeren"))
        assert got["conversation_id"] == cid
        await agent_ws.send({"type": "typing", "conversation_id": cid})
        await citizen_ws.recv_until(lambda f: f["type"] == "typing" and f["sender"] == "agent")
        await agent_ws.send({"type": "message", "conversation_id": cid, "text": "Hej fra Anna", "client_msg_id": "r1"})
        await citizen_ws.recv_until(is_msg("agent", "Hej fra Anna"))

        closed = await b.post(f"/api/v1/agent/conversations/{cid}/close", headers=anna, json={"tags": ["borgerservice.pas"]})
        assert closed.status_code == 200
        await citizen_ws.recv_until(lambda f: f["type"] == "status" and f["mode"] == "closed")
        rated = await a.post(f"/api/v1/citizen/conversations/{cid}/rating", headers=headers, json={"score": 9})
        assert rated.status_code == 201
        seqs = [f["seq"] for f in citizen_ws.frames if f["type"] == "message"]
        assert seqs == list(range(1, len(seqs) + 1))
        await citizen_ws.close()
        await agent_ws.close()


async def test_claim_race_across_instances_has_one_winner(two_instances):
    url_a, url_b = two_instances
    async with httpx.AsyncClient(base_url=url_a, timeout=10) as a, httpx.AsyncClient(base_url=url_b, timeout=10) as b:
        for _ in range(3):
            cid, headers = await new_conversation(a)
            await a.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=headers)
        anna = await login(a, "anna")
        bo = await login(b, "bo")
        rounds = []
        for _ in range(3):
            results = await asyncio.gather(a.post("/api/v1/agent/queue/claim-next", headers=anna),
                                           b.post("/api/v1/agent/queue/claim-next", headers=bo))
            rounds.append([r.json().get("conversation_id") for r in results if r.status_code == 200])
        won = [c for r in rounds for c in r]
        # Three chats, capacity 2 each: every chat taken exactly once.
        assert len(won) == 3 and len(set(won)) == 3
