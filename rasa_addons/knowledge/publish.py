"""Publishing the knowledge base, and the live index a running process holds.

A publication is a directory `<root>/versions/<version>/` holding everything
needed to search and to answer (no pickles: JSON and .npy arrays):

    manifest.json   version, content hash, counts, per-language calibration
    content.json    the answers as citizens see them (text, variants, related)
    <lang>.json     the documents of the language's index
    <lang>.npz      their question and passage vectors (float32)

`<root>/CURRENT` names the live version; it is replaced atomically
(os.replace) only after the version directory is complete, so a reader sees
either the old or the new publication, never half of one. Unchanged texts
reuse the vectors of the live version, so publishing a change embeds only
what changed and takes seconds.

`LiveIndex` is what a running process holds: it looks at CURRENT at most
every `check_interval` seconds and loads a new version in a background
thread, then swaps it in; messages are served by the old version meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np

from rasa_addons.knowledge import index as retrieval
from rasa_addons.knowledge.schema import KNOWLEDGE_DIR, KnowledgeBase, load_knowledge_base
from rasa_addons.languages import SUPPORTED

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
# Where publications live; the Rasa server and the action server read it.
DEFAULT_INDEX_ROOT = ROOT / "var" / "knowledge"
INDEX_ROOT_ENV = "DDH_KNOWLEDGE_INDEX"
CALIBRATION_DIR = "calibration"
CURRENT_FILE = "CURRENT"
KEEP_VERSIONS = 5
# Who made a publication: the content files (`make knowledge`), or the bridge's
# content store (an editor's publish, a knowledge-import).
ORIGIN_FILES = "files"
ORIGIN_BRIDGE = "bridge"
ORIGINS = (ORIGIN_FILES, ORIGIN_BRIDGE)


def index_root(configured: Optional[str] = None) -> Path:
    value = os.environ.get(INDEX_ROOT_ENV) or configured
    path = Path(value) if value else DEFAULT_INDEX_ROOT
    return path if path.is_absolute() else ROOT / path


CHECK_INTERVAL_ENV = "DDH_KNOWLEDGE_CHECK_SECONDS"
CHECK_INTERVAL_BOUNDS = (0.5, 3600.0)


def check_interval(configured: float) -> float:
    """How often, at most, a running process looks for a new publication: the
    environment's DDH_KNOWLEDGE_CHECK_SECONDS, else the model's `check_interval`
    (config.yml), so an operator changes it without training again."""
    raw = os.environ.get(CHECK_INTERVAL_ENV, "").strip()
    if not raw:
        return configured
    low, high = CHECK_INTERVAL_BOUNDS
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise ValueError(f"{CHECK_INTERVAL_ENV} must be a number of seconds from {low:g} to {high:g}, not {raw!r}")
    return value


# ---------------------------------------------------------------- content


def content_document(kb: KnowledgeBase) -> Dict[str, object]:
    """What the answering action needs, per answer and language."""
    answers = {}
    for answer_id, answer in kb.answers.items():
        languages = {}
        for language in answer.languages():
            entry = answer.entry(language)
            languages[language] = {
                "title": entry.title,
                "answer": entry.answer,
                "related": list(entry.related),
                "municipal": entry.municipal,
                "variants": {code: v.dict(exclude_none=True) for code, v in entry.variants.items()},
            }
        answers[answer_id] = {"category": kb.answer_category[answer_id], "languages": languages}
    municipalities = {code: m.dict() for code, m in kb.municipalities.items()}
    return {"answers": answers, "municipalities": municipalities}


def calibration_questions(directory: Path, language: str) -> List[str]:
    """Questions no answer covers, used only to calibrate "no answer fits"."""
    path = directory / CALIBRATION_DIR / f"out_of_scope_{language}.txt"
    if not path.exists():
        return []
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _content_hash(directory: Path) -> str:
    digest = hashlib.sha256(retrieval.INDEX_FORMAT.encode())
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.suffix in (".yml", ".txt"):
            digest.update(str(path.relative_to(directory)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


# ---------------------------------------------------------------- loading


@dataclass
class Publication:
    version: str
    path: Path
    manifest: Dict[str, object]
    content: Dict[str, object]
    languages: Dict[str, retrieval.LanguageIndex]

    def search(self, language: str, query: str, vector: np.ndarray) -> retrieval.Result:
        language_index = self.languages.get(language)
        if language_index is None:
            return retrieval.Result(retrieval.NO_ANSWER, 0.0, [])
        return language_index.search(query, vector)


def read_current(root: Path) -> Optional[str]:
    try:
        version = (root / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return version or None


def _load_language(path: Path, language: str, calibration: Dict[str, object]) -> retrieval.LanguageIndex:
    stored = json.loads((path / f"{language}.json").read_text(encoding="utf-8"))
    documents = [retrieval.Document(**document) for document in stored["documents"]]
    with np.load(path / f"{language}.npz", allow_pickle=False) as arrays:
        questions = arrays["question_vectors"]
        passages = arrays["passage_vectors"]
        chunks = arrays["chunk_vectors"] if "chunk_vectors" in arrays.files else None
    chosen = retrieval.Calibration.from_dict(calibration) if calibration else None
    return retrieval.LanguageIndex(documents, questions, passages, chosen, chunk_vectors=chunks)


def load_publication(root: Path, version: Optional[str] = None, with_index: bool = True) -> Publication:
    version = version or read_current(root)
    if not version:
        raise FileNotFoundError(f"no knowledge base is published in {root} (run `make knowledge`)")
    path = root / "versions" / version
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    content = json.loads((path / "content.json").read_text(encoding="utf-8"))
    languages = {}
    if with_index:
        for language in manifest["languages"]:
            languages[language] = _load_language(path, language, manifest["calibration"].get(language) or {})
    return Publication(version, path, manifest, content, languages)


# ---------------------------------------------------------------- publishing


def previous_vectors(root: Path) -> Dict[str, np.ndarray]:
    """key → vector of the live publication, to reuse unchanged texts."""
    cache: Dict[str, np.ndarray] = {}
    version = read_current(root)
    if not version:
        return cache
    path = root / "versions" / version
    for language in SUPPORTED:
        try:
            stored = json.loads((path / f"{language}.json").read_text(encoding="utf-8"))
            with np.load(path / f"{language}.npz", allow_pickle=False) as arrays:
                for kind in ("question", "passage", "chunk", "calibration"):
                    keys = stored.get(f"{kind}_keys") or []
                    vectors = arrays[f"{kind}_vectors"] if f"{kind}_vectors" in arrays.files else []
                    cache.update(zip(keys, vectors))
        except (FileNotFoundError, KeyError, ValueError):
            continue
    return cache


@dataclass
class BuiltLanguage:
    """One language's index as publishing builds it (calibrated), with what is written."""

    documents: List[retrieval.Document]
    index: retrieval.LanguageIndex
    question_keys: List[str]
    passage_keys: List[str]
    chunk_keys: List[str]
    out_of_scope: List[str]
    calibration_vectors: np.ndarray
    calibration_keys: List[str]
    calibration: retrieval.Calibration
    report: Dict[str, float]
    embedded: int
    question_count: int


