"""Answers questions from the published knowledge base (rasa_addons/knowledge).

When the intent classifier says a message is a question for the knowledge
base (`knowledge_question`), this component searches the live publication in
the message's language and adds the outcome to the parse result:

    "knowledge": {"decision": "answer" | "close_call" | "no_answer",
                  "answer_id": ..., "confidence": ..., "candidates": [...],
                  "version": ...}

Why here and not in the action server: the e5 model is already loaded in the
Rasa process (the intent classifier's cascade uses it) and the message is
embedded once for both; the parse result then carries the decision, so
`/model/parse`, the evaluation and the dialogue policies all see it, and a
later change can answer FAQs without an action-server round trip.

The index is read from the publication directory, not from the trained model:
publishing a change (`python -m rasa_addons.knowledge publish`) goes live
within `check_interval` seconds without retraining or a restart.

What the model does learn: the paraphrases of the Rasa training data whose
block names an answer (`metadata.answer` in data/nlu/*/knowledge_question.yml).
They join that answer's example questions at search time, so answers with
many collected phrasings are found as reliably as a trained intent was, while
a new answer works from its 1-5 examples alone. The combined index is
calibrated again when it is assembled (a background thread, seconds).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_addons.knowledge import index as retrieval
from rasa_addons.knowledge.publish import LiveIndex, Publication, check_interval, index_root
from rasa_addons.languages import DEFAULT, SUPPORTED
from rasa_addons.nlu import sentence_embeddings
from rasa_addons.nlu.topic_classifier import SUBRANKING_KEY

logger = logging.getLogger(__name__)

KNOWLEDGE_INTENT = "knowledge_question"
KNOWLEDGE_KEY = "knowledge"
_LEARNED_FILE = "learned_questions.json"
_LEARNED_VECTORS = "learned_questions.npz"

_LIVE: Dict[Text, LiveIndex] = {}
_LIVE_LOCK = threading.Lock()


def live_index(root: Path, check_interval: float) -> LiveIndex:
    """One live index per publication directory and process."""
    with _LIVE_LOCK:
        key = str(root)
        if key not in _LIVE:
            _LIVE[key] = LiveIndex(root, check_interval=check_interval)
        return _LIVE[key]


class LearnedQuestions:
    """Paraphrases from the training data, per language: texts, answer ids, vectors."""

    def __init__(self, rows: Dict[Text, Tuple[List[Text], List[Text], np.ndarray]]) -> None:
        self.rows = rows

    def for_language(self, language: Text) -> Tuple[List[Text], List[Text], np.ndarray]:
        return self.rows.get(language, ([], [], np.zeros((0, 384), dtype=np.float32)))


def merge(
    language_index: retrieval.LanguageIndex,
    learned: Tuple[List[Text], List[Text], np.ndarray],
    calibration_questions: List[Text],
    calibration_vectors: np.ndarray,
) -> retrieval.LanguageIndex:
    """The publication's index with the learned paraphrases of its answers
    added, calibrated again (answers that no longer exist are skipped)."""
    texts, answer_ids, vectors = learned
    by_answer: Dict[Text, List[int]] = {}
    for row, answer_id in enumerate(answer_ids):
        if answer_id in language_index.position:
            by_answer.setdefault(answer_id, []).append(row)
    if not by_answer:
        return language_index
    documents, blocks = [], []
    for i, document in enumerate(language_index.documents):
        start = language_index.question_starts[i]
        blocks.append(language_index.question_vectors[start : start + len(document.questions)])
        known = {q.casefold() for q in document.questions}
        rows = [r for r in by_answer.get(document.answer_id, []) if texts[r].casefold() not in known]
        if rows:
            extra = [texts[r] for r in rows]
            document = replace(
                document,
                questions=document.questions + extra,
                bm25_text=document.bm25_text + " " + " ".join(extra),
            )
            blocks.append(vectors[rows])
        documents.append(document)
    merged = retrieval.LanguageIndex(
        documents, np.vstack(blocks), language_index.passage_vectors, chunk_vectors=language_index.chunk_vectors
    )
    calibration, report = retrieval.calibrate(merged, calibration_questions, calibration_vectors)
    merged.calibration = calibration
    logger.info("Knowledge index with learned questions calibrated: %s", report)
    return merged


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class KnowledgeRetriever(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Publication directory (relative to the repository); the
            # DDH_KNOWLEDGE_INDEX environment variable overrides it.
            "index_root": "var/knowledge",
            # How often, at most, the process looks for a new publication; the
            # DDH_KNOWLEDGE_CHECK_SECONDS environment variable overrides it.
            "check_interval": 10.0,
            "intent": KNOWLEDGE_INTENT,
            # Classifier and retriever agree (see _with_classifier): the
            # classifier's probability of the answer, and the least
            # calibrated retrieval probability that still counts. 0.85: at
            # most 2 % of the calibration out-of-scope questions reach it
            # (`python bench/knowledge_retrieval.py agreement`); the
            # classifier is sure of a wrong answer for many questions
            # about services the knowledge base does not cover.
            "agreement_classifier_confidence": 0.85,
            "agreement_min_confidence": 0.2,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        learned: Optional[LearnedQuestions] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._learned = learned or LearnedQuestions({})
        self._merged_for: Optional[Text] = None
        self._merged: Dict[Text, retrieval.LanguageIndex] = {}
        self._merging: Optional[Text] = None
        self._lock = threading.Lock()

    @classmethod
    def create(cls, config, model_storage, resource, execution_context: ExecutionContext) -> "KnowledgeRetriever":
        return cls(config, model_storage, resource)

    # ------------------------------------------------------------ training

    def train(self, training_data: TrainingData) -> Resource:
        rows: Dict[Text, Tuple[List[Text], List[Text]]] = {}
        for example in training_data.intent_examples:
            metadata = example.get("metadata") or {}
            intent_metadata = metadata.get("intent") or {}
            answer_id = intent_metadata.get("answer")
            language = intent_metadata.get("language")
            if example.get(INTENT) != self._config["intent"] or not answer_id or language not in SUPPORTED:
                continue
            texts, ids = rows.setdefault(language, ([], []))
            texts.append(example.get(TEXT))
            ids.append(answer_id)
        stored = {}
        for language, (texts, ids) in rows.items():
            stored[language] = (texts, ids, sentence_embeddings.embed(texts))
        self._learned = LearnedQuestions(stored)
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / _LEARNED_FILE).write_text(
                json.dumps({lang: {"texts": t, "answer_ids": i} for lang, (t, i, _) in stored.items()}, ensure_ascii=False),
                encoding="utf-8",
            )
            np.savez(Path(directory) / _LEARNED_VECTORS, **{lang: v for lang, (_, _, v) in stored.items()})
        return self._resource

    @classmethod
    def load(cls, config, model_storage, resource, execution_context, **kwargs: Any) -> "KnowledgeRetriever":
        learned: Dict[Text, Tuple[List[Text], List[Text], np.ndarray]] = {}
        try:
            with model_storage.read_from(resource) as directory:
                stored = json.loads((Path(directory) / _LEARNED_FILE).read_text(encoding="utf-8"))
                with np.load(Path(directory) / _LEARNED_VECTORS, allow_pickle=False) as vectors:
                    for language, values in stored.items():
                        learned[language] = (values["texts"], values["answer_ids"], vectors[language])
        except (ValueError, FileNotFoundError):
            logger.warning("The model holds no learned questions; the knowledge base is searched as published.")
        component = cls(config, model_storage, resource, LearnedQuestions(learned))
        component.prepare()
        return component

    def prepare(self) -> None:
        """Load the publication and assemble its index with the learned
        questions at start-up, not on the first question: assembling
        calibrates the index again (seconds of CPU), and on the first
        question it held up every conversation of the instance."""
        publication = self._live().get()
        if publication is not None:
            self._index_for(publication)

    # ------------------------------------------------------------ searching

    def _live(self) -> LiveIndex:
        return live_index(index_root(self._config["index_root"]), check_interval(float(self._config["check_interval"])))

    def _assemble(self, publication: Publication) -> None:
        merged = {}
        for language, language_index in publication.languages.items():
            questions, vectors = _calibration_questions(publication, language)
            merged[language] = merge(language_index, self._learned.for_language(language), questions, vectors)
        with self._lock:
            self._merged, self._merged_for, self._merging = merged, publication.version, None

    def _index_for(self, publication: Publication) -> Dict[Text, retrieval.LanguageIndex]:
        """The merged index of the live publication; assembled in the background
        after a change (the publication's own index serves meanwhile)."""
        if self._merged_for == publication.version:
            return self._merged
        if not self._merged_for:  # first use: assemble before answering
            self._assemble(publication)
            return self._merged
        with self._lock:
            if self._merging != publication.version:
                self._merging = publication.version
                threading.Thread(target=self._assemble, args=(publication,), daemon=True).start()
        return publication.languages

    def _with_classifier(
        self, result: retrieval.Result, subranking: List[Dict[Text, Any]], language_index: retrieval.LanguageIndex
    ) -> retrieval.Result:
        """The intent classifier learned the catalogue answers from their many
        training phrasings. When it is sure of an answer and the retriever
        ranks that answer among its likeliest (and did not rule out every
        answer), the two agree: that answer is given."""
        if result.decision == retrieval.ANSWER or not subranking:
            return result
        if result.confidence < self._config["agreement_min_confidence"]:
            return result
        best = subranking[0]
        answer_id, probability = best.get(INTENT_NAME_KEY), float(best.get("confidence") or 0.0)
        if not answer_id or probability < self._config["agreement_classifier_confidence"]:
            return result
        ranked = [c.answer_id for c in result.candidates]
        if answer_id not in ranked:
            return result
        chosen = result.candidates[ranked.index(answer_id)]
        return retrieval.Result(retrieval.ANSWER, max(result.confidence, probability), [chosen] + [c for c in result.candidates if c is not chosen])

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if intent != self._config["intent"] or not text or text.startswith("/"):
                continue
            publication = self._live().get()
            if publication is None:
                logger.error("No knowledge base is published; every question gets the no-answer reply.")
                message.set(KNOWLEDGE_KEY, {**retrieval.Result(retrieval.NO_ANSWER, 0.0, []).as_dict(), "version": None}, add_to_output=True)
                continue
            language = message.get("language") or DEFAULT
            indexes = self._index_for(publication)
            language_index = indexes.get(language)
            if language_index is None:
                result = retrieval.Result(retrieval.NO_ANSWER, 0.0, [])
            else:
                vector = sentence_embeddings.embed([text])[0]
                result = language_index.search(text, vector)
                result = self._with_classifier(result, message.get(SUBRANKING_KEY) or [], language_index)
            message.set(KNOWLEDGE_KEY, {**result.as_dict(), "version": publication.version}, add_to_output=True)
        return messages


def _calibration_questions(publication: Publication, language: Text) -> Tuple[List[Text], np.ndarray]:
    try:
        stored = json.loads((publication.path / f"{language}.json").read_text(encoding="utf-8"))
        with np.load(publication.path / f"{language}.npz", allow_pickle=False) as arrays:
            return stored.get("calibration_questions") or [], arrays["calibration_vectors"]
    except (FileNotFoundError, KeyError):
        return [], np.zeros((0, 384), dtype=np.float32)
