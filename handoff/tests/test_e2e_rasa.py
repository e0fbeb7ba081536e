"""End to end with the real Rasa server and action server.

Skipped unless Rasa answers at RASA_URL (default http://127.0.0.1:5005). The
action server must be configured to call this bridge at
http://127.0.0.1:$HANDOFF_E2E_PORT (default 8080) with HANDOFF_SERVICE_TOKEN,
and Rasa's bridge channel must accept RASA_TOKEN.
"""

import asyncio
import os

import httpx
import pytest
from conftest import RunningServer
from helpers import WsClient, is_msg, login, make_agent, new_conversation

from handoff_bridge.app import create_app
from handoff_bridge.settings import Settings

pytestmark = pytest.mark.e2e

RASA_URL = os.environ.get("RASA_URL", "http://127.0.0.1:5005")
PORT = int(os.environ.get("HANDOFF_E2E_PORT", "8080"))
QUESTION = os.environ.get("HANDOFF_E2E_QUESTION", "Hvordan får jeg et nyt pas?")
ASK_PERSON = os.environ.get("HANDOFF_E2E_ASK_PERSON", "Jeg vil gerne tale med en medarbejder")


def rasa_reachable() -> bool:
    try:
        return httpx.get(f"{RASA_URL}/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
async def e2e_bridge(tmp_path, queue_config):
    if not rasa_reachable():
        pytest.skip(f"Rasa is not reachable at {RASA_URL}")
    settings = Settings(
        env="development",
        port=PORT,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}",
        rasa_url=RASA_URL,
        rasa_token=os.environ.get("RASA_TOKEN", Settings(env="development").rasa_token),
        service_token=os.environ.get("HANDOFF_SERVICE_TOKEN", Settings(env="development").service_token),
        queues_config=queue_config,
        cookie_secure=False,
        password_time_cost=1,
        password_memory_kib=8192,
    )
    from handoff_bridge.__main__ import migrate

    await asyncio.to_thread(migrate, settings)
    app = create_app(settings)
    app.config.TOUCHUP = False
    app.config.MOTD = False
    server = await app.create_server(host="127.0.0.1", port=PORT, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()

    running = RunningServer(app, server, f"http://127.0.0.1:{PORT}")
    yield running
    await running.stop()


async def test_citizen_bot_agent_and_rating(e2e_bridge):
    async with httpx.AsyncClient(base_url=e2e_bridge.url, timeout=30) as client:
        cid, headers = await new_conversation(client, municipality="101", language="da")
        citizen = await WsClient.citizen(e2e_bridge.url, cid, headers)
        await citizen.recv_until(lambda f: f["type"] == "hello")

        await citizen.send({"type": "message", "text": QUESTION, "client_msg_id": "q1"})
        await citizen.recv_until(is_msg("bot"), timeout=30)

        await citizen.send({"type": "message", "text": ASK_PERSON, "client_msg_id": "q2"})
        await citizen.recv_until(lambda f: f["type"] == "status" and f["mode"] == "queued", timeout=30)

        await make_agent(e2e_bridge.deps, "e2e-agent")
        agent_headers = await login(client, "e2e-agent")
        agent = await WsClient.agent(e2e_bridge.url, agent_headers)
        await agent.recv_until(lambda f: f["type"] == "hello")
        claimed = await client.post("/api/v1/agent/queue/claim-next", headers=agent_headers)
        assert claimed.status_code == 200 and claimed.json()["conversation_id"] == cid

        transcript = (await client.get(f"/api/v1/agent/conversations/{cid}/transcript", headers=agent_headers)).json()
        assert any(m["sender"] == "bot" and m["topic"] for m in transcript["messages"])

        await citizen.send({"type": "message", "text": "Hej, er du der?", "client_msg_id": "q3"})
        await agent.recv_until(is_msg("citizen", "er du der"))
        await client.post(f"/api/v1/agent/conversations/{cid}/messages", headers=agent_headers, json={"text": "Ja, jeg hjælper dig."})
        await citizen.recv_until(is_msg("agent", "jeg hjælper"))

        closed = await client.post(f"/api/v1/agent/conversations/{cid}/close", headers=agent_headers,
                                   json={"tags": ["borgerservice.pas"]})
        assert closed.status_code == 200
        await citizen.recv_until(lambda f: f["type"] == "status" and f["mode"] == "closed")
        rated = await client.post(f"/api/v1/citizen/conversations/{cid}/rating", headers=headers, json={"score": 8})
        assert rated.status_code == 201
        await citizen.close()
        await agent.close()
