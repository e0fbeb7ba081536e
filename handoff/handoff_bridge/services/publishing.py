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
import copy
import datetime as dt
import json
import logging
import os
import secrets
import socket
from pathlib import Path

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..db.models import KbAnswer, KbPublication, KbPublishLock, KbRevision, utcnow
from ..errors import ApiError, Conflict, NotFound, Unprocessable
from . import answers as answers_svc
from . import audit as audit_svc
from . import knowledge_files as kf
from .knowledge import KnowledgeEngine, problems_by_answer, written

log = logging.getLogger("handoff.publishing")

LOCK_ROW = 1


class PublishBusy(Conflict):
    def __init__(self):
        super().__init__("publish_busy", "another publish is running; try again in a moment")


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


class InvalidContent(Unprocessable):
    def __init__(self, problems: list[dict]):
        super().__init__("invalid_content", f"the content has {len(problems)} problem(s)", problems=problems)


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


async def import_and_publish(deps, directory: Path, *, editor=None) -> dict:
    """The explicit import (knowledge-import): the files become the store's published
    content and the live publication, so what the assistant answers from and what the
    editors edit agree again."""
    summary = await import_directory(deps, directory, editor=editor)
    async with publish_lease(deps):
        async with deps.sessionmaker() as session:
            content = await answers_svc.published_content(session)
        with written(content) as candidate:
            result = await KnowledgeEngine(deps.settings).publish(candidate)
    if not result.get("ok"):
        raise InvalidContent(problems_by_answer(content, result.get("problems") or []))
    return {**summary, "version": result["version"]}


async def import_if_empty(deps) -> dict | None:
    """At start: the repository's files become the store's content when it has none
    (and only then: a store with content is the editors' work, and the files reach it
    only through the explicit knowledge-import). The live publication is left as
    `make knowledge` made it from the same files."""
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
        raise Conflict("store_empty", "the content store holds no published content")
    return kf.write_directory(content, directory)


# ---------------------------------------------------------------- the gate and publishing


class GateBlocked(Conflict):
    """The candidate makes questions wrong that were right: the editor fixes or accepts them."""

    def __init__(self, gate: dict):
        super().__init__("gate_blocked", f"{len(gate['regressions'])} question(s) that were answered right "
                                         "would be answered wrong; fix the answer or accept them", gate=gate)


def _gate_summary(result: dict, accepted: list[dict]) -> dict:
    return {"live_version": result.get("live_version"), "counts": result.get("counts"),
            "seconds": result.get("seconds"), "embedded_texts": result.get("embedded_texts"),
            "regressions": result.get("regressions") or [], "weaker": (result.get("weaker") or [])[:100],
            "fixed": (result.get("fixed") or [])[:100],
            "accepted": accepted}


async def _snapshot(deps, answer_ids: list[str], *, require_draft: bool = True):
    """The candidate content (these answers' drafts over the published content), the drafts
    as they were read, and the regression set."""
    async with deps.sessionmaker() as session:
        rows = {r.id: r for r in await session.scalars(select(KbAnswer).where(KbAnswer.id.in_(answer_ids)))}
        missing = [a for a in answer_ids if a not in rows]
        if missing:
            raise NotFound("not_found", f"no answer {missing[0]}", answer_id=missing[0])
        without = [a for a in answer_ids if rows[a].draft is None]
        if require_draft and without:
            raise Conflict("no_draft", f"answer {without[0]} has no draft to publish", answer_id=without[0])
        drafts = {a: (copy.deepcopy(rows[a].draft), rows[a].draft_version) for a in answer_ids}
        candidate = await answers_svc.published_content(session, drafts=answer_ids)
        regression = await answers_svc.regression_set(session)
    return candidate, drafts, regression


async def evaluate(deps, answer_ids: list[str]) -> dict:
    """The gate's result for publishing these drafts now, without publishing."""
    candidate, _drafts, regression = await _snapshot(deps, answer_ids)
    return await _run_gate(deps, candidate, regression)


async def _run_gate(deps, candidate: kf.Content, regression: list[dict], directory: Path | None = None) -> dict:
    engine = KnowledgeEngine(deps.settings)

    async def run(candidate_dir: Path) -> dict:
        questions = candidate_dir.parent / "questions.json"
        questions.write_text(json.dumps({"questions": regression}, ensure_ascii=False), encoding="utf-8")
        return await engine.gate(candidate_dir, questions, deps.settings.knowledge_heldout_dir)

    if directory is not None:
        result = await run(directory)
    else:
        with written(candidate) as candidate_dir:
            result = await run(candidate_dir)
    if not result.get("ok"):
        raise InvalidContent(problems_by_answer(candidate, result.get("problems") or []))
    return result


