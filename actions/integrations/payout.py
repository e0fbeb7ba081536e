"""Adapter for the payout system (contracts/payout-system.yaml)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping

import aiohttp

from .http import (
    NotificationReceipt,
    ServiceClient,
    ServiceConfig,
    SystemUnavailableError,
    language_for,
    new_idempotency_key,
    parse_date,
    person_body,
    require,
)

SYSTEM = "payout-system"


@dataclass(frozen=True)
class NextPayout:
    benefit_type: str  # kontanthjaelp, uddannelseshjaelp, integrationsydelse, ekonomiskt_bistand, forsorjningsstod
    payout_date: dt.date
    amount_minor: int  # øre / öre
    currency: str  # DKK or SEK

    @property
    def amount(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-2)


class PayoutClient(ServiceClient):
    """Next payout of a person.

    `next_payout` returns personal data to the assistant: call it only for a
    citizen whose identity the chat has verified (MitID / BankID token). For
    anonymous chat use `send_next_payout_by_sms`, which lets the payout system
    text the registered number and returns nothing personal.
    """

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, session: aiohttp.ClientSession | None = None
    ) -> "PayoutClient":
        """PAYOUT_SYSTEM_URL (default: the local sandbox), PAYOUT_SYSTEM_TOKEN."""
        return cls(ServiceConfig.from_env(SYSTEM, "PAYOUT_SYSTEM", "/payout-system/v1", env), session)

    async def next_payout(self, country: str, national_id: str) -> NextPayout | None:
        response = await self.request(
            "POST",
            "/next-payout:lookup",
            operation="lookupNextPayout",
            json_body=person_body(country, national_id),
            safe_to_retry=True,  # a read, although sent as POST to keep the number out of the URL
        )
        payout = require(response.body, ["next_payout"], system=SYSTEM)["next_payout"]
        if payout is None:
            return None
        payout = require(payout, ["benefit_type", "payout_date", "amount_minor", "currency"], system=SYSTEM)
        amount = payout["amount_minor"]
        if not isinstance(amount, int) or isinstance(amount, bool) or payout["currency"] not in ("DKK", "SEK"):
            raise SystemUnavailableError(SYSTEM, "bad_response")
        return NextPayout(
            benefit_type=str(payout["benefit_type"]),
            payout_date=parse_date(payout["payout_date"], system=SYSTEM),
            amount_minor=amount,
            currency=payout["currency"],
        )

    async def send_next_payout_by_sms(
        self,
        country: str,
        national_id: str,
        *,
        language: str | None = None,
        idempotency_key: str | None = None,
    ) -> NotificationReceipt:
        """Ask the payout system to text the next payout to the number
        registered for the person. The receipt is the same whether or not
        the person exists or has a number.

        Pass the same `idempotency_key` when the citizen's request is retried
        (for example after a time-out) so that at most one SMS is sent.
        """
        body = {**person_body(country, national_id), "language": language_for(country, language)}
        response = await self.request(
            "POST",
            "/payout-notifications",
            operation="requestPayoutNotification",
            json_body=body,
            safe_to_retry=False,
            idempotency_key=idempotency_key or new_idempotency_key(),
            expected=(202,),
        )
        accepted = require(response.body, ["notification_id"], system=SYSTEM)
        return NotificationReceipt(notification_id=str(accepted["notification_id"]))