def build_language(
    kb: KnowledgeBase,
    directory: Path,
    language: str,
    cache: Dict[str, np.ndarray],
    embed_queries: Callable[[List[str]], np.ndarray],
    embed_passages: Callable[[List[str]], np.ndarray],
) -> Optional[BuiltLanguage]:
    """Index and calibrate one language, embedding only texts not in `cache`;
    None when no answer has that language. Publishing and the publish gate
    (gate.py) build the same index this way."""
    documents = retrieval.documents_for(kb, language)
    if not documents:
        return None
    questions = [q for d in documents for q in d.questions]
    question_vectors, question_keys, new_q = retrieval.embed_with_cache(questions, "query", embed_queries, cache)
    passage_vectors, passage_keys, new_p = retrieval.embed_with_cache(
        [d.passage for d in documents], "passage", embed_passages, cache
    )
    chunk_vectors, chunk_keys, new_c = retrieval.embed_with_cache(
        [c for d in documents for c in d.chunks], "passage", embed_passages, cache
    )
    out_of_scope = calibration_questions(directory, language)
    now_answered = retrieval.answered_out_of_scope(documents, out_of_scope)
    if now_answered:
        logger.info("%s: %d out-of-scope calibration question(s) are answered by the content now and not used: %s",
                    language, len(now_answered), "; ".join(now_answered[:10]))
        out_of_scope = [q for q in out_of_scope if q not in set(now_answered)]
    oos_vectors, oos_keys, new_o = retrieval.embed_with_cache(out_of_scope, "query", embed_queries, cache)
    language_index = retrieval.LanguageIndex(documents, question_vectors, passage_vectors, chunk_vectors=chunk_vectors)
    calibration, report = retrieval.calibrate(
        language_index, out_of_scope, oos_vectors, max_questions=retrieval.PUBLISH_CALIBRATION_QUESTIONS
    )
    language_index.calibration = calibration
    if report:
        report["out_of_scope_answered_by_content"] = len(now_answered)
    return BuiltLanguage(
        documents, language_index, question_keys, passage_keys, chunk_keys, out_of_scope, oos_vectors, oos_keys,
        calibration, report, new_q + new_p + new_c + new_o, len(questions),
    )


