"""Every test story in tests/stories/ is followed exactly by the trained model:
each message is understood as written and every bot action is the expected one."""

from __future__ import annotations

import subprocess
import sys

import yaml

from tests.conftest import MODEL, ROOT

PYTHON = ROOT / ".venv" / "bin" / "python"


def test_stories_cover_both_languages():
    files = sorted(path.name for path in (ROOT / "tests" / "stories").glob("*.yml"))
    assert any(name.endswith("_da.yml") for name in files)
    assert any(name.endswith("_sv.yml") for name in files)


def test_every_rule_has_a_test_story():
    tested = set()
    for path in (ROOT / "tests" / "stories").glob("*.yml"):
        for story in yaml.safe_load(path.read_text(encoding="utf-8")).get("stories", []):
            tested.update(step["action"] for step in story["steps"] if "action" in step)
    untested = set()
    for path in (ROOT / "data").rglob("*.yml"):
        for rule in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("rules", []) or []:
            actions = [step["action"] for step in rule["steps"] if "action" in step]
            untested.update(action for action in actions if action not in tested)
    assert not untested, f"rules whose actions no test story checks: {sorted(untested)}"


def test_stories_are_followed_exactly(tmp_path):
    result = subprocess.run(
        [
            str(PYTHON), "-m", "rasa_addons.server", "test", "core",
            "--model", str(MODEL),
            "--stories", str(ROOT / "tests" / "stories"),
            "--fail-on-prediction-errors",
            "--no-plot",
            "--out", str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    failed = tmp_path / "failed_test_stories.yml"
    report = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert result.returncode == 0, f"{report}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
