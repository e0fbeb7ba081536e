"""`make run`'s Procfile (scripts/procfile.py): N Rasa instances only on shared stores."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "procfile.py"


def procfile(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def test_the_embedded_default_runs_one_rasa_instance_and_refuses_more():
    one = procfile()
    assert one.returncode == 0
    assert [line.split(":")[0] for line in one.stdout.splitlines()[1:]] == ["sandbox", "actions1", "rasa1", "bridge", "ready"]
    more = procfile("--instances", "2")
    assert more.returncode != 0 and "PostgreSQL" in more.stderr


def test_production_endpoints_run_several_instances_each_with_its_action_server_and_the_others_as_fallbacks():
    out = procfile("--instances", "3", "--endpoints", "deploy/production/endpoints.yml")
    assert out.returncode == 0
    lines = {line.split(":")[0]: line for line in out.stdout.splitlines()[1:]}
    assert {"rasa1", "rasa2", "rasa3", "actions1", "actions2", "actions3"} <= set(lines)
    assert "--port 5006" in lines["rasa2"] and "ACTION_SERVER_URL=http://127.0.0.1:5056/webhook" in lines["rasa2"]
    assert 'ACTION_SERVER_FALLBACK_URLS="http://127.0.0.1:5055/webhook,http://127.0.0.1:5057/webhook"' in lines["rasa2"]
    assert "HANDOFF_RASA_URL=http://127.0.0.1:5005,http://127.0.0.1:5006,http://127.0.0.1:5007" in lines["bridge"]