def publish(
    directory: Path = KNOWLEDGE_DIR,
    root: Optional[Path] = None,
    embed_queries: Optional[Callable[[List[str]], np.ndarray]] = None,
    embed_passages: Optional[Callable[[List[str]], np.ndarray]] = None,
    log: Callable[[str], None] = logger.info,
    origin: str = ORIGIN_FILES,
) -> Publication:
    """Validate, index, calibrate and publish the knowledge base; switch to it.
    `origin` says who published it: the content files (`make knowledge`) or the
    bridge's content store (an editor, or knowledge-import)."""
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {', '.join(ORIGINS)}")
    from rasa_addons.nlu import sentence_embeddings

    embed_queries = embed_queries or sentence_embeddings.embed
    embed_passages = embed_passages or sentence_embeddings.embed_passages
    root = root or index_root()
    started = time.perf_counter()
    kb = load_knowledge_base(directory)  # raises ContentError with every problem
    content_hash = _content_hash(directory)
    version = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + content_hash[:10]
    staging = root / "versions" / f".{version}.partial"
    staging.mkdir(parents=True, exist_ok=False)
    cache = previous_vectors(root)
    manifest: Dict[str, object] = {
        "version": version,
        "content_hash": content_hash,
        "published_at": datetime.now(timezone.utc).isoformat(),
        "origin": origin,
        "languages": {},
        "calibration": {},
        "calibration_report": {},
        "weights": {
            "question": retrieval.WEIGHT_QUESTION,
            "passage": retrieval.WEIGHT_PASSAGE,
            "bm25": retrieval.WEIGHT_BM25,
        },
    }
    embedded_total = 0
    for language in SUPPORTED:
        built = build_language(kb, directory, language, cache, embed_queries, embed_passages)
        if built is None:
            continue
        embedded_total += built.embedded
        manifest["languages"][language] = {"answers": len(built.documents), "questions": built.question_count}
        manifest["calibration"][language] = built.calibration.as_dict()
        manifest["calibration_report"][language] = built.report
        (staging / f"{language}.json").write_text(
            json.dumps(
                {
                    "documents": [d.__dict__ for d in built.documents],
                    "question_keys": built.question_keys,
                    "passage_keys": built.passage_keys,
                    "chunk_keys": built.chunk_keys,
                    "calibration_keys": built.calibration_keys,
                    "calibration_questions": built.out_of_scope,
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        np.savez(
            staging / f"{language}.npz",
            question_vectors=built.index.question_vectors,
            passage_vectors=built.index.passage_vectors,
            chunk_vectors=built.index.chunk_vectors,
            calibration_vectors=built.calibration_vectors,
        )
        log(f"{language}: {len(built.documents)} answers, {built.question_count} questions; calibration {built.report}")
    (staging / "content.json").write_text(json.dumps(content_document(kb), ensure_ascii=False), encoding="utf-8")
    manifest["embedded_texts"] = embedded_total
    manifest["build_seconds"] = round(time.perf_counter() - started, 3)
    (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    final = root / "versions" / version
    staging.rename(final)
    _switch(root, version)
    _prune(root, keep=version)
    log(f"published {version} ({len(kb.answers)} answers, {embedded_total} texts embedded, {manifest['build_seconds']} s)")
    return load_publication(root, version)


def _switch(root: Path, version: str) -> None:
    temporary = root / f".{CURRENT_FILE}.{os.getpid()}"
    temporary.write_text(version + "\n", encoding="utf-8")
    os.replace(temporary, root / CURRENT_FILE)


def _prune(root: Path, keep: str) -> None:
    """Keep the newest versions: a process may still be loading an older one."""
    versions = sorted(p for p in (root / "versions").iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in versions[:-KEEP_VERSIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


def files_changed_at(directory: Path) -> datetime:
    """When the content files (those the content hash covers) last changed."""
    times = [p.stat().st_mtime for p in directory.rglob("*") if p.is_file() and p.suffix in (".yml", ".txt")]
    return datetime.fromtimestamp(max(times, default=0.0), timezone.utc)


def ensure_published(directory: Path = KNOWLEDGE_DIR, root: Optional[Path] = None,
                     log: Callable[[str], None] = logger.info) -> str:
    """Publish the files when nothing is published or they changed; return the live version.

    A publication the bridge made (an editor published there) stays live while
    it is newer than the files: the files do not hold the editors' work until
    it is exported (knowledge-export). Files changed after it are published."""
    root = root or index_root()
    version = read_current(root)
    if version:
        try:
            manifest = json.loads((root / "versions" / version / "manifest.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            manifest = None
        if manifest is not None:
            if manifest.get("content_hash") == _content_hash(directory):
                return version
            if manifest.get("origin") == ORIGIN_BRIDGE:
                published_at = datetime.fromisoformat(str(manifest["published_at"]))
                changed_at = files_changed_at(directory)
                if published_at > changed_at:
                    log(f"kept {version}: published in the bridge at {published_at:%Y-%m-%d %H:%M} UTC, after the "
                        f"files last changed ({changed_at:%Y-%m-%d %H:%M} UTC). Export it to the files with "
                        "`make knowledge-export`, or make the files the bridge's content with `make knowledge-import`.")
                    return version
                log(f"the files changed after the bridge's publication {version} ({published_at:%Y-%m-%d %H:%M} "
                    "UTC): publishing the files. The bridge's editors still work on its own content until "
                    "`make knowledge-import`.")
    return publish(directory, root).version


# ---------------------------------------------------------------- the live index


class LiveIndex:
    """The publication a running process answers from, kept up to date.

    `get()` is cheap: at most every `check_interval` seconds it reads CURRENT
    (a few bytes); a new version is loaded in a background thread and swapped
    in when complete, so no message waits for a reload and none is dropped.
    """

    def __init__(self, root: Path, check_interval: float = 10.0, with_index: bool = True) -> None:
        self.root = root
        self.check_interval = check_interval
        self.with_index = with_index
        self._publication: Optional[Publication] = None
        self._checked_at = 0.0
        self._loading: Optional[str] = None
        self._failed: Optional[str] = None
        self._lock = threading.Lock()

    def load_now(self) -> Optional[Publication]:
        version = read_current(self.root)
        if version:
            self._load(version)
        self._checked_at = time.monotonic()
        return self._publication

    def get(self) -> Optional[Publication]:
        now = time.monotonic()
        if self._publication is None and self._checked_at == 0.0:
            return self.load_now()
        if now - self._checked_at >= self.check_interval:
            self._checked_at = now
            version = read_current(self.root)
            current = self._publication.version if self._publication else None
            if version and version != current and version != self._failed:
                with self._lock:
                    if self._loading is None:
                        self._loading = version
                        threading.Thread(target=self._load, args=(version,), daemon=True).start()
        return self._publication

    def _load(self, version: str) -> None:
        try:
            started = time.perf_counter()
            publication = load_publication(self.root, version, with_index=self.with_index)
            self._publication = publication  # one reference swap: readers see old or new
            logger.info("Knowledge base %s is live (loaded in %.2f s).", version, time.perf_counter() - started)
        except Exception:  # a broken publication must not stop the assistant
            logger.exception("Could not load knowledge base version %s; keeping the previous one.", version)
            self._failed = version
        finally:
            with self._lock:
                self._loading = None
