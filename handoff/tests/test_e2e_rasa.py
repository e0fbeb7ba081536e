"""End to end with the real Rasa server and action server.

By default the test starts both from the assistant's environment (../.venv,
../models/ddh.tar.gz, built by the top-level `make test` before this suite
runs), wired to the bridge it starts on a free port. With RASA_URL set it
uses that running Rasa instead, whose bridge channel must accept RASA_TOKEN
(the tests that kill the assistant's processes are then skipped). Skipped
when neither is available.

The last tests kill the action server, then Rasa, and check that the citizen
still gets an answer and the offer of a person within 5 seconds; they run
last in this module (pytest keeps the file's order).
"""

import asyncio
import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field

import httpx
import pytest
from tests.support.assistant import MODEL, VENV_BIN, assistant_env, assistant_specs
from tests.support.processes import free_port, running_processes
from conftest import RunningServer
from helpers import WsClient, is_msg, login, make_agent, new_conversation

from handoff_bridge.app import create_app
from handoff_bridge.settings import Settings

pytestmark = pytest.mark.e2e

ASSISTANT_PYTHON = VENV_BIN / "python"
QUESTION = os.environ.get("HANDOFF_E2E_QUESTION", "Hvordan får jeg et nyt pas?")
ASK_PERSON = os.environ.get("HANDOFF_E2E_ASK_PERSON", "Jeg vil gerne tale med en medarbejder")
# Answered by an action (FAQ answers are Rasa's own responses and need no action server).
ACTION_QUESTION = "Hvornår får jeg mine penge?"
STARTUP_SECONDS = 180
# What the citizen must never wait longer than for some answer.
ANSWER_SECONDS = 5.0


@dataclass
class Assistant:
    rasa_url: str
    rasa_token: str
    bridge_port: int
    action_url: str | None = None
    action_token: str | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def process(self, name: str) -> subprocess.Popen:
        if name not in self.processes:
            pytest.skip("the assistant's processes are not started by this test")
        return self.processes[name]

    def kill(self, name: str) -> None:
        process = self.process(name)
        process.kill()
        process.wait(timeout=20)

    def hang(self, name: str) -> None:
        """Stop the process without closing its socket: connections open, nothing answers."""
        self.process(name).send_signal(signal.SIGSTOP)

    def wake(self, name: str) -> None:
        self.process(name).send_signal(signal.SIGCONT)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    """The running assistant (Rasa and the action server) and the bridge's port."""
    if os.environ.get("RASA_URL"):
        if not answers(f"{os.environ['RASA_URL']}/"):
            pytest.skip(f"Rasa is not reachable at {os.environ['RASA_URL']}")
        yield Assistant(os.environ["RASA_URL"], os.environ.get("RASA_TOKEN", Settings(env="development").rasa_token),
                        int(os.environ.get("HANDOFF_E2E_PORT", "8080")))
        return
    if not (ASSISTANT_PYTHON.exists() and MODEL.exists()):
        pytest.skip("the assistant is not built: run the top-level `make setup train`")
    workdir = tmp_path_factory.mktemp("assistant")
    rasa_token, action_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    bridge_port, action_port, rasa_port = free_port(), free_port(), free_port()
    env = assistant_env(os.environ, token=rasa_token, action_token=action_token, action_port=action_port,
                        RASA_TRACKER_DB=str(workdir / "tracker.db"))
    specs = assistant_specs(workdir, env, token=rasa_token, action_port=action_port, rasa_port=rasa_port)
    with running_processes(specs, startup_seconds=STARTUP_SECONDS) as processes:
        yield Assistant(f"http://127.0.0.1:{rasa_port}", rasa_token, bridge_port,
                        action_url=f"http://127.0.0.1:{action_port}", action_token=action_token,
                        processes=processes)


