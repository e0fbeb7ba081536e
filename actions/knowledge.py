"""The one way a question is answered: from the knowledge base.

The Rasa server's KnowledgeRetriever has already decided (the parse result's
`knowledge`: answer, close call or no answer, with the likeliest answers);
a button payload `/knowledge_question{"answer_id": "..."}` names the answer
directly. This action sends the answer text of the publication the decision
was made on, in the conversation's language and in the municipality's
variant when the channel metadata names a municipality
(`metadata.municipality`). It never guesses: when no answer fits, it says so,
offers a person and points to the municipality's website.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.content import conversation_language, message, topic_label
from rasa_addons.knowledge.publish import Publication, index_root, load_publication, read_current

logger = logging.getLogger(__name__)

KNOWLEDGE_ACTION = "action_knowledge_answer"
OUTCOME_SLOT = "knowledge_outcome"
ANSWERED, CLOSE_CALL, NO_ANSWER = "answered", "close_call", "no_answer"
ANSWER_ENTITY = "answer_id"
RELATED_INTENTS = ("request_human", "payout_inquiry", "case_status_inquiry")
_TRAILING_URL = re.compile(r"https://\S+?([.)]?)$")


def answer_payload(answer_id: Text) -> Text:
    return '/knowledge_question{"%s": "%s"}' % (ANSWER_ENTITY, answer_id)


class _Publications:
    """Content of recent publications, by version (the index is not needed here)."""

    def __init__(self, keep: int = 3) -> None:
        self._cache: "OrderedDict[Text, Publication]" = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()

    def get(self, version: Optional[Text]) -> Optional[Publication]:
        root = index_root()
        version = version or read_current(root)
        if not version:
            return None
        with self._lock:
            if version in self._cache:
                return self._cache[version]
        try:
            publication = load_publication(root, version, with_index=False)
        except FileNotFoundError:
            current = read_current(root)
            if not current or current == version:
                return None
            return self.get(current)
        with self._lock:
            self._cache[version] = publication
            while len(self._cache) > self._keep:
                self._cache.popitem(last=False)
        return publication


PUBLICATIONS = _Publications()


def municipality_of(tracker: Tracker) -> Optional[Text]:
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    code = metadata.get("municipality") if isinstance(metadata, dict) else None
    return str(code).strip() if code else None


def _entity_answer(tracker: Tracker) -> Optional[Text]:
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == ANSWER_ENTITY and entity.get("value"):
            return str(entity["value"])
    return None


def render_answer(
    publication: Publication, answer_id: Text, language: Text, municipality: Optional[Text]
) -> Optional[Dict[Text, Any]]:
    """Text and buttons of one answer, or None when the answer does not exist."""
    answer = publication.content["answers"].get(answer_id)
    if not answer:
        return None
    languages = answer["languages"]
    entry = languages.get(language) or next(iter(languages.values()))
    language = language if language in languages else next(iter(languages))
    text = entry["answer"]
    variant = entry["variants"].get(municipality or "", {})
    site = (publication.content["municipalities"].get(municipality or "") or {}).get("website")
    if variant.get("answer"):
        text = variant["answer"]
    elif entry["municipal"] and (variant.get("link") or site):
        text = f"{text} {message('knowledge_read_more', language)['text'].format(link=variant.get('link') or site)}"
    elif variant.get("link"):
        text = _TRAILING_URL.sub(lambda m: variant["link"] + m.group(1), text)
    buttons = []
    for related in entry["related"]:
        if related in RELATED_INTENTS:
            title = topic_label(related, language)
            payload = f"/{related}"
        else:
            target = publication.content["answers"].get(related, {}).get("languages", {}).get(language)
            title = target["title"] if target else None
            payload = answer_payload(related)
        if title:
            buttons.append({"title": title, "payload": payload})
    return {"text": text, "buttons": buttons}


def _no_answer(dispatcher: CollectingDispatcher, publication: Optional[Publication], language: Text, municipality: Optional[Text]) -> None:
    site = None
    if publication is not None:
        site = (publication.content["municipalities"].get(municipality or "") or {}).get("website")
    key = "knowledge_no_answer_with_site" if site else "knowledge_no_answer"
    chosen = message(key, language)
    dispatcher.utter_message(text=chosen["text"].format(site=site), buttons=list(chosen.get("buttons") or []),
                             content_key=key)


KNOWLEDGE_ANSWER_RESPONSE = "knowledge_answer"


class ActionKnowledgeAnswer(Action):
    def name(self) -> Text:
        return KNOWLEDGE_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        language = conversation_language(tracker)
        municipality = municipality_of(tracker)
        knowledge = (tracker.latest_message or {}).get("knowledge") or {}
        publication = PUBLICATIONS.get(knowledge.get("version"))
        chosen = _entity_answer(tracker)
        decision = "answer" if chosen else knowledge.get("decision")
        answer_id = chosen or knowledge.get("answer_id")

        if publication is not None and decision == "answer" and answer_id:
            rendered = render_answer(publication, answer_id, language, municipality)
            if rendered:
                # Named as a knowledge answer for the bridge's insight (the turn's topic is the answer id).
                dispatcher.utter_message(text=rendered["text"], buttons=rendered["buttons"] or None,
                                         content_key=KNOWLEDGE_ANSWER_RESPONSE)
                return [SlotSet(OUTCOME_SLOT, ANSWERED)]
            logger.warning("Answer %s is not in knowledge base version %s.", answer_id, publication.version)

        if publication is not None and decision == "close_call":
            buttons = []
            for candidate in knowledge.get("candidates") or []:
                answer = publication.content["answers"].get(candidate.get("answer_id"), {})
                entry = answer.get("languages", {}).get(language)
                if entry:
                    buttons.append({"title": entry["title"], "payload": answer_payload(candidate["answer_id"])})
            if buttons:
                chosen_message = message("knowledge_did_you_mean", language)
                buttons += list(chosen_message.get("buttons") or [])
                dispatcher.utter_message(text=chosen_message["text"], buttons=buttons, content_key="knowledge_did_you_mean")
                return [SlotSet(OUTCOME_SLOT, CLOSE_CALL)]

        _no_answer(dispatcher, publication, language, municipality)
        return [SlotSet(OUTCOME_SLOT, NO_ANSWER)]
