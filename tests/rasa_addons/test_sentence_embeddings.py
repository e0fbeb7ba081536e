"""Sentence embeddings: a text embedded in a batch is embedded once per process,
with the vector it gets in any batch (so training gives the same model)."""

import numpy as np

from rasa_addons.nlu import sentence_embeddings


def test_a_batch_reuses_the_vectors_of_texts_embedded_before(monkeypatch):
    first = ["hvordan får jeg et nyt pas", "min mitid virker ikke", "hur byter jag adress"]
    vectors = sentence_embeddings.embed(first)
    encoded = []
    real_encode = sentence_embeddings._encode

    def counting_encode(texts, as_query):
        encoded.extend(texts)
        return real_encode(texts, as_query)

    monkeypatch.setattr(sentence_embeddings, "_encode", counting_encode)
    again = sentence_embeddings.embed([first[2], "hvornår får jeg mine penge", first[0], first[2]])
    assert encoded == ["hvornår får jeg mine penge"]
    assert np.array_equal(again[0], vectors[2]) and np.array_equal(again[2], vectors[0])
    assert np.array_equal(again[3], vectors[2])
    # The same vector as the text gets on its own, in a batch of different company.
    alone = real_encode(["hvornår får jeg mine penge"], True)[0]
    assert np.array_equal(again[1], alone)
    assert sentence_embeddings.embed([]).shape[0] == 0
