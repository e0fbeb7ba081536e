"""Whitespace tokenizer whose lemmas are spelling-insensitive skeletons."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from rasa_addons.nlu.language_detector import LANGUAGE, training_language
from rasa_addons.text import fold


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class FoldingTokenizer(WhitespaceTokenizer):
    """Splits on whitespace like Rasa's tokenizer and sets `lemma` to `fold(text)`.

    Featurizers configured with `use_lemma: true` (the default) then count
    "spærret", "spaerret" and "sparet" as one word. The original text stays in
    `token.text` for anything that needs it.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # lemmatize: look words up in spaCy's Danish/Swedish lemma tables
        # (spacy-lookups-data) by the message's language before folding.
        return {**WhitespaceTokenizer.get_default_config(), "lemmatize": False}

    @staticmethod
    def not_supported_languages() -> Optional[List[Text]]:
        return None

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self._lemmas: Dict[Text, Any] = {}
        if self._config.get("lemmatize"):
            from spacy.lookups import load_lookups

            for language in ("da", "sv"):
                self._lemmas[language] = load_lookups(language, ["lemma_lookup"]).get_table("lemma_lookup")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "FoldingTokenizer":
        return cls(config)

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        tokens = super().tokenize(message, attribute)
        table = self._lemmas.get(message.get(LANGUAGE) or training_language(message) or "")
        for token in tokens:
            word = token.text.lower()
            token.lemma = fold(table.get(word, word) if table is not None else word)
        return tokens
