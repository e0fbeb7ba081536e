"""Reading the conversation history that Rasa sends with each action call."""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Tracker

ACTION_LISTEN = "action_listen"


def first_replies(tracker: Tracker) -> List[Text]:
    """For each citizen message, the first action the bot took after it.

    The last entry belongs to the latest message ("" if none has run yet).
    """
    replies: List[Text] = []
    for event in tracker.events:
        if event.get("event") == "user":
            replies.append("")
        elif (
            event.get("event") == "action"
            and replies
            and not replies[-1]
            and event.get("name") != ACTION_LISTEN
        ):
            replies[-1] = event.get("name") or ""
    return replies


def previous_reply(tracker: Tracker) -> Text:
    """How the bot answered the citizen's message before the latest one."""
    replies = first_replies(tracker)
    return replies[-2] if len(replies) >= 2 else ""
