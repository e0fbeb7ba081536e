"""The publish gate: does a candidate content still answer what the live one answered?

The candidate (a knowledge directory) is indexed and calibrated exactly as
publishing would (publish.build_language, reusing the live publication's
vectors for unchanged texts) and asked two question sets, as is the live
publication:

- the catalogue's held-out sets (tests/nlu/<language>.yml, read as
  bench/heldout.py reads them), restricted to the knowledge-base answers:
  a message whose intent is an answer id;
- the regression set the caller passes: every reviewed question ever
  attached to an answer (the bridge keeps it).

A question is *right* when it is answered with the expected answer,
*offered* when a close call ("Did you mean ...?") puts the expected answer
first (as bench/heldout.py counts it), otherwise *wrong*. Every question right
or offered with the live publication and wrong with the candidate is a
regression, which blocks the publish until fixed or accepted. A question that
goes from right to offered is *weaker*: listed, not blocking (a recalibrated
threshold after a new answer typically moves a few). Question vectors are kept between runs in
`<index root>/gate-vectors.npz`, so a run embeds only new texts.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np
import yaml

from rasa_addons.knowledge import index as retrieval
from rasa_addons.knowledge.publish import build_language, load_publication, previous_vectors, read_current
from rasa_addons.knowledge.schema import SAFE_LOADER, load_knowledge_base
from rasa_addons.languages import SUPPORTED

ROOT = Path(__file__).resolve().parents[2]
HELDOUT_DIR = ROOT / "tests" / "nlu"
VECTOR_CACHE = "gate-vectors.npz"
MAX_CACHED_VECTORS = 200_000
MAX_QUESTIONS = 100_000
SHOWN = 500  # regressions and fixes listed in full; counts are always complete


def heldout_questions(directory: Path, answer_ids: set) -> List[Dict[str, str]]:
    """Held-out messages of the catalogue whose topic is a knowledge-base answer."""
    items = []
    for language in SUPPORTED:
        path = directory / f"{language}.yml"
        if not path.exists():
            continue
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
        for block in document.get("nlu", []):
            intent = block.get("intent")
            if intent not in answer_ids:
                continue
            for line in (block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    items.append({"set": "heldout", "language": language, "question": line[2:].strip(), "answer_id": intent})
    return items


def _load_cache(root: Path) -> Dict[str, np.ndarray]:
    try:
        with np.load(root / VECTOR_CACHE, allow_pickle=False) as stored:
            return dict(zip(stored["keys"].tolist(), stored["vectors"]))
    except (FileNotFoundError, KeyError, ValueError, OSError):
        return {}


def _save_cache(root: Path, cache: Dict[str, np.ndarray]) -> None:
    if not cache:
        return
    keys = list(cache)[-MAX_CACHED_VECTORS:]
    root.mkdir(parents=True, exist_ok=True)
    temporary = root / f".{VECTOR_CACHE}.{os.getpid()}.npz"
    np.savez(temporary, keys=np.array(keys), vectors=np.vstack([cache[k] for k in keys]).astype(np.float32))
    os.replace(temporary, root / VECTOR_CACHE)


def prepare(directory: Path, root: Path, heldout_dir: Path = HELDOUT_DIR,
            embed_queries: Optional[Callable[[List[str]], np.ndarray]] = None) -> int:
    """Embed the held-out questions into the vector cache before any gate needs
    them (`make knowledge` does), so that the first gate an editor runs takes
    seconds instead of half a minute. Returns how many had to be embedded."""
    kb = load_knowledge_base(directory)
    questions = [item["question"] for item in heldout_questions(heldout_dir, set(kb.answers))]
    cache = _load_cache(root)
    if embed_queries is None:
        from rasa_addons.nlu import sentence_embeddings

        embed_queries = sentence_embeddings.embed
    _vectors, _keys, new = retrieval.embed_with_cache(questions, "query", embed_queries, cache)
    if new:
        _save_cache(root, cache)
    return new


RIGHT = "right"  # answered with the expected answer
OFFERED = "offered"  # a close call ("Did you mean ...?") with the expected answer first
WRONG = "wrong"  # another answer, no answer, or a close call that does not lead with it


def outcome(result: Optional[retrieval.Result], expected: str) -> str:
    if result is None or not result.candidates:
        return WRONG
    if result.decision == retrieval.ANSWER:
        return RIGHT if result.answer_id == expected else WRONG
    if result.decision == retrieval.CLOSE_CALL and result.candidates[0].answer_id == expected:
        return OFFERED
    return WRONG


def _brief(result: Optional[retrieval.Result]) -> Dict[str, object]:
    if result is None:
        return {"decision": retrieval.NO_ANSWER, "answer_id": None, "candidates": []}
    return {"decision": result.decision, "answer_id": result.answer_id,
            "candidates": [c.answer_id for c in result.candidates]}


def evaluate(
    directory: Path,
    root: Path,
    regression: List[Dict[str, str]],
    heldout_dir: Path = HELDOUT_DIR,
    embed_queries: Optional[Callable[[List[str]], np.ndarray]] = None,
    embed_passages: Optional[Callable[[List[str]], np.ndarray]] = None,
) -> Dict[str, object]:
    """Compare the candidate content in `directory` with the live publication in `root`.
    Raises ContentError when the candidate is not valid."""
    from rasa_addons.nlu import sentence_embeddings

    embed_queries = embed_queries or sentence_embeddings.embed
    embed_passages = embed_passages or sentence_embeddings.embed_passages
    started = time.perf_counter()
    kb = load_knowledge_base(directory)
    live = load_publication(root) if read_current(root) else None
    cache = _load_cache(root)
    cache.update(previous_vectors(root))
    before = len(cache)
    candidate: Dict[str, retrieval.LanguageIndex] = {}
    for language in SUPPORTED:
        built = build_language(kb, directory, language, cache, embed_queries, embed_passages)
        if built is not None:
            candidate[language] = built.index
    known = set(kb.answers) | set((live.content.get("answers") or {}) if live else ())
    items = heldout_questions(heldout_dir, known)
    for item in regression[:MAX_QUESTIONS]:
        if item.get("language") in SUPPORTED and item.get("question") and item.get("answer_id"):
            items.append({"set": "regression", "language": item["language"], "question": item["question"],
                          "answer_id": item["answer_id"]})
    vectors, _keys, _new = retrieval.embed_with_cache([i["question"] for i in items], "query", embed_queries, cache)
    counts = {name: {"questions": 0, "right_before": 0, "right_after": 0, "offered_before": 0, "offered_after": 0,
                     "regressions": 0, "weaker": 0, "fixed": 0}
              for name in ("heldout", "regression")}
    regressions, weaker, fixed = [], [], []
    for item, vector in zip(items, vectors):
        language, question, expected = item["language"], item["question"], item["answer_id"]
        after = candidate[language].search(question, vector) if language in candidate else None
        previous = live.search(language, question, vector) if live is not None else None
        was, now = outcome(previous, expected), outcome(after, expected)
        count = counts[item["set"]]
        count["questions"] += 1
        count["right_before"] += was == RIGHT
        count["right_after"] += now == RIGHT
        count["offered_before"] += was == OFFERED
        count["offered_after"] += now == OFFERED
        row = {**item, "key": f"{item['set']}:{language}:{question}", "before": {"outcome": was, **_brief(previous)},
               "after": {"outcome": now, **_brief(after)}}
        if was != WRONG and now == WRONG:
            count["regressions"] += 1
            regressions.append(row)
        elif was == RIGHT and now == OFFERED:
            count["weaker"] += 1
            weaker.append(row)
        elif was == WRONG and now != WRONG:
            count["fixed"] += 1
            fixed.append(row)
    _save_cache(root, cache)
    return {
        "ok": True,
        "live_version": live.version if live else None,
        "counts": counts,
        # Every regression is listed (the editor must see each one to accept it).
        "regressions": regressions,
        "weaker": weaker[:SHOWN],
        "fixed": fixed[:SHOWN],
        "embedded_texts": len(cache) - before,
        "seconds": round(time.perf_counter() - started, 3),
    }


def read_questions(path: Path) -> List[Dict[str, str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    questions = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(questions, list):
        raise ValueError(f"{path}: expected {{\"questions\": [...]}}")
    return [q for q in questions if isinstance(q, dict)]