@pytest.fixture
async def e2e_bridge(assistant, tmp_path, queue_config):
    settings = Settings(
        env="development",
        port=assistant.bridge_port,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}",
        rasa_url=assistant.rasa_url,
        rasa_token=assistant.rasa_token,
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
    server = await app.create_server(host="127.0.0.1", port=assistant.bridge_port, return_asyncio_server=True,
                                     access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()

    running = RunningServer(app, server, f"http://127.0.0.1:{assistant.bridge_port}")
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
        # The bot only signalled: the citizen hears about the queue once, from the bridge.
        shown = (await client.get(f"/api/v1/citizen/conversations/{cid}/messages", headers=headers)).json()["messages"]
        after_request = shown[[m["text"] for m in shown].index(ASK_PERSON) + 1:]
        assert [m["sender"] for m in after_request] == ["system"]
        assert "kø" in after_request[0]["text"]

        await make_agent(e2e_bridge.deps, "e2e-agent")
        agent_headers = await login(client, "e2e-agent")
        agent = await WsClient.agent(e2e_bridge.url, agent_headers)
        await agent.recv_until(lambda f: f["type"] == "hello")
        claimed = await client.post("/api/v1/agent/queue/claim-next", headers=agent_headers)
        assert claimed.status_code == 200 and claimed.json()["conversation_id"] == cid

        transcript = (await client.get(f"/api/v1/agent/conversations/{cid}/transcript", headers=agent_headers)).json()
        assert any(m["sender"] == "bot" and m["topic"] for m in transcript["messages"])
        # No raw handoff signal among the assistant's turns.
        assert not any("handoff" in str(m.get("payload") or "") or "{" in (m["text"] or "")
                       for m in transcript["messages"] if m["sender"] == "bot")

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
    rasa_url, rasa_token = assistant.rasa_url, assistant.rasa_token
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


def test_the_action_server_refuses_calls_without_the_shared_token(assistant):
    if assistant.action_url is None:
        pytest.skip("the action server is not started by this test")
    call = {"next_action": "action_handoff", "sender_id": "x", "tracker": {"sender_id": "x", "events": []},
            "domain": {}, "version": "3.6.2"}
    assert httpx.post(f"{assistant.action_url}/webhook", json=call, timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert httpx.post(f"{assistant.action_url}/webhook", json=call, headers=wrong, timeout=10).status_code == 401
    assert httpx.get(f"{assistant.action_url}/actions", timeout=10).status_code == 401
    # Health checks hold no secret.
    assert httpx.get(f"{assistant.action_url}/health", timeout=10).status_code == 200


async def ask(client, cid, headers, text, client_msg_id):
    sent = await client.post(f"/api/v1/citizen/conversations/{cid}/messages", headers=headers,
                             json={"text": text, "client_msg_id": client_msg_id})
    assert sent.status_code in (200, 201, 202), sent.text


async def first_reply_after(client, cid, headers, after_seq, predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msgs = (await client.get(f"/api/v1/citizen/conversations/{cid}/messages", headers=headers,
                                 params={"after": after_seq, "wait": 1})).json()["messages"]
        replies = [m for m in msgs if m["sender"] != "citizen"]
        if replies and predicate(replies):
            return replies
    raise AssertionError("no reply")


def is_offer(replies):
    return any(any(b["payload"].startswith("bridge:handoff") for b in (m.get("payload") or {}).get("buttons", []))
               for m in replies)


async def test_action_server_killed_the_citizen_gets_an_answer_and_an_offer(e2e_bridge, assistant):
    assistant.kill("action server")
    async with httpx.AsyncClient(base_url=e2e_bridge.url, timeout=30) as client:
        cid, headers = await new_conversation(client, municipality="101", language="da")
        started = time.monotonic()
        await ask(client, cid, headers, ACTION_QUESTION, "f1")
        replies = await first_reply_after(client, cid, headers, 1, lambda r: True)
        elapsed = time.monotonic() - started
        print(f"action server down: answer and offer after {elapsed:.2f} s")
        assert elapsed < ANSWER_SECONDS
        assert is_offer(replies) and "kan desværre ikke svare lige nu" in replies[0]["text"], replies
        state = (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).json()
        assert state["mode"] == "bot"

        # NLU still works: an explicit request for a person is queued at once.
        seq = replies[-1]["seq"]
        started = time.monotonic()
        await ask(client, cid, headers, ASK_PERSON, "f2")
        replies = await first_reply_after(client, cid, headers, seq + 1, lambda r: True)
        elapsed = time.monotonic() - started
        print(f"action server down, request for a person: queued after {elapsed:.2f} s")
        assert elapsed < ANSWER_SECONDS
        assert "kø" in replies[0]["text"] and not is_offer(replies)
        state = (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).json()
        assert state["mode"] == "queued"


async def test_rasa_hung_the_citizen_gets_an_answer_and_an_offer_within_5_seconds(e2e_bridge, assistant):
    assistant.hang("rasa")
    try:
        async with httpx.AsyncClient(base_url=e2e_bridge.url, timeout=30) as client:
            cid, headers = await new_conversation(client, municipality="101", language="da")
            started = time.monotonic()
            await ask(client, cid, headers, QUESTION, "h1")
            replies = await first_reply_after(client, cid, headers, 1, lambda r: True)
            elapsed = time.monotonic() - started
            print(f"rasa hung: answer and offer after {elapsed:.2f} s")
            assert elapsed < ANSWER_SECONDS
            assert is_offer(replies) and "kan desværre ikke svare lige nu" in replies[0]["text"]
    finally:
        assistant.wake("rasa")


async def test_rasa_killed_the_citizen_gets_an_answer_and_a_working_offer(e2e_bridge, assistant):
    assistant.kill("rasa")
    async with httpx.AsyncClient(base_url=e2e_bridge.url, timeout=30) as client:
        cid, headers = await new_conversation(client, municipality="101", language="sv")
        started = time.monotonic()
        await ask(client, cid, headers, "Hur får jag ett nytt pass?", "r1")  # an answer Rasa gives itself
        replies = await first_reply_after(client, cid, headers, 1, lambda r: True)
        elapsed = time.monotonic() - started
        print(f"rasa down: answer and offer after {elapsed:.2f} s")
        assert elapsed < ANSWER_SECONDS
        assert is_offer(replies) and "kan tyvärr inte svara just nu" in replies[0]["text"]
        # The offered button works without Rasa.
        [button] = [b for m in replies for b in (m.get("payload") or {}).get("buttons", [])]
        await client.post(f"/api/v1/citizen/conversations/{cid}/messages", headers=headers,
                          json={"text": button["title"], "payload": button["payload"], "client_msg_id": "r2"})
        replies = await first_reply_after(client, cid, headers, replies[-1]["seq"] + 1, lambda r: True)
        assert "kö" in replies[0]["text"]
        state = (await client.get(f"/api/v1/citizen/conversations/{cid}", headers=headers)).json()
        assert state["mode"] == "queued"
