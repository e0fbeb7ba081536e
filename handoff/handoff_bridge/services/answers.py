"""The knowledge base's working content: answers, their drafts and revisions,
and the regression set of the publish gate.

An answer's *document* has the shape of one answer in a category file
(knowledge/<category>.yml) plus its category:

    {"id": ..., "category": ..., "source": ..., "last_verified": "YYYY-MM-DD",
     "da": {"title", "answer", "examples", "related"?, "municipal"?, "variants"?},
     "sv": {...}}

The published document of an answer is its current revision (kb_revisions);
editors change a copy of it, the draft (kb_answers.draft), which need not be
valid until it is published: the schema lives in rasa_addons/knowledge and is
applied by services/knowledge.py when a draft is checked or published.

The functions taking a `session` run inside the caller's transaction and do
not commit, so the review inbox can attach questions and update its group in
one transaction. They lock the answer's row on PostgreSQL (on SQLite the
transaction already holds the database's write lock).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
import unicodedata

from sqlalchemy import func, select

from ..db.models import (
    ANSWER_ID_LENGTH,
    Agent,
    KbAnswer,
    KbCategory,
    KbPublication,
    KbRegressionQuestion,
    KbRevision,
    KbSupportFile,
    utcnow,
)
from ..errors import Conflict, Invalid, forbidden, not_found
from ..privacy import mask_personal_data
from . import audit as audit_svc
from . import knowledge_files as kf

LANGUAGES = ("da", "sv")
# The knowledge-base schema's limits (rasa_addons/knowledge/schema.py).
MAX_EXAMPLES = 5
MAX_QUESTION_CHARS = 400
MIN_QUESTION_CHARS = 2
MAX_TITLE_CHARS = 80
# Questions taken by one call (a reviewed group may be large; its questions
# beyond this are not lost, the caller sends them in further calls).
MAX_QUESTIONS_PER_CALL = 200
ANSWER_ID = re.compile(r"^[a-z0-9][a-z0-9_]{1,79}$")
SOURCE = re.compile(r"^[a-z][a-z_]{1,30}(:[A-Za-z0-9_.-]{1,30})?$")
MAX_ANSWERS_LISTED = 20_000

STATUS_PUBLISHED = "published"  # live, no change waiting
STATUS_CHANGED = "changed"  # live, with a draft waiting
STATUS_DRAFT = "draft"  # never published


def _check_editor(editor: Agent) -> None:
    if editor is None or editor.role != "editor":
        raise forbidden("editors only")


def _check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise Invalid("invalid_language", "language must be 'da' or 'sv'")
    return language


def _check_source(source: str) -> str:
    if not isinstance(source, str) or not SOURCE.match(source):
        raise Invalid("invalid_source", "source must be a short name such as 'inbox' or 'editor' "
                                            "(optionally 'inbox:<id>')")
    return source


def clean_questions(questions) -> list[str]:
    """Whitespace collapsed, personal numbers masked (again: masking is idempotent),
    duplicates (case-insensitive) dropped, order kept. Bad input is refused, not cut."""
    if not isinstance(questions, list) or not questions:
        raise Invalid("invalid_questions", "questions must be a non-empty list of texts")
    if len(questions) > MAX_QUESTIONS_PER_CALL:
        raise Invalid("invalid_questions", f"at most {MAX_QUESTIONS_PER_CALL} questions at a time")
    out: list[str] = []
    seen: set[str] = set()
    for question in questions:
        if not isinstance(question, str):
            raise Invalid("invalid_questions", "every question must be a text")
        text = mask_personal_data(" ".join(question.split()))
        if not MIN_QUESTION_CHARS <= len(text) <= MAX_QUESTION_CHARS:
            raise Invalid("invalid_questions",
                              f"every question must be {MIN_QUESTION_CHARS}-{MAX_QUESTION_CHARS} characters")
        key = text.casefold()
        if key not in seen:
            seen.add(key)
            out.append(text)
    return out


def question_hash(question: str) -> str:
    return hashlib.sha256(question.casefold().encode("utf-8")).hexdigest()


def empty_entry() -> dict:
    return {"title": "", "answer": "", "examples": []}


def short_title(question: str, limit: int = MAX_TITLE_CHARS) -> str:
    if len(question) <= limit:
        return question
    cut = question[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "a", "ö": "o", "ü": "u", "ß": "ss"})


def slug(text: str, limit: int = 40) -> str:
    folded = unicodedata.normalize("NFKD", text.lower().translate(_FOLD)).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "_", folded).strip("_")
    return words[:limit].rstrip("_")


# ---------------------------------------------------------------- reading


async def _answer_row(session, answer_id: str, *, lock: bool) -> KbAnswer:
    if not isinstance(answer_id, str) or not ANSWER_ID.match(answer_id):
        raise not_found("answer")
    is_postgres = session.bind.dialect.name == "postgresql"
    row = await session.get(KbAnswer, answer_id, with_for_update=lock and is_postgres, populate_existing=lock)
    if row is None:
        raise not_found("answer")
    return row


async def published_document(session, row: KbAnswer) -> dict | None:
    if row.published_revision_id is None:
        return None
    revision = await session.get(KbRevision, row.published_revision_id)
    return {**copy.deepcopy(revision.document), "category": revision.category}


async def working_document(session, row: KbAnswer) -> dict:
    """The draft, or a copy of the published document to start one from."""
    if row.draft is not None:
        return copy.deepcopy(row.draft)
    published = await published_document(session, row)
    if published is None:  # an answer row always has a draft or a revision
        raise not_found("answer")
    return published


def status_of(row: KbAnswer) -> str:
    if row.published_revision_id is None:
        return STATUS_DRAFT
    return STATUS_CHANGED if row.draft is not None else STATUS_PUBLISHED


def draft_to_dict(row: KbAnswer, document: dict) -> dict:
    return {
        "answer_id": row.id,
        "status": status_of(row),
        "draft_version": row.draft_version,
        "draft_updated_at": row.draft_updated_at.isoformat() if row.draft_updated_at else None,
        "published_revision_id": row.published_revision_id,
        "document": document,
    }


# ---------------------------------------------------------------- the regression set


async def add_to_regression_set(session, *, answer_id: str, language: str, questions: list[str],
                                editor: Agent | None, source: str) -> int:
    """Record (masked) questions as belonging to this answer; returns how many were new.
    The set only grows: it is every reviewed question ever attached to an answer."""
    hashes = {question_hash(q): q for q in questions}
    existing = set((await session.scalars(
        select(KbRegressionQuestion.question_hash).where(
            KbRegressionQuestion.answer_id == answer_id, KbRegressionQuestion.language == language,
            KbRegressionQuestion.question_hash.in_(list(hashes))))).all())
    now = utcnow()
    new = [KbRegressionQuestion(answer_id=answer_id, language=language, question=q, question_hash=h,
                                source=source, added_at=now, added_by=editor.id if editor else None)
           for h, q in hashes.items() if h not in existing]
    session.add_all(new)
    await session.flush()
    return len(new)


async def regression_set(session, answer_ids: list[str] | None = None) -> list[dict]:
    stmt = select(KbRegressionQuestion).order_by(KbRegressionQuestion.answer_id, KbRegressionQuestion.id)
    if answer_ids is not None:
        stmt = stmt.where(KbRegressionQuestion.answer_id.in_(answer_ids))
    return [{"answer_id": r.answer_id, "language": r.language, "question": r.question, "source": r.source,
             "added_at": r.added_at.isoformat()} for r in await session.scalars(stmt)]


# ---------------------------------------------------------------- for the review inbox


async def add_example_questions(session, *, answer_id: str, language: str, questions: list[str],
                                editor: Agent, source: str) -> dict:
    """Add (masked) questions as example questions of an answer, in its draft.

    The draft is created from the published answer if there is none. The
    schema allows 1-5 examples per language: questions are added until the
    list holds five (the editor chooses which to keep when more would be
    useful); every question, added or not, joins the answer's regression set,
    so the publish gate checks from now on that it is answered with this
    answer. Returns the draft (`draft_to_dict`) plus `added_examples` and
    `regression_only` (the questions that did not fit the examples list or
    were already examples are in the regression set only).
    """
    _check_editor(editor)
    _check_language(language)
    _check_source(source)
    cleaned = clean_questions(questions)
    row = await _answer_row(session, answer_id, lock=True)
    document = await working_document(session, row)
    entry = document.get(language) or empty_entry()
    examples = list(entry.get("examples") or [])
    known = {e.casefold() for e in examples}
    added, regression_only = [], []
    for question in cleaned:
        if question.casefold() in known:
            regression_only.append(question)
        elif len(examples) < MAX_EXAMPLES:
            examples.append(question)
            known.add(question.casefold())
            added.append(question)
        else:
            regression_only.append(question)
    entry["examples"] = examples
    document[language] = entry
    _store_draft(row, document, editor)
    new_in_set = await add_to_regression_set(session, answer_id=answer_id, language=language, questions=cleaned,
                                             editor=editor, source=source)
    await audit_svc.record_editor(session, "answer_examples_add", subject=f"answer:{answer_id}", editor=editor,
                                  detail={"language": language, "source": source, "added_examples": len(added),
                                          "regression_only": len(regression_only), "new_in_regression_set": new_in_set})
    await session.flush()
    return {**draft_to_dict(row, document), "added_examples": added, "regression_only": regression_only}


async def new_draft_from_questions(session, *, language: str, questions: list[str], category: str | None,
                                   editor: Agent, source: str) -> dict:
    """A new answer, as a draft, prefilled with these (masked) questions as its
    example questions (the first five; all of them join its regression set) and
    the first question as a provisional title. `category` is an existing
    category or None (the editor chooses it before publishing). The answer id
    is made from the first question and stays free to change until the answer
    is first published."""
    _check_editor(editor)
    _check_language(language)
    _check_source(source)
    cleaned = clean_questions(questions)
    if category is not None:
        if not isinstance(category, str) or await session.get(KbCategory, category) is None:
            raise Invalid("invalid_category", "category must be an existing category (or none yet)")
    answer_id = await _free_answer_id(session, slug(cleaned[0]) or "new_answer")
    document = {
        "id": answer_id,
        "category": category,
        "source": "",
        "last_verified": dt.date.today().isoformat(),
        language: {"title": short_title(cleaned[0]), "answer": "", "examples": cleaned[:MAX_EXAMPLES]},
    }
    row = KbAnswer(id=answer_id, category=None, position=0, published_revision_id=None, draft_version=0,
                   created_at=utcnow())
    _store_draft(row, document, editor)
    session.add(row)
    await session.flush()
    await add_to_regression_set(session, answer_id=answer_id, language=language, questions=cleaned,
                                editor=editor, source=source)
    await audit_svc.record_editor(session, "answer_new", subject=f"answer:{answer_id}", editor=editor,
                                  detail={"language": language, "source": source, "questions": len(cleaned),
                                          "category": category})
    await session.flush()
    return draft_to_dict(row, document)


async def _free_answer_id(session, base: str) -> str:
    base = base[:ANSWER_ID_LENGTH - 4].strip("_")
    if len(base) < 2 or not base[0].isalnum():
        base = f"answer_{base}".strip("_")
    taken = set((await session.scalars(select(KbAnswer.id).where(KbAnswer.id.like(f"{base}%")))).all())
    if base not in taken:
        return base
    for n in range(2, 1000):
        candidate = f"{base}_{n}"
        if candidate not in taken:
            return candidate
    raise Invalid("invalid_questions", "no free answer id for this question; start the answer in the editor")


def _store_draft(row: KbAnswer, document: dict, editor: Agent | None) -> None:
    row.draft = copy.deepcopy(document)  # a new object: the JSON column sees the change
    row.draft_version = (row.draft_version or 0) + 1
    row.draft_updated_at = utcnow()
    row.draft_updated_by = editor.id if editor is not None else None


async def list_answers(session, *, language: str | None = None) -> list[dict]:
    """Summaries for pickers and the answer list: id, category, title per language,
    status (published / changed / draft), in file order."""
    if language is not None:
        _check_language(language)
    rows = (await session.execute(
        select(KbAnswer, KbRevision)
        .outerjoin(KbRevision, KbRevision.id == KbAnswer.published_revision_id)
        .order_by(func.coalesce(KbAnswer.category, ""), KbAnswer.position, KbAnswer.id)
        .limit(MAX_ANSWERS_LISTED))).all()
    out = []
    for row, revision in rows:
        document = row.draft if row.draft is not None else {**revision.document, "category": revision.category}
        titles = {lang: (document.get(lang) or {}).get("title") or "" for lang in LANGUAGES if document.get(lang)}
        if language is not None and language not in titles:
            continue
        out.append({"id": row.id, "category": document.get("category"), "titles": titles,
                    "status": status_of(row)})
    return out


# ---------------------------------------------------------------- import and export


def content_hash(category: str, document: dict) -> str:
    body = {k: v for k, v in document.items() if k != "category"}
    return hashlib.sha256(json.dumps({"category": category, "document": body}, sort_keys=True,
                                     ensure_ascii=False).encode("utf-8")).hexdigest()


async def store_is_empty(session) -> bool:
    return await session.scalar(select(func.count()).select_from(KbAnswer)) == 0


async def _next_numbers(session) -> dict[str, int]:
    rows = await session.execute(select(KbRevision.answer_id, func.max(KbRevision.number)).group_by(KbRevision.answer_id))
    return {answer_id: number for answer_id, number in rows}


async def import_content(session, content: kf.Content, *, editor: Agent | None = None) -> dict:
    """Make the store's published content what the files hold (in the caller's transaction).

    A changed answer gets a new revision (kind `import`); an answer that is no
    longer in the files is withdrawn (its draft, if any, stays as a draft); the
    editors' drafts are kept. The files must have been validated by the engine
    (services/knowledge.py) first."""
    if editor is not None:
        _check_editor(editor)
    categories = {c.category: c for c in await session.scalars(select(KbCategory))}
    rows = {r.id: r for r in await session.scalars(select(KbAnswer))}
    live = {r.id: r for r in await session.scalars(
        select(KbRevision).where(KbRevision.id.in_([r.published_revision_id for r in rows.values()
                                                    if r.published_revision_id is not None])))}
    numbers = await _next_numbers(session)
    now = utcnow()
    publication = KbPublication(kind="import", changed=[], created_at=now,
                                created_by=editor.id if editor else None,
                                created_by_login=editor.login if editor else None)
    session.add(publication)
    await session.flush()
    for category in content.categories:
        row = categories.get(category.category)
        if row is None:
            row = categories[category.category] = KbCategory(category=category.category, created_at=now)
            session.add(row)
        row.name, row.header, row.attribution = category.name, category.header, category.attribution
    await session.flush()
    changed, seen = [], set()
    for category in content.categories:
        for position, document in enumerate(category.answers):
            answer_id = document["id"]
            if answer_id in seen:
                raise Invalid("duplicate_answer", f"answer id {answer_id} is in the files twice")
            seen.add(answer_id)
            digest = content_hash(category.category, document)
            row = rows.get(answer_id)
            if row is None:
                row = rows[answer_id] = KbAnswer(id=answer_id, position=position, draft_version=0, created_at=now)
                session.add(row)
            current = live.get(row.published_revision_id)
            if current is None or current.content_hash != digest:
                numbers[answer_id] = numbers.get(answer_id, 0) + 1
                revision = KbRevision(answer_id=answer_id, number=numbers[answer_id], category=category.category,
                                      document=copy.deepcopy(document), content_hash=digest,
                                      publication_id=publication.id, created_at=now,
                                      created_by=editor.id if editor else None)
                session.add(revision)
                await session.flush()
                row.published_revision_id = revision.id
                changed.append(answer_id)
            row.category, row.position = category.category, position
    withdrawn = [answer_id for answer_id, row in rows.items()
                 if answer_id not in seen and row.published_revision_id is not None]
    for answer_id in withdrawn:
        row = rows[answer_id]
        if row.draft is None:
            await session.delete(row)
        else:
            row.published_revision_id, row.category = None, None
    await session.flush()
    used = set((await session.scalars(select(KbAnswer.category).where(KbAnswer.category.is_not(None)))).all())
    for name, row in categories.items():
        if name not in used and name not in {c.category for c in content.categories}:
            await session.delete(row)
    kept = {f.path: f for f in await session.scalars(select(KbSupportFile))}
    for path, text in content.support_files.items():
        if path in kept:
            if kept[path].text != text:
                kept[path].text, kept[path].updated_at = text, now
        else:
            session.add(KbSupportFile(path=path, text=text, updated_at=now))
    for path, row in kept.items():
        if path not in content.support_files:
            await session.delete(row)
    publication.changed = changed + withdrawn
    summary = {"publication_id": publication.id, "answers": len(seen), "changed": len(changed),
               "withdrawn": len(withdrawn), "categories": len(content.categories)}
    await audit_svc.record_editor(session, "knowledge_import", subject=f"publication:{publication.id}",
                                  editor=editor, detail=summary)
    await session.flush()
    return summary


async def published_content(session, *, drafts: list[str] | None = None) -> kf.Content:
    """The published content as files would hold it; with `drafts`, those answers'
    drafts instead of their published versions (the candidate of a publish)."""
    content = kf.Content()
    categories = {c.category: c for c in await session.scalars(select(KbCategory).order_by(KbCategory.category))}
    per_category: dict[str, list[tuple[int, str, dict]]] = {name: [] for name in categories}
    rows = (await session.execute(
        select(KbAnswer, KbRevision).outerjoin(KbRevision, KbRevision.id == KbAnswer.published_revision_id))).all()
    chosen = set(drafts or ())
    for row, revision in rows:
        if row.id in chosen and row.draft is not None:
            document = copy.deepcopy(row.draft)
            category = document.pop("category", None)
            # A category the store does not know yet is a problem the engine names.
            position = row.position if revision is not None and revision.category == category else 1_000_000
        elif revision is not None:
            document, category, position = copy.deepcopy(revision.document), revision.category, row.position
        else:
            continue  # a draft that is not being published
        if category not in per_category:
            raise Invalid("invalid_category", f"answer {row.id}: choose one of the categories",
                              answer_id=row.id, field="category")
        document["id"] = row.id
        per_category[category].append((position, row.id, document))
    for name, category in categories.items():
        answers = [document for _position, _id, document in sorted(per_category[name], key=lambda t: (t[0], t[1]))]
        if answers:
            content.categories.append(kf.Category(category=name, name=category.name, header=category.header,
                                                  attribution=category.attribution, answers=answers))
    for row in await session.scalars(select(KbSupportFile).order_by(KbSupportFile.path)):
        content.support_files[row.path] = row.text
    return content


# ---------------------------------------------------------------- the editor


async def list_categories(session) -> list[dict]:
    rows = await session.scalars(select(KbCategory).order_by(KbCategory.category))
    return [{"category": c.category, "name": c.name} for c in rows]


async def municipalities(session) -> dict:
    """Code -> {name, language, website}, from knowledge/municipalities.yml as imported."""
    import yaml

    row = await session.get(KbSupportFile, kf.MUNICIPALITIES_FILE)
    if row is None:
        return {}
    try:
        data = yaml.safe_load(row.text) or {}
    except yaml.YAMLError:
        return {}
    found = data.get("municipalities") if isinstance(data, dict) else None
    return {str(code): value for code, value in (found or {}).items() if isinstance(value, dict)}


async def _logins(session, ids) -> dict[int, str]:
    ids = [i for i in set(ids) if i is not None]
    if not ids:
        return {}
    return dict((await session.execute(select(Agent.id, Agent.login).where(Agent.id.in_(ids)))).all())


async def answer_detail(session, answer_id: str) -> dict:
    row = await _answer_row(session, answer_id, lock=False)
    published = await published_document(session, row)
    counts = dict((await session.execute(
        select(KbRegressionQuestion.language, func.count()).where(KbRegressionQuestion.answer_id == answer_id)
        .group_by(KbRegressionQuestion.language))).all())
    logins = await _logins(session, [row.draft_updated_by])
    return {
        "answer_id": row.id, "status": status_of(row), "draft_version": row.draft_version,
        "published_revision_id": row.published_revision_id, "published": published, "draft": row.draft,
        "draft_updated_at": row.draft_updated_at.isoformat() if row.draft_updated_at else None,
        "draft_updated_by": logins.get(row.draft_updated_by),
        "regression_questions": {language: counts.get(language, 0) for language in LANGUAGES},
    }


async def _check_category(session, category) -> None:
    if category is not None and await session.get(KbCategory, category) is None:
        raise Invalid("invalid_category", "category must be one of the existing categories", field="category")


async def new_answer(session, *, answer_id: str, document: dict, editor: Agent) -> dict:
    """A new answer, as a draft, with the id the editor chose."""
    _check_editor(editor)
    if not ANSWER_ID.match(answer_id):
        raise Invalid("invalid_answer_id", "the id must be 2-80 lower-case letters, digits or _", field="id")
    if await session.get(KbAnswer, answer_id) is not None:
        raise Conflict("answer_exists", f"an answer with the id {answer_id} exists", field="id")
    await _check_category(session, document.get("category"))
    row = KbAnswer(id=answer_id, category=None, position=0, draft_version=0, created_at=utcnow())
    _store_draft(row, _draft_document(answer_id, document), editor)
    session.add(row)
    await session.flush()
    await audit_svc.record_editor(session, "answer_new", subject=f"answer:{answer_id}", editor=editor,
                                  detail={"source": "editor", "category": document.get("category")})
    return draft_to_dict(row, row.draft)


def _draft_document(answer_id: str, document: dict) -> dict:
    out = {"id": answer_id, "category": document.get("category"), "source": document.get("source") or "",
           "last_verified": document.get("last_verified")}
    for language in LANGUAGES:
        if document.get(language):
            out[language] = document[language]
    return out


async def save_draft(session, *, answer_id: str, document: dict, draft_version: int, editor: Agent) -> dict:
    """Store the editor's working copy. `draft_version` is the version the editor
    started from: when someone saved in between, the save is refused (409) so
    no one's work is overwritten unseen."""
    _check_editor(editor)
    row = await _answer_row(session, answer_id, lock=True)
    if draft_version != row.draft_version:
        raise Conflict("draft_changed", "someone else saved this answer in the meantime; reload it",
                       draft_version=row.draft_version)
    await _check_category(session, document.get("category"))
    _store_draft(row, _draft_document(answer_id, document), editor)
    await audit_svc.record_editor(session, "answer_draft_save", subject=f"answer:{answer_id}", editor=editor,
                                  detail={"draft_version": row.draft_version})
    await session.flush()
    return draft_to_dict(row, row.draft)


