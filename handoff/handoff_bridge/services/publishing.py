"""Moving content between the repository's files, the content store and the
live publication: import, export, the publish gate and publish itself.

One publish at a time across every bridge instance: a lease row
(kb_publish_lock) is taken by a conditional UPDATE in a short transaction and
given back at the end, so no database transaction stays open while the
engine runs (on SQLite that would block every citizen message). A lease ends
by itself after knowledge_publish_lease_seconds, so a crashed instance does
not block publishing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from ..db.models import KbPublishLock, utcnow
from ..errors import ApiError, conflict
from . import answers as answers_svc
from . import knowledge_files as kf
from .knowledge import KnowledgeEngine, problems_by_answer, written

log = logging.getLogger("handoff.publishing")

LOCK_ROW = 1


class PublishBusy(ApiError):
    def __init__(self):
        super().__init__("publish_busy", "another publish is running; try again in a moment", 409)


async def _take_lease(deps, holder: str) -> bool:
    now = utcnow()
    expires = now + dt.timedelta(seconds=deps.settings.knowledge_publish_lease_seconds)
    async with deps.sessionmaker() as session:
        async with session.begin():
            if await session.get(KbPublishLock, LOCK_ROW) is None:
                with contextlib.suppress(IntegrityError):
                    async with session.begin_nested():
                        session.add(KbPublishLock(id=LOCK_ROW))
            result = await session.execute(
                update(KbPublishLock)
                .where(KbPublishLock.id == LOCK_ROW,
                       or_(KbPublishLock.holder.is_(None), KbPublishLock.expires_at < now))
                .values(holder=holder, acquired_at=now, expires_at=expires)
                .execution_options(synchronize_session=False))
            return result.rowcount == 1


async def _give_back(deps, holder: str) -> None:
    async with deps.sessionmaker() as session:
        async with session.begin():
            await session.execute(
                update(KbPublishLock).where(KbPublishLock.id == LOCK_ROW, KbPublishLock.holder == holder)
                .values(holder=None, acquired_at=None, expires_at=None)
                .execution_options(synchronize_session=False))


@contextlib.asynccontextmanager
async def publish_lease(deps):
    """Hold the one publish lease, or raise PublishBusy."""
    holder = f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(4)}"
    if not await _take_lease(deps, holder):
        raise PublishBusy()
    try:
        yield holder
    finally:
        await _give_back(deps, holder)


# ---------------------------------------------------------------- import and export


class InvalidContent(ApiError):
    def __init__(self, problems: list[dict]):
        super().__init__("invalid_content", f"the content has {len(problems)} problem(s)", 422, problems=problems)


async def import_directory(deps, directory: Path, *, editor=None) -> dict:
    """Validate a knowledge directory with the engine and import it into the store."""
    content = kf.read_directory(directory)
    engine = KnowledgeEngine(deps.settings)
    with written(content) as candidate:  # what the store will hold, in its own layout
        result = await engine.validate(candidate)
    if not result.get("ok"):
        raise InvalidContent(problems_by_answer(content, result.get("problems") or []))
    async with publish_lease(deps):
        async with deps.sessionmaker() as session:
            async with session.begin():
                return await answers_svc.import_content(session, content, editor=editor)


async def import_if_empty(deps) -> dict | None:
    """At start: the repository's files become the store's content when it has none."""
    settings = deps.settings
    async with deps.sessionmaker() as session:
        if not await answers_svc.store_is_empty(session):
            return None
    try:
        return await import_directory(deps, settings.knowledge_dir)
    except PublishBusy:
        return None  # another instance is importing
    except (ApiError, kf.FileProblem) as exc:
        log.error("knowledge base not imported into the content store: %s", getattr(exc, "message", exc))
        return None


async def export_directory(deps, directory: Path) -> list[Path]:
    """Write the published content to a knowledge directory; returns the files that changed."""
    async with deps.sessionmaker() as session:
        content = await answers_svc.published_content(session)
    if not content.categories:
        raise conflict("store_empty", "the content store holds no published content")
    return kf.write_directory(content, directory)
