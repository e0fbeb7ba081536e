"""Detects whether a citizen message is Danish or Swedish.

The result is added to the parse output as three documented fields:

- ``language``: ``"da"`` or ``"sv"``
- ``language_confidence``: the text model's probability of that language
- ``language_source``: ``"text"`` (detected from the message) or
  ``"metadata"`` (the channel said so and the text did not clearly disagree)

A message in English (more English-only function words than Danish or
Swedish ones, by spaCy's stop-word lists) says nothing about Danish versus
Swedish: it keeps the language the website declared, so the citizen is
answered, and asked to clarify, in the conversation's language.

The detector learns from the training data itself: every example file carries
``metadata: {language: ...}`` at intent level. Character n-grams are hashed, so
the persisted model is two small arrays, not a pickled object.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from spacy.lang.da.stop_words import STOP_WORDS as DANISH_STOP_WORDS
from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH_STOP_WORDS
from spacy.lang.sv.stop_words import STOP_WORDS as SWEDISH_STOP_WORDS

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import METADATA, METADATA_INTENT, METADATA_EXAMPLE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_addons.languages import DANISH, SUPPORTED, SWEDISH

logger = logging.getLogger(__name__)

LANGUAGE = "language"
LANGUAGE_CONFIDENCE = "language_confidence"
LANGUAGE_SOURCE = "language_source"
SOURCE_TEXT = "text"
SOURCE_METADATA = "metadata"

_WEIGHTS_FILE = "language_detector.npz"
# Letters that exist in only one of the two alphabets settle the question.
_DANISH_ONLY = set("æø")
_SWEDISH_ONLY = set("äö")
# Function words of one side only ("i", "for", "at" are both English and Nordic).
_ENGLISH_ONLY_WORDS = frozenset(ENGLISH_STOP_WORDS - DANISH_STOP_WORDS - SWEDISH_STOP_WORDS)
_NORDIC_ONLY_WORDS = frozenset((DANISH_STOP_WORDS | SWEDISH_STOP_WORDS) - ENGLISH_STOP_WORDS)
_WORD = re.compile(r"\w+")


def looks_english(text: Text) -> bool:
    """True when the message reads as English rather than Danish or Swedish."""
    letters = set(text.lower())
    if letters & (_DANISH_ONLY | _SWEDISH_ONLY | {"å"}):
        return False
    words = _WORD.findall(text.lower())
    english = sum(word in _ENGLISH_ONLY_WORDS for word in words)
    nordic = sum(word in _NORDIC_ONLY_WORDS for word in words)
    return english > nordic


def _vectorizer() -> HashingVectorizer:
    return HashingVectorizer(
        analyzer="char_wb",
        ngram_range=(1, 4),
        n_features=2**18,
        alternate_sign=False,
        norm="l2",
        lowercase=True,
    )


def training_language(message: Message) -> Optional[Text]:
    """The language an editor declared for a training example, if any."""
    metadata = message.get(METADATA) or {}
    for level in (METADATA_EXAMPLE, METADATA_INTENT):
        declared = (metadata.get(level) or {}).get(LANGUAGE)
        if declared in SUPPORTED:
            return declared
    return None


def channel_language(message: Message) -> Optional[Text]:
    """The language the website declared in the channel metadata, if valid."""
    metadata = message.get(METADATA)
    if not isinstance(metadata, dict):
        return None
    declared = metadata.get(LANGUAGE)
    if isinstance(declared, str) and declared.lower() in SUPPORTED:
        return declared.lower()
    return None


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class LanguageDetector(GraphComponent):
    """Adds the message language to the parse result."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Text must be at least this sure to override the channel metadata.
            "override_metadata_threshold": 0.9,
            "regularisation_c": 10.0,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        coef: Optional[np.ndarray] = None,
        intercept: Optional[float] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._vectorizer = _vectorizer()
        self._coef = coef
        self._intercept = intercept

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageDetector":
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LanguageDetector":
        try:
            with model_storage.read_from(resource) as directory:
                weights = np.load(Path(directory) / _WEIGHTS_FILE, allow_pickle=False)
                return cls(
                    config,
                    model_storage,
                    resource,
                    coef=weights["coef"],
                    intercept=float(weights["intercept"]),
                )
        except (ValueError, FileNotFoundError):
            logger.warning("No trained language detector found; using letters only.")
            return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        texts, labels = [], []
        for example in training_data.intent_examples:
            language = training_language(example)
            if language and example.get(TEXT):
                texts.append(example.get(TEXT))
                labels.append(1 if language == SWEDISH else 0)
        if len(set(labels)) < 2:
            logger.warning(
                "Training data declares fewer than two languages; "
                "the language detector falls back to letters only."
            )
            return self._resource

        features = self._vectorizer.transform(texts)
        model = LogisticRegression(
            C=self._config["regularisation_c"], max_iter=1000, class_weight="balanced"
        )
        model.fit(features, labels)
        self._coef = model.coef_[0].astype(np.float32)
        self._intercept = float(model.intercept_[0])
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(
                Path(directory) / _WEIGHTS_FILE,
                coef=self._coef,
                intercept=np.array(self._intercept),
            )
        return self._resource

    def detect(self, text: Text) -> Tuple[Text, float]:
        """Return the more likely language of `text` and its probability."""
        letters = set(text.lower())
        has_danish, has_swedish = letters & _DANISH_ONLY, letters & _SWEDISH_ONLY
        if has_danish and not has_swedish:
            return DANISH, 0.99
        if has_swedish and not has_danish:
            return SWEDISH, 0.99
        if self._coef is None:
            return DANISH, 0.5
        score = self._vectorizer.transform([text]).dot(self._coef)[0] + self._intercept
        p_swedish = float(1.0 / (1.0 + np.exp(-score)))
        if p_swedish >= 0.5:
            return SWEDISH, p_swedish
        return DANISH, 1.0 - p_swedish

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            declared = channel_language(message)
            # Button payloads ("/intent") carry no language of their own.
            if text.startswith("/") or not text.strip():
                if declared is None:
                    continue
                language, confidence, source = declared, 1.0, SOURCE_METADATA
            elif declared and looks_english(text):
                # Neither Danish nor Swedish: the conversation's language stands.
                language, confidence, source = declared, 1.0, SOURCE_METADATA
            else:
                language, confidence = self.detect(text)
                source = SOURCE_TEXT
                if (
                    declared
                    and declared != language
                    and confidence < self._config["override_metadata_threshold"]
                ):
                    language, confidence, source = declared, 1.0 - confidence, SOURCE_METADATA
            message.set(LANGUAGE, language, add_to_output=True)
            message.set(LANGUAGE_CONFIDENCE, round(confidence, 4), add_to_output=True)
            message.set(LANGUAGE_SOURCE, source, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
