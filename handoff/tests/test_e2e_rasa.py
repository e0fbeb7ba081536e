"""End to end with the real Rasa server and action server.

By default the test starts both from the assistant's environment (../.venv,
../models/ddh.tar.gz, built by the top-level `make test` before this suite
runs), wired to the bridge it starts on a free port. With RASA_URL set it
uses that running Rasa instead; its action server must then call this bridge
at http://127.0.0.1:$HANDOFF_E2E_PORT with HANDOFF_SERVICE_TOKEN, and Rasa's
bridge channel must accept RASA_TOKEN. Skipped when neither is available.
"""

import asyncio
import os
import secrets
import socket
import subprocess
import time
from pathlib import Path

import httpx
import log_audit
import pytest
from conftest import RunningServer
from helpers import WsClient, is_msg, login, make_agent, new_conversation

from handoff_bridge.app import create_app
from handoff_bridge.settings import Settings

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ASSISTANT_PYTHON = REPO / ".venv" / "bin" / "python"
MODEL = REPO / "models" / "ddh.tar.gz"
QUESTION = os.environ.get("HANDOFF_E2E_QUESTION", "Hvordan får jeg et nyt pas?")
ASK_PERSON = os.environ.get("HANDOFF_E2E_ASK_PERSON", "Jeg vil gerne tale med en medarbejder")
STARTUP_SECONDS = 180


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until_up(name: str, url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{name} did not start:\n{log.read_text()[-3000:]}", pytrace=False)
        time.sleep(0.5)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    """(rasa_url, rasa_token, service_token, bridge_port) of a running assistant."""
    if os.environ.get("RASA_URL"):
        if not answers(f"{os.environ['RASA_URL']}/"):
            pytest.skip(f"Rasa is not reachable at {os.environ['RASA_URL']}")
        yield (os.environ["RASA_URL"], os.environ.get("RASA_TOKEN", Settings(env="development").rasa_token),
               os.environ.get("HANDOFF_SERVICE_TOKEN", Settings(env="development").service_token),
               int(os.environ.get("HANDOFF_E2E_PORT", "8080")))
        return
    if not (ASSISTANT_PYTHON.exists() and MODEL.exists()):
        pytest.skip("the assistant is not built: run the top-level `make setup train`")
    workdir = tmp_path_factory.mktemp("assistant")
    rasa_token, service_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    bridge_port, action_port, rasa_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "RASA_TELEMETRY_ENABLED": "false",
        "RASA_TOKEN": rasa_token,
        "HANDOFF_SERVICE_TOKEN": service_token,
        "HANDOFF_URL": f"http://127.0.0.1:{bridge_port}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
        "RASA_TRACKER_DB": str(workdir / "tracker.db"),
        "SANIC_HOST": "127.0.0.1",
    }
    processes = []
    try:
        for name, command, health in (
            ("action server",
             [str(ASSISTANT_PYTHON), "-m", "rasa_addons.action_server", "--actions", "actions", "--port", str(action_port)],
             f"http://127.0.0.1:{action_port}/health"),
            ("rasa",
             [str(ASSISTANT_PYTHON), "-m", "rasa_addons.server", "run", "--model", str(MODEL),
              "--interface", "127.0.0.1", "--port", str(rasa_port), "--enable-api", "--auth-token", rasa_token,
              "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"],
             f"http://127.0.0.1:{rasa_port}/status?token={rasa_token}"),
        ):
            log = workdir / f"{name.replace(' ', '_')}.log"
            log_audit.watch(log, env)
            process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
            processes.append(process)
            wait_until_up(name, health, process, log)
        yield f"http://127.0.0.1:{rasa_port}", rasa_token, service_token, bridge_port
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
async def e2e_bridge(assistant, tmp_path, queue_config):
    rasa_url, rasa_token, service_token, port = assistant
    settings = Settings(
        env="development",
        port=port,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}",
        rasa_url=rasa_url,
        rasa_token=rasa_token,
        service_token=service_token,
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
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()

    running = RunningServer(app, server, f"http://127.0.0.1:{port}")
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


async def test_a_citizen_deletes_the_conversation_in_the_bridge_and_in_rasa(e2e_bridge, assistant):
    rasa_url, rasa_token, _, _ = assistant
    async with httpx.AsyncClient(base_url=e2e_bridge.url, timeout=30) as client:
        cid, headers = await new_conversation(client, municipality="101", language="da")
        sent = await client.post(f"/api/v1/citizen/conversations/{cid}/messages", headers=headers,
                                 json={"text": QUESTION, "client_msg_id": "d1"})
        assert sent.status_code in (200, 201, 202)

        async def rasa_user_events() -> list:
            tracker = httpx.get(f"{rasa_url}/conversations/{cid}/tracker", params={"token": rasa_token}, timeout=10)
            return [e for e in tracker.json()["events"] if e["event"] == "user"]

        deadline = time.monotonic() + 30
        while not await rasa_user_events():
            assert time.monotonic() < deadline, "the bot never received the message"
            await asyncio.sleep(0.2)

        deleted = await client.delete(f"/api/v1/citizen/conversations/{cid}", headers=headers)
        assert deleted.status_code == 204
        deadline = time.monotonic() + 30
        while await rasa_user_events():
            assert time.monotonic() < deadline, "Rasa still holds the deleted conversation"
            await asyncio.sleep(0.2)
