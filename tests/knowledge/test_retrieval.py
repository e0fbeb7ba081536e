"""Finding answers in the published knowledge base with the real e5 model:
the right answer, a close call, and honestly no answer."""

from __future__ import annotations

import numpy as np
import pytest

from rasa_addons.knowledge import index as retrieval
from rasa_addons.knowledge.publish import ensure_published, index_root, load_publication
from rasa_addons.nlu import sentence_embeddings


@pytest.fixture(scope="module")
def publication():
    return load_publication(index_root(), ensure_published())


def ask(publication, language, text):
    return publication.search(language, text, sentence_embeddings.embed([text])[0])


@pytest.mark.parametrize(
    "language, text, answer_id",
    [
        ("da", "hvordan melder jeg flytning", "moving"),
        ("da", "jeg har glemt mit bruger-id til mitid", "mitid_forgot_user_id"),
        ("da", "hvordan søger jeg boligstøtte", "housing_benefit"),
        ("sv", "hur spärrar jag mitt bankid", "bankid_blocked"),
        ("sv", "hur ansöker jag om bygglov", "building_permit"),
    ],
)
def test_a_clear_question_gets_its_answer(publication, language, text, answer_id):
    result = ask(publication, language, text)
    assert result.decision == retrieval.ANSWER, result
    assert result.answer_id == answer_id


def test_a_question_is_searched_in_its_own_language_only(publication):
    result = ask(publication, "sv", "hur spärrar jag mitt bankid")
    assert all(publication.content["answers"][c.answer_id]["languages"].get("sv") for c in result.candidates)


@pytest.mark.parametrize(
    "language, text",
    [
        ("da", "hvornår tømmes skraldespanden"),
        ("da", "hvad bliver vejret i weekenden"),
        ("sv", "när har biblioteket öppet"),
        ("sv", "vem vann melodifestivalen"),
    ],
)
def test_a_question_no_answer_covers_gets_no_answer(publication, language, text):
    result = ask(publication, language, text)
    assert result.decision != retrieval.ANSWER, result
    assert result.answer_id is None


def test_a_close_call_offers_two_or_three_near_answers(publication):
    index = publication.languages["da"]
    # Force the band around this question's probability: a close call.
    text = "mitid"
    vector = sentence_embeddings.embed([text])[0]
    probability = ask(publication, "da", text).confidence
    saved = index.calibration
    index.calibration = retrieval.Calibration(saved.coef, saved.intercept, probability + 0.01, probability - 0.01)
    try:
        result = index.search(text, vector)
    finally:
        index.calibration = saved
    assert result.decision == retrieval.CLOSE_CALL and result.answer_id is None
    assert 2 <= len(result.candidates) <= 3
    assert all(c.answer_id.startswith("mitid_") for c in result.candidates)


def test_publishing_calibrates_against_out_of_scope_questions(publication):
    for language in ("da", "sv"):
        report = publication.manifest["calibration_report"][language]
        assert report["out_of_scope_answered"] <= retrieval.MAX_FALSE_ANSWER_RATE
        assert report["leave_one_out_wrong_among_answered"] <= retrieval.MAX_WRONG_ANSWER_RATE


def test_a_long_answer_is_also_searched_in_chunks_of_whole_sentences():
    sentence = "Detta är en mening om familjehem och vad som gäller för ersättning."  # 12 words
    text = " ".join([sentence] * 10)
    chunks = retrieval.passage_chunks(text, "Familjehem")
    assert len(chunks) >= 2
    assert all(c.startswith("Familjehem. ") and c.endswith(".") for c in chunks)
    assert all(len(c.split()) <= retrieval.CHUNK_WORDS + 1 for c in chunks)
    assert " ".join(c.removeprefix("Familjehem. ") for c in chunks) == text
    assert retrieval.passage_chunks(sentence, "Familjehem") == [], "a short answer is embedded whole only"


def test_the_passage_similarity_of_a_chunked_answer_is_its_best_chunk_or_the_whole():
    whole = np.eye(3, dtype=np.float32)[:2]  # two answers
    chunks = np.array([[0.0, 0.0, 1.0], [0.6, 0.8, 0.0]], dtype=np.float32)  # both belong to the second answer
    documents = [
        retrieval.Document("a", "A", [], "a", "a"),
        retrieval.Document("b", "B", [], "b", "b", chunks=["b1", "b2"]),
    ]
    index = retrieval.LanguageIndex(documents, np.zeros((0, 3), dtype=np.float32), whole, chunk_vectors=chunks)
    _, passage, _ = index.component_scores("x", np.array([0.0, 0.0, 1.0], dtype=np.float32))
    assert passage.tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="chunk vectors"):
        retrieval.LanguageIndex(documents, np.zeros((0, 3), dtype=np.float32), whole, chunk_vectors=chunks[:1])


def test_bm25_scores_match_bm25s():
    texts = ["hur ansöker jag om bostadsbidrag", "bygglov för ett garage", "spärra bankid", "bostadsbidrag för pensionärer"]
    bm25 = retrieval._bm25(texts)
    for query in ("bostadsbidrag", "ansöka om bygglov för garage", "okänt ord", "bankid bankid"):
        query_tokens = retrieval.tokens(query)
        expected = bm25.get_scores(query_tokens) if any(t in bm25.vocab_dict for t in query_tokens) else np.zeros(len(texts))
        assert np.allclose(retrieval.bm25_scores(bm25, query_tokens), expected, atol=1e-6)
