"""`make knowledge` embeds the publish gate's held-out questions ahead (gate.prepare)."""

import numpy as np

from rasa_addons.knowledge import gate
from rasa_addons.knowledge.schema import KNOWLEDGE_DIR


def test_the_held_out_questions_are_embedded_once_ahead_of_the_first_gate(tmp_path):
    asked = []

    def embed(texts):
        asked.extend(texts)
        vectors = np.random.default_rng(len(asked)).normal(size=(len(texts), 384)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    first = gate.prepare(KNOWLEDGE_DIR, tmp_path, embed_queries=embed)
    assert first > 100 and len(asked) == first
    assert (tmp_path / gate.VECTOR_CACHE).exists()
    # The held-out questions are the ones about knowledge-base answers, in both languages.
    answers = gate.heldout_questions(gate.HELDOUT_DIR, set(gate.load_knowledge_base(KNOWLEDGE_DIR).answers))
    assert {item["language"] for item in answers} == {"da", "sv"}
    assert sorted(set(asked)) == sorted({item["question"] for item in answers})
    # A second run (the next `make knowledge`) embeds nothing.
    assert gate.prepare(KNOWLEDGE_DIR, tmp_path, embed_queries=embed) == 0
    assert len(asked) == first
