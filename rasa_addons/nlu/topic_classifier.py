"""Intent (topic) classifier: TF-IDF n-grams of folded words and sentence
embeddings, each into a regularised logistic regression, as a cascade.

- The fast model sees only word and character n-grams. Most messages are
  clear, and it answers them in about a millisecond.
- When the fast model's best topic is below `cascade_confidence`, the message
  is embedded with multilingual-e5-small and the full model (n-grams +
  embedding) decides. Embeddings are what recognise a paraphrase with no
  word in common with the training examples, but they cost 10-25 ms a message.

Sub-labels: examples whose intent-level metadata names a `sublabel_key`
(`answer` for knowledge_question blocks) are trained as their own class
"<intent>/<value>" ("<intent>/" for that intent's examples without one), so
a broad intent does not drown the small dialogue intents. Predictions are
summed back to the intent; the ranking within it is left to later
components as `intent_subranking` (the knowledge retriever uses it).

Why not DIET: on this project's held-out sets the cascade is more accurate
(docs/nlu-pipeline.md has the numbers), trains in a minute instead of many and
keeps the server fast under load. The persisted model is plain arrays and a
JSON vocabulary, never a pickle, so loading a model cannot run code.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_addons.nlu import sentence_embeddings
from rasa_addons.text import fold

logger = logging.getLogger(__name__)

_VOCABULARY_FILE = "vocabulary.json"
SUBLABEL_SEPARATOR = "/"
SUBRANKING_KEY = "intent_subranking"
_WEIGHTS_FILE = "weights.npz"


def _vectorizers() -> Dict[Text, TfidfVectorizer]:
    # Words catch phrasing; character n-grams inside words catch typos,
    # compounds ("sygesikringskort") and inflection.
    return {
        "words": TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+"),
        "chars": TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
    }


def folded_text(message: Message) -> Text:
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    if tokens:
        return " ".join(token.lemma for token in tokens)
    return " ".join(fold(word) for word in (message.get(TEXT) or "").split())


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class TopicClassifier(IntentClassifier, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Inverse regularisation strength, chosen on the held-out sets.
            "C": 30.0,
            # Weight of sentence-embedding features relative to n-grams (0 = off).
            "dense_weight": 1.0,
            # Below this confidence of the fast model, the full model decides
            # (1.0 = always embed, 0.0 = never at prediction time).
            "cascade_confidence": 0.8,
            "ranking_length": 10,
            "max_iter": 3000,
            # Intent-level metadata key that splits an intent into sub-labels.
            "sublabel_key": "answer",
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vectorizers: Optional[Dict[Text, TfidfVectorizer]] = None,
        weights: Optional[Dict[Text, np.ndarray]] = None,
        labels: Optional[List[Text]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._vectorizers = vectorizers or _vectorizers()
        # {"fast_coef", "fast_intercept"} and, with embeddings, "full_*".
        self._weights = weights or {}
        self._labels = labels or []

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TopicClassifier":
        return cls(config, model_storage, resource)

    # ------------------------------------------------------------ features

    @property
    def _uses_embeddings(self) -> bool:
        return self._config["dense_weight"] > 0

    def _ngram_features(self, messages: List[Message]) -> sp.csr_matrix:
        texts = [folded_text(message) for message in messages]
        return sp.hstack([v.transform(texts) for v in self._vectorizers.values()]).tocsr()

    def _full_features(self, ngrams: sp.csr_matrix, messages: List[Message]) -> sp.csr_matrix:
        dense = sentence_embeddings.embed([m.get(TEXT) or "" for m in messages])
        return sp.hstack([ngrams, sp.csr_matrix(dense * self._config["dense_weight"])]).tocsr()

    # ------------------------------------------------------------ training

    def _fit(self, features: sp.csr_matrix, intents: List[Text], name: Text) -> None:
        model = LogisticRegression(C=self._config["C"], max_iter=self._config["max_iter"])
        model.fit(features, intents)
        self._weights[f"{name}_coef"] = model.coef_.astype(np.float32)
        self._weights[f"{name}_intercept"] = model.intercept_.astype(np.float32)
        self._labels = [str(label) for label in model.classes_]

    def _training_label(self, example: Message, split_intents: set) -> Text:
        intent = example.get(INTENT)
        if intent not in split_intents:
            return intent
        value = ((example.get("metadata") or {}).get("intent") or {}).get(self._config["sublabel_key"])
        return f"{intent}{SUBLABEL_SEPARATOR}{value or ''}"

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if len({e.get(INTENT) for e in examples}) < 2:
            logger.warning("Fewer than two intents in the training data; not training.")
            return self._resource
        texts = [folded_text(e) for e in examples]
        for vectorizer in self._vectorizers.values():
            vectorizer.fit(texts)
        key = self._config["sublabel_key"]
        split_intents = {
            e.get(INTENT) for e in examples if key and ((e.get("metadata") or {}).get("intent") or {}).get(key)
        }
        intents = [self._training_label(e, split_intents) for e in examples]
        ngrams = self._ngram_features(examples)
        self._weights = {}
        self._fit(ngrams, intents, "fast")
        if self._uses_embeddings:
            self._fit(self._full_features(ngrams, examples), intents, "full")
        self.persist()
        return self._resource

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            vocabulary = {
                name: {
                    "vocabulary": {term: int(i) for term, i in v.vocabulary_.items()},
                    "idf": v.idf_.tolist(),
                }
                for name, v in self._vectorizers.items()
            }
            (Path(directory) / _VOCABULARY_FILE).write_text(
                json.dumps({"labels": self._labels, "vectorizers": vocabulary}),
                encoding="utf-8",
            )
            np.savez(Path(directory) / _WEIGHTS_FILE, **self._weights)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "TopicClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                stored = json.loads((Path(directory) / _VOCABULARY_FILE).read_text("utf-8"))
                with np.load(Path(directory) / _WEIGHTS_FILE, allow_pickle=False) as stored_weights:
                    weights = {name: stored_weights[name] for name in stored_weights.files}
        except (ValueError, FileNotFoundError):
            logger.warning("No trained topic classifier found; it will not classify.")
            return cls(config, model_storage, resource)

        vectorizers = _vectorizers()
        for name, vectorizer in vectorizers.items():
            vectorizer.vocabulary_ = stored["vectorizers"][name]["vocabulary"]
            vectorizer.idf_ = np.asarray(stored["vectorizers"][name]["idf"])
        return cls(config, model_storage, resource, vectorizers, weights, stored["labels"])

    # ------------------------------------------------------------ prediction

    def _coefficients_by_feature(self, name: Text) -> np.ndarray:
        """coef.T in row order: a sparse product with the transposed view copies
        the whole matrix on every call (about a millisecond per message)."""
        coef = self._weights[f"{name}_coef"]
        cached = getattr(self, "_by_feature", {}).get(name)
        if cached is None or cached[0] is not coef:
            self._by_feature = {**getattr(self, "_by_feature", {}), name: (coef, np.ascontiguousarray(coef.T))}
            cached = self._by_feature[name]
        return cached[1]

    def _softmax(self, features: sp.csr_matrix, name: Text) -> np.ndarray:
        scores = np.asarray(features @ self._coefficients_by_feature(name) + self._weights[f"{name}_intercept"])
        if len(self._labels) == 2:  # sklearn keeps one column for two classes
            scores = np.hstack([-scores, scores])
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def _probabilities(self, messages: List[Message]) -> np.ndarray:
        ngrams = self._ngram_features(messages)
        probabilities = self._softmax(ngrams, "fast")
        if "full_coef" not in self._weights:
            return probabilities
        unsure = np.flatnonzero(probabilities.max(axis=1) < self._config["cascade_confidence"])
        if unsure.size:
            subset = [messages[i] for i in unsure]
            probabilities[unsure] = self._softmax(self._full_features(ngrams[unsure], subset), "full")
        return probabilities

    def process(self, messages: List[Message]) -> List[Message]:
        if "fast_coef" not in self._weights or not messages:
            return messages
        probabilities = self._probabilities(messages)
        intents = [label.split(SUBLABEL_SEPARATOR, 1)[0] for label in self._labels]
        names = sorted(set(intents))
        columns = {name: [i for i, intent in enumerate(intents) if intent == name] for name in names}
        for message, row in zip(messages, probabilities):
            totals = np.array([row[columns[name]].sum() for name in names])
            order = np.argsort(-totals)[: self._config["ranking_length"]]
            ranking = [
                {INTENT_NAME_KEY: names[i], PREDICTED_CONFIDENCE_KEY: float(totals[i])}
                for i in order
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
            within = sorted(columns[ranking[0][INTENT_NAME_KEY]], key=lambda i: -row[i])
            if len(within) > 1 or SUBLABEL_SEPARATOR in self._labels[within[0]]:
                message.set(
                    SUBRANKING_KEY,
                    [
                        {INTENT_NAME_KEY: self._labels[i].split(SUBLABEL_SEPARATOR, 1)[1], PREDICTED_CONFIDENCE_KEY: float(row[i])}
                        for i in within[:5]
                    ],
                    add_to_output=True,
                )
        return messages