async def discard_draft(session, *, answer_id: str, editor: Agent) -> None:
    """Drop the draft; an answer that was never published goes with it."""
    _check_editor(editor)
    row = await _answer_row(session, answer_id, lock=True)
    if row.draft is None:
        raise Conflict("no_draft", "this answer has no draft")
    if row.published_revision_id is None:
        await session.delete(row)
    else:
        row.draft = None
        row.draft_version += 1
        row.draft_updated_at, row.draft_updated_by = utcnow(), editor.id
    await audit_svc.record_editor(session, "answer_draft_discard", subject=f"answer:{answer_id}", editor=editor)
    await session.flush()


def flatten(document: dict | None, prefix: str = "") -> dict:
    """Field path -> value ("da.title", "da.examples", "da.variants.101.link")."""
    out: dict = {}
    for key, value in (document or {}).items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def diff(before: dict | None, after: dict | None) -> list[dict]:
    """What changed between two documents, field by field (in the order of the fields)."""
    old, new = flatten(before), flatten(after)
    fields = list(dict.fromkeys([*new, *old]))
    return [{"field": f, "before": old.get(f), "after": new.get(f)} for f in fields
            if old.get(f) != new.get(f) and f != "id"]


async def history(session, answer_id: str, limit: int = 200) -> dict:
    """Every published revision of an answer, newest first, each with what it changed
    (and the draft's changes against the published revision)."""
    row = await _answer_row(session, answer_id, lock=False)
    revisions = list(await session.scalars(
        select(KbRevision).where(KbRevision.answer_id == answer_id).order_by(KbRevision.number.desc()).limit(limit + 1)))
    kinds = dict((await session.execute(
        select(KbPublication.id, KbPublication.kind)
        .where(KbPublication.id.in_([r.publication_id for r in revisions if r.publication_id])))).all())
    logins = await _logins(session, [r.created_by for r in revisions])
    out = []
    for index, revision in enumerate(revisions[:limit]):
        document = {**revision.document, "category": revision.category}
        older = revisions[index + 1] if index + 1 < len(revisions) else None
        previous = {**older.document, "category": older.category} if older else None
        out.append({
            "revision_id": revision.id, "number": revision.number, "created_at": revision.created_at.isoformat(),
            "created_by": logins.get(revision.created_by), "kind": kinds.get(revision.publication_id),
            "publication_id": revision.publication_id, "restores_revision_id": revision.restores_revision_id,
            "live": revision.id == row.published_revision_id, "document": document,
            "changes": diff(previous, document),
        })
    published = await published_document(session, row)
    return {"answer_id": answer_id, "revisions": out,
            "draft_changes": diff(published, row.draft) if row.draft is not None else None}


async def publications(session, limit: int = 50) -> list[dict]:
    from .publishing import publication_to_dict

    rows = await session.scalars(select(KbPublication).order_by(KbPublication.id.desc()).limit(limit))
    return [publication_to_dict(p) for p in rows]
