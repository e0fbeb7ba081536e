"""Small clients for the bridge's citizen and agent APIs, used by the tests."""

from __future__ import annotations

import asyncio
import json
import time

import websockets

from handoff_bridge.api.models import NewAgentBody, validate
from handoff_bridge.services import accounts as accounts_svc

DEFAULT_PASSWORD = "correct horse battery staple"


class ManualClock:
    """A clock (handoff_bridge.clock.Clock) that moves only when the test says so."""

    def __init__(self, start: float):
        self.now = float(start)
        self.ticks = 0.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.ticks

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.ticks += seconds


async def new_conversation(client, municipality="101", language="da") -> tuple[str, dict]:
    resp = await client.post("/api/v1/citizen/conversations", json={"municipality": municipality, "language": language})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return body["conversation_id"], {"Authorization": f"Bearer {body['token']}"}


async def send(client, cid, headers, text, **extra):
    resp = await client.post(f"/api/v1/citizen/conversations/{cid}/messages", headers=headers, json={"text": text, **extra})
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


async def messages(client, cid, headers, after=0, wait=0.0):
    resp = await client.get(f"/api/v1/citizen/conversations/{cid}/messages", headers=headers,
                            params={"after": after, "wait": wait})
    assert resp.status_code == 200, resp.text
    return resp.json()["messages"]


async def wait_for_messages(client, cid, headers, predicate, timeout=5.0):
    """Poll until predicate(all messages) is true; returns the messages."""
    deadline = time.monotonic() + timeout
    msgs = []
    while time.monotonic() < deadline:
        msgs = await messages(client, cid, headers)
        if predicate(msgs):
            return msgs
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not met; messages: {[(m['sender'], m['text']) for m in msgs]}")


async def wait_until(condition, timeout=5.0, what="the condition"):
    """Poll a condition of the test's own state (the fake Rasa's requests, say) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        await asyncio.sleep(0.02)


async def settled(bridge, timeout=5.0):
    """Until the bridge has done the follow-up work of every message it acknowledged
    (bot turns and widget actions run after the acknowledgement): whatever it was
    going to forward or post for them, it has, so "nothing happened" can be asserted."""
    await wait_until(lambda: not bridge.app.ctx.background, timeout, "the bridge's follow-up work")


async def forwarded_after_marker(client, fake_rasa, cid, headers, marker="markør") -> list[str]:
    """What the bridge forwarded to Rasa for a conversation, once a later marker
    message got there too. Turns of one conversation reach Rasa in the order the
    citizen wrote them, so anything the bridge was still going to forward from
    before the marker is in the list."""
    await send(client, cid, headers, marker)
    await wait_until(lambda: marker in fake_rasa.texts_for(cid), what=f"forwarding of {marker!r}")
    return fake_rasa.texts_for(cid)


async def make_agent(deps, login, role="agent", capacity=3, languages=("da",), municipalities=("*",)):
    return await accounts_svc.create_agent(deps, validate(NewAgentBody, {
        "login": login, "password": DEFAULT_PASSWORD, "display_name": login.title(), "role": role,
        "capacity": capacity, "languages": list(languages), "municipalities": list(municipalities),
    }))


async def login(client, login_name, password=DEFAULT_PASSWORD, available=True) -> dict:
    resp = await client.post("/api/v1/agent/login", json={"login": login_name, "password": password})
    assert resp.status_code == 200, resp.text
    headers = {"Authorization": f"Bearer {resp.json()['token']}"}
    if available:
        r = await client.put("/api/v1/agent/me/status", headers=headers, json={"status": "available"})
        assert r.status_code == 200, r.text
    return headers


async def editor_session(deps, client, login_name, **kwargs) -> dict:
    """An editor account and its bearer headers (editors sign in on the editor API)."""
    await make_agent(deps, login_name, role="editor", **kwargs)
    resp = await client.post("/api/v1/editor/login", json={"login": login_name, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


async def agent_session(deps, client, login_name, **kwargs) -> dict:
    await make_agent(deps, login_name, **kwargs)
    return await login(client, login_name)


class WsClient:
    def __init__(self, ws):
        self.ws = ws
        self.frames: list[dict] = []

    @classmethod
    async def citizen(cls, base_url, cid, headers, last_seq=0, login_token=None):
        url = base_url.replace("http://", "ws://") + f"/api/v1/citizen/conversations/{cid}/ws"
        ws = await websockets.connect(url, open_timeout=5)
        token = headers["Authorization"].split(" ", 1)[1]
        hello = {"type": "hello", "token": token, "last_seq": last_seq}
        if login_token:
            hello["login_token"] = login_token
        await ws.send(json.dumps(hello))
        return cls(ws)

    @classmethod
    async def agent(cls, base_url, headers, cursors=None):
        url = base_url.replace("http://", "ws://") + "/api/v1/agent/ws"
        ws = await websockets.connect(url, open_timeout=5)
        hello = {"type": "hello", "token": headers["Authorization"].split(" ", 1)[1]}
        if cursors is not None:
            hello["cursors"] = cursors
        await ws.send(json.dumps(hello))
        return cls(ws)

    async def send(self, obj):
        await self.ws.send(json.dumps(obj))

    async def recv_until(self, predicate, timeout=5.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching frame; got {self.frames[-10:]}")
            try:
                raw = await asyncio.wait_for(self.ws.recv(), remaining)
            except asyncio.TimeoutError:
                continue
            frame = json.loads(raw)
            self.frames.append(frame)
            if predicate(frame):
                return frame

    async def close(self):
        await self.ws.close()


def is_msg(sender=None, text_part=None):
    def pred(f):
        return (f.get("type") == "message" and (sender is None or f.get("sender") == sender)
                and (text_part is None or text_part in (f.get("text") or "")))
    return pred


class CuttableProxy:
    """A TCP proxy to Redis that the test can cut: every open connection is
    dropped and new ones are closed at once until it is restored."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = _free_port()
        self.cut_now = False
        self._server: asyncio.base_events.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_now:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._pipes.update((writer, up_writer))

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        try:
            await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        except asyncio.CancelledError:
            pass  # the proxy stops
        finally:
            self._pipes.difference_update((writer, up_writer))

    def cut(self) -> None:
        self.cut_now = True
        for pipe in list(self._pipes):
            pipe.transport.abort()  # a reset, as when a network path or Redis goes away
        self._pipes.clear()

    def restore(self) -> None:
        self.cut_now = False

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
