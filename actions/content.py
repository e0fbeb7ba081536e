"""Citizen-facing text composed by custom actions (actions/content.yml)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

DEFAULT_LANGUAGE = "da"
_CONTENT_FILE = Path(__file__).with_name("content.yml")


@lru_cache(maxsize=1)
def _content() -> Dict[Text, Any]:
    with _CONTENT_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def conversation_language(tracker: Tracker) -> Text:
    language = tracker.get_slot("language")
    return language if language in ("da", "sv") else DEFAULT_LANGUAGE


def message(key: Text, language: Text) -> Dict[Text, Any]:
    """One message (text and optional buttons) in the given language."""
    variants = _content()["messages"][key]
    return dict(variants.get(language) or variants[DEFAULT_LANGUAGE])


def topic_label(topic: Text, language: Text) -> Optional[Text]:
    labels = _content()["topic_labels"]
    return (labels.get(language) or labels[DEFAULT_LANGUAGE]).get(topic)


def utter(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    key: Text,
    extra_buttons: Optional[List[Dict[Text, Text]]] = None,
    **values: Any,
) -> None:
    """Send message `key` in the conversation's language."""
    chosen = message(key, conversation_language(tracker))
    text = chosen["text"].format(**values) if values else chosen["text"]
    buttons = list(chosen.get("buttons") or []) + list(extra_buttons or [])
    # The key travels with the message (Rasa keeps it in the bot event's metadata)
    # so the bridge can tell a clarifying question or a failed identity check.
    dispatcher.utter_message(text=text, buttons=buttons or None, content_key=key)
