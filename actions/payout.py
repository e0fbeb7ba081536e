"""The citizen's next payout: shown in chat after a login, or sent by SMS.

Both functions raise the adapters' errors (SystemUnavailableError,
RequestRejectedError); the calling action turns them into an apology.
"""

from __future__ import annotations

import logging
from typing import Mapping, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.content import conversation_language, utter
from actions.formatting import benefit_label, format_amount, format_long_date
from actions.identity import NationalId
from actions.integrations import PayoutClient

logger = logging.getLogger(__name__)

TOPIC = "payout"


async def show_next_payout(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    national_id: NationalId,
    env: Optional[Mapping[str, str]] = None,
) -> None:
    """For a verified login only: the next payout, formatted for the locale."""
    language = conversation_language(tracker)
    async with PayoutClient.from_env(env) as payout:
        next_payout = await payout.next_payout(national_id.country, national_id.number)
    if next_payout is None:
        utter(dispatcher, tracker, "payout_none_in_chat")
        return
    utter(
        dispatcher,
        tracker,
        "payout_in_chat",
        benefit=benefit_label(next_payout.benefit_type, language),
        amount=format_amount(next_payout.amount_minor, next_payout.currency, language),
        date=format_long_date(next_payout.payout_date, language),
    )


async def send_next_payout_by_sms(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    national_id: NationalId,
    idempotency_key: str,
    env: Optional[Mapping[str, str]] = None,
) -> None:
    """Anonymous chat: the payout system texts the registered number. The
    reply is the same whatever the outcome and holds nothing personal."""
    async with PayoutClient.from_env(env) as payout:
        await payout.send_next_payout_by_sms(
            national_id.country,
            national_id.number,
            language=conversation_language(tracker),
            idempotency_key=idempotency_key,
        )
    logger.info("payout notification requested")
    utter(dispatcher, tracker, "payout_sms_requested")
