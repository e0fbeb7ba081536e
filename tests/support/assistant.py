"""The assistant as it runs in production: the Rasa server and the action
server as real processes, talking to the sandboxed municipal systems.

assistant_env and assistant_specs describe one instance; the assistant's own
tests, the bridge's end-to-end, failover and acceptance tests start theirs
with them (processes.running_processes)."""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional

from tests.support.login_tokens import LoginIssuer
from tests.support.processes import ProcessSpec, free_port, running_processes
from tests.support.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
MODEL = REPO / "models" / "ddh.tar.gz"
RASA_STARTUP_SECONDS = 180


@dataclass
class Assistant:
    url: str
    token: str
    sandbox: Optional[Sandbox]
    # The action server, which only Rasa (holding this token) may call.
    action_url: str = ""
    action_token: str = ""
    # Signs login tokens the action server trusts (authenticated chat).
    login: Optional[LoginIssuer] = None
    # Where the servers' logs and the tracker database are.
    workdir: Optional[Path] = None
    # The knowledge base publication directory the servers answer from; a
    # test may publish into it (tests/support/knowledge.py).
    knowledge_root: Optional[Path] = None

    def send(self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """One citizen message through the bridge channel, as the bridge sends it."""
        body = json.dumps({"sender": sender, "message": text, "metadata": metadata or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/webhooks/bridge/webhook",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def tracker_event(self, sender: str, event: str, token: Optional[str] = None) -> int:
        """Pause or resume the bot as the bridge does; returns the HTTP status."""
        request = urllib.request.Request(
            f"{self.url}/webhooks/bridge/conversations/{sender}/{event}",
            data=b"",
            method="POST",
            headers={"Authorization": f"Bearer {token or self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def parse(self, text: str) -> Dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}/model/parse?token={self.token}",
            data=json.dumps({"text": text}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def tracker(self, sender: str) -> Dict[str, Any]:
        request = urllib.request.Request(f"{self.url}/conversations/{sender}/tracker?token={self.token}")
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())


def assistant_specs(
    workdir: Path,
    env: Dict[str, str],
    *,
    token: str,
    action_port: int,
    rasa_port: int,
    endpoints: str = "endpoints.yml",
    suffix: str = "",
) -> List[ProcessSpec]:
    """The action server and the Rasa server of one assistant instance, to start
    with processes.running_processes. `env` is the instance's environment
    (RASA_TOKEN, ACTION_SERVER_TOKEN, ACTION_SERVER_URL and the stores it
    uses); its logs are actions{suffix}.log and rasa{suffix}.log in `workdir`."""
    python = str(VENV_BIN / "python")
    return [
        ProcessSpec(
            f"action server{suffix}",
            [python, "-m", "rasa_addons.action_server", "--actions", "actions", "--port", str(action_port)],
            REPO, env, workdir / f"actions{suffix}.log", f"http://127.0.0.1:{action_port}/health",
        ),
        ProcessSpec(
            f"rasa{suffix}",
            [
                python, "-m", "rasa_addons.server", "run", "--model", str(MODEL),
                "--interface", "127.0.0.1", "--port", str(rasa_port),
                "--enable-api", f"--auth-token={token}",
                "--credentials", "credentials.yml", "--endpoints", endpoints,
            ],
            REPO, env, workdir / f"rasa{suffix}.log",
            # The bridge channel answers only once the model is loaded.
            f"http://127.0.0.1:{rasa_port}/status?token={token}",
        ),
    ]


def assistant_env(base: Mapping[str, str], *, token: str, action_token: str, action_port: int,
                  **more: str) -> Dict[str, str]:
    """The environment of an assistant instance: `base`, the tokens, its action server, and `more`."""
    return {
        **base,
        "PYTHONPATH": str(REPO),
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
        "RASA_TOKEN": token,
        "ACTION_SERVER_TOKEN": action_token,
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
        **more,
    }


@contextmanager
def running_assistant(workdir: Path, sandbox: Optional[Sandbox] = None) -> Iterator[Assistant]:
    from tests.support.knowledge import publish_into

    token = secrets.token_urlsafe(24)
    action_token = secrets.token_urlsafe(24)
    knowledge_root = workdir / "knowledge"
    if not (knowledge_root / "CURRENT").exists():
        publish_into(knowledge_root)
    login = LoginIssuer()
    action_port, rasa_port = free_port(), free_port()
    env = assistant_env(
        os.environ, token=token, action_token=action_token, action_port=action_port,
        RASA_TRACKER_DB=str(workdir / "tracker.db"),
        DDH_KNOWLEDGE_INDEX=str(knowledge_root),
        # A publication goes live within a second (the tests that publish wait for it).
        DDH_KNOWLEDGE_CHECK_SECONDS="1",
        **(sandbox.adapter_env() if sandbox else {}),
        **login.env(),
    )
    specs = assistant_specs(workdir, env, token=token, action_port=action_port, rasa_port=rasa_port)
    with running_processes(specs, startup_seconds=RASA_STARTUP_SECONDS):
        yield Assistant(
            url=f"http://127.0.0.1:{rasa_port}",
            token=token,
            sandbox=sandbox,
            login=login,
            workdir=workdir,
            action_url=f"http://127.0.0.1:{action_port}",
            action_token=action_token,
            knowledge_root=knowledge_root,
        )
