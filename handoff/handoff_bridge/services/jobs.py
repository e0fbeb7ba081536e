"""Knowledge-engine work that may outlast a request: publish, rollback, the gate, a check.

Sanic ends every request after RESPONSE_TIMEOUT (app.py). The engine usually
answers within seconds, but a first gate on a new machine embeds the held-out
questions (about half a minute), and a large base takes longer. So the work
runs as a task of its own: the request waits up to WAIT_SECONDS for it and
answers with its result, or with 202 and a job id the page polls
(GET /api/v1/editor/jobs/<id>). The task is never cut off by the request; it
is bounded by knowledge_timeout_seconds (the engine) and the publish lease.

Jobs live in the instance that runs them (at most MAX_JOBS, for KEEP_SECONDS
after they end); the publication itself is in the database, so a page whose
poll reaches another instance still finds it in the history.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time

from ..errors import ApiError, Unavailable, not_found

log = logging.getLogger("handoff.jobs")

WAIT_SECONDS = 25.0
MAX_JOBS = 200
KEEP_SECONDS = 3600.0


class Jobs:
    def __init__(self):
        self._jobs: dict[str, dict] = {}

    def _prune(self) -> None:
        now = time.monotonic()
        for job_id, job in list(self._jobs.items()):
            if job["ended"] is not None and now - job["ended"] > KEEP_SECONDS:
                del self._jobs[job_id]
        while len(self._jobs) >= MAX_JOBS:
            oldest = next((k for k, j in self._jobs.items() if j["ended"] is not None), None)
            if oldest is None:
                raise Unavailable("too_many_jobs", "too many checks and publishes are running; try again soon")
            del self._jobs[oldest]

    async def run(self, app, coro, owner: int, wait: float | None = None) -> tuple[int, dict]:
        """(status, body): the coroutine's result (200), its API error, or 202 while it runs
        longer than `wait` seconds (default WAIT_SECONDS)."""
        wait = WAIT_SECONDS if wait is None else wait
        self._prune()
        job_id = secrets.token_urlsafe(12)
        job = {"owner": owner, "ended": None, "status": "running", "result": None, "error": None}
        self._jobs[job_id] = job
        task = asyncio.get_running_loop().create_task(coro, name=f"editor-job-{job_id}")
        app.ctx.background.add(task)

        def finished(t: asyncio.Task) -> None:
            app.ctx.background.discard(t)
            job["ended"] = time.monotonic()
            if t.cancelled():
                job.update(status="failed", error={"status": 503, "code": "cancelled", "message": "stopped"})
                return
            exc = t.exception()
            if isinstance(exc, ApiError):
                job.update(status="failed", error={"status": exc.status, **exc.body()["error"]})
            elif exc is not None:
                log.error("editor job failed", exc_info=exc)
                job.update(status="failed", error={"status": 500, "code": "internal_error", "message": "internal error"})
            else:
                job.update(status="done", result=t.result())

        task.add_done_callback(finished)
        try:
            await asyncio.wait_for(asyncio.shield(task), wait)
        except asyncio.TimeoutError:
            return 202, {"job_id": job_id, "status": "running"}
        except Exception:  # noqa: BLE001 - reported from the job below
            pass
        return self.outcome(job_id, owner)

    def outcome(self, job_id: str, owner: int) -> tuple[int, dict]:
        job = self._jobs.get(job_id)
        if job is None or job["owner"] != owner:
            raise not_found("job")
        if job["status"] == "running":
            return 202, {"job_id": job_id, "status": "running"}
        if job["status"] == "failed":
            error = dict(job["error"])
            return error.pop("status"), {"error": error}
        return 200, job["result"]
