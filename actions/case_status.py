"""The status of the citizen's cases: shown in chat after a login, or sent by SMS.

"Hvordan går det med min byggesag?" narrows the answer to building cases:
`case_kinds_in_text` finds the kinds a message names, for the citizen's
country. Both answer functions raise the adapters' errors
(SystemUnavailableError, RequestRejectedError) to the calling action.
"""

from __future__ import annotations

import logging
import re
from typing import List, Mapping, Optional, Sequence

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.content import conversation_language, message, utter
from actions.formatting import case_kind_label, case_status_label, format_long_date
from actions.identity import DENMARK, NationalId
from actions.integrations import Case, CaseClient
from actions.integrations.cases import DK_CASE_KINDS, SE_CASE_KINDS

logger = logging.getLogger(__name__)

TOPIC = "case_status"
# More cases than this make a chat bubble unreadable; the rest are counted.
MAX_CASES_IN_CHAT = 5

# Words (folded: lower case, æ/ø/å/ä/ö spelled out) that name a kind of case.
_KIND_WORDS = {
    "byggesag": ("byggesag", "byggetilladelse", "byggeansoegning", "tilbygning", "carport", "byggeri"),
    "socialt_botilbud": ("botilbud", "bosted"),
    "plejebolig": ("plejebolig", "plejehjem", "aeldrebolig"),
    "fritidstilbud": ("fritidstilbud", "fritidshjem", "fritidsklub", "sfo", "klub"),
    "institutionsplads": ("institutionsplads", "vuggestue", "boernehave", "dagpleje", "pasningsplads", "daginstitution"),
    "bygglov": ("bygglov", "bygglovet", "bygglovsansokan", "bygganmalan", "attefallshus"),
    "forskoleplats": ("forskola", "forskolan", "forskoleplats", "dagis", "barnomsorg"),
    "ekonomiskt_bistand": ("ekonomiskt bistand", "forsorjningsstod", "socialbidrag", "bistand"),
}
_FOLDS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "a", "ö": "o", "é": "e"})


def _fold(text: str) -> str:
    folded = text.lower().translate(_FOLDS)
    # Swedish "å" is "a" in the words above; Danish "å" is "aa": accept both.
    return folded.replace("aa", "a") if "aa" in folded else folded


def case_kinds_in_text(text: str, country: str) -> List[str]:
    """The case kinds of `country` that a message names (sorted, maybe none)."""
    allowed = DK_CASE_KINDS if country == DENMARK else SE_CASE_KINDS
    folded = _fold(text or "")
    found = []
    for kind in allowed:
        words = [_fold(word) for word in _KIND_WORDS[kind]]
        if any(re.search(rf"\b{re.escape(word)}", folded) for word in words):
            found.append(kind)
    return sorted(found)


def _case_line(case: Case, language: str) -> str:
    kind = case_kind_label(case.kind, language)
    values = {"kind": kind[:1].upper() + kind[1:], "case_id": case.case_id}
    if case.status == "decided" and case.decision_date:
        key, values["date"] = "case_decided", format_long_date(case.decision_date, language)
    elif case.status == "closed":
        key = "case_closed"
    elif case.expected_decision_date:
        key, values["date"] = "case_open_with_date", format_long_date(case.expected_decision_date, language)
    else:
        key = "case_open"
    values["status"] = case_status_label(case.status, language)
    return message(key, language)["text"].format(**values)


def cases_text(cases: Sequence[Case], language: str) -> str:
    """One line per case, open cases first, at most MAX_CASES_IN_CHAT."""
    ordered = sorted(cases, key=lambda case: not case.is_open)
    lines = [_case_line(case, language) for case in ordered[:MAX_CASES_IN_CHAT]]
    hidden = len(ordered) - MAX_CASES_IN_CHAT
    if hidden > 0:
        lines.append(message("cases_more", language)["text"].format(count=hidden))
    return "\n".join(lines)


async def show_cases(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    national_id: NationalId,
    kinds: Optional[Sequence[str]] = None,
    env: Optional[Mapping[str, str]] = None,
) -> None:
    """For a verified login only: the status of the citizen's cases."""
    language = conversation_language(tracker)
    intro = "cases_in_chat"
    async with CaseClient.from_env(env) as client:
        cases = await client.cases(national_id.country, national_id.number, kinds or None)
        if not cases and kinds:
            cases = await client.cases(national_id.country, national_id.number)
            intro = "cases_of_kind_none"
    if not cases:
        utter(dispatcher, tracker, "cases_none_in_chat")
        return
    text = message(intro, language)["text"] + "\n" + cases_text(cases, language)
    dispatcher.utter_message(text=text)


async def send_case_status_by_sms(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    national_id: NationalId,
    idempotency_key: str,
    kinds: Optional[Sequence[str]] = None,
    env: Optional[Mapping[str, str]] = None,
) -> None:
    """Anonymous chat: the case system texts the registered number. The
    reply is the same whatever the outcome and holds nothing personal."""
    async with CaseClient.from_env(env) as client:
        await client.send_case_status_by_sms(
            national_id.country,
            national_id.number,
            language=conversation_language(tracker),
            kinds=kinds or None,
            idempotency_key=idempotency_key,
        )
    logger.info("case status notification requested")
    utter(dispatcher, tracker, "case_status_sms_requested")