async def publish_answers(deps, editor, answer_ids: list[str], accept: list[str] | None = None, *,
                          kind: str = "publish", restores: dict[str, int] | None = None) -> dict:
    """Gate, publish and record these answers' drafts (one publish at a time).

    The gate runs on exactly the content that is then published. When it finds
    regressions the editor has not accepted (`accept`: their keys), nothing is
    published (GateBlocked carries the gate's result). The publication
    directory switches first; if recording it in the database fails, the
    directory is switched back, so the store and the live content agree."""
    answers_svc._check_editor(editor)
    answer_ids = list(dict.fromkeys(answer_ids))
    async with publish_lease(deps):
        candidate, drafts, regression = await _snapshot(deps, answer_ids)
        engine = KnowledgeEngine(deps.settings)
        with written(candidate) as directory:
            gate = await _run_gate(deps, candidate, regression, directory)
            regressions = gate.get("regressions") or []
            wanted = set(accept or ())
            open_ones = [r for r in regressions if r["key"] not in wanted]
            if open_ones:
                raise GateBlocked(_gate_summary(gate, []))
            accepted = [{k: r[k] for k in ("key", "set", "language", "question", "answer_id", "after")}
                        for r in regressions]
            previous = read_current(engine.index)
            result = await engine.publish(directory)
        if not result.get("ok"):
            raise InvalidContent(problems_by_answer(candidate, result.get("problems") or []))
        try:
            publication = await _record(deps, editor, kind, result["version"], drafts, _gate_summary(gate, accepted),
                                        restores or {})
        except BaseException:
            if previous:
                switch_back(engine.index, result["version"], previous)
            raise
    return {"published": True, "publication": publication, "gate": _gate_summary(gate, accepted)}


async def _record(deps, editor, kind: str, version: str, drafts: dict, gate: dict, restores: dict) -> dict:
    now = utcnow()
    async with deps.sessionmaker() as session:
        async with session.begin():
            publication = KbPublication(kind=kind, version=version, changed=list(drafts), gate=gate, created_at=now,
                                        created_by=editor.id, created_by_login=editor.login)
            session.add(publication)
            await session.flush()
            numbers = await answers_svc._next_numbers(session)
            for answer_id, (document, version_read) in drafts.items():
                row = await answers_svc._answer_row(session, answer_id, lock=True)
                document = copy.deepcopy(document)
                category = document.pop("category")
                document["id"] = answer_id
                document = kf.file_document(document)
                document["last_verified"] = str(document.get("last_verified"))
                revision = KbRevision(answer_id=answer_id, number=numbers.get(answer_id, 0) + 1, category=category,
                                      document=document, content_hash=answers_svc.content_hash(category, document),
                                      publication_id=publication.id, restores_revision_id=restores.get(answer_id),
                                      created_at=now, created_by=editor.id)
                session.add(revision)
                await session.flush()
                if row.category != category:
                    last = await session.scalar(select(func.max(KbAnswer.position)).where(KbAnswer.category == category))
                    row.position = (last or 0) + 1
                    row.category = category
                row.published_revision_id = revision.id
                if row.draft_version == version_read:
                    row.draft = None  # published as it was; a newer save stays a draft
            detail = {"kind": kind, "version": version, "answers": list(drafts),
                      "counts": gate.get("counts"), "restores": restores or None}
            await audit_svc.record_editor(session, "rollback" if kind == "rollback" else "publish",
                                          subject=f"publication:{publication.id}", editor=editor, detail=detail)
            if gate["accepted"]:
                await audit_svc.record_editor(session, "gate_accept", subject=f"publication:{publication.id}",
                                              editor=editor, detail={"accepted": gate["accepted"][:500],
                                                                     "count": len(gate["accepted"])})
    return publication_to_dict(publication)


def publication_to_dict(p: KbPublication) -> dict:
    return {"id": p.id, "kind": p.kind, "version": p.version, "changed": p.changed,
            "created_at": p.created_at.isoformat(), "created_by": p.created_by_login,
            "counts": (p.gate or {}).get("counts"), "accepted": len((p.gate or {}).get("accepted") or [])}


def read_current(root: Path) -> str | None:
    try:
        return (root / "CURRENT").read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def switch_back(root: Path, published: str, previous: str) -> None:
    """Name the previous version live again, unless someone published after us."""
    if read_current(root) != published:
        return
    temporary = root / f".CURRENT.{os.getpid()}"
    temporary.write_text(previous + "\n", encoding="utf-8")
    os.replace(temporary, root / "CURRENT")
    log.error("publish of %s not recorded; %s is live again", published, previous)


async def rollback(deps, editor, answer_id: str, revision_id: int, accept: list[str] | None = None) -> dict:
    """Restore an earlier revision of an answer: it becomes the draft and is published
    through the same gate (a new revision that records what it restores)."""
    answers_svc._check_editor(editor)
    async with deps.sessionmaker() as session:
        async with session.begin():
            row = await answers_svc._answer_row(session, answer_id, lock=True)
            revision = await session.get(KbRevision, revision_id)
            if revision is None or revision.answer_id != answer_id:
                raise NotFound("not_found", "no such revision of this answer")
            current = await session.get(KbRevision, row.published_revision_id) if row.published_revision_id else None
            if current is not None and current.content_hash == revision.content_hash:
                raise Conflict("nothing_to_restore", "this revision is what is published now")
            restored = {**copy.deepcopy(revision.document), "category": revision.category}
            if row.draft is not None and row.draft != restored:
                raise Conflict("draft_pending", "the answer has an unpublished draft; publish or discard it first")
            if row.draft is None:
                answers_svc._store_draft(row, restored, editor)
    return await publish_answers(deps, editor, [answer_id], accept, kind="rollback", restores={answer_id: revision_id})


async def check_draft(deps, answer_id: str) -> dict:
    """The engine's validation of the whole base with this answer's draft in it;
    the problems of this answer first."""
    candidate, _drafts, _regression = await _snapshot(deps, [answer_id])
    engine = KnowledgeEngine(deps.settings)
    with written(candidate) as directory:
        result = await engine.validate(directory)
    problems = problems_by_answer(candidate, result.get("problems") or [])
    problems.sort(key=lambda p: p.get("answer_id") != answer_id)
    return {"ok": bool(result.get("ok")), "problems": problems}
