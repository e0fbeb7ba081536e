"""Adapters (async HTTP clients) for the municipal systems.

One module per system: `payout` (payout system), `cases` (case system),
`sms` (SMS gateway); `http` holds the shared plumbing and the error types.
Contracts: contracts/*.yaml. Local implementation: sandbox/.

Typical use in an action::

    try:
        async with PayoutClient.from_env() as payout:
            if citizen_is_authenticated:
                next_payout = await payout.next_payout(country, national_id)
            else:
                await payout.send_next_payout_by_sms(
                    country, national_id, language=language, idempotency_key=key
                )
    except SystemUnavailableError:
        ...  # apologise and offer a person
    except RequestRejectedError:
        ...  # the system refused the input: ask again, or apologise

Configuration: PAYOUT_SYSTEM_URL / _TOKEN, CASE_SYSTEM_URL / _TOKEN,
SMS_GATEWAY_URL / _TOKEN; without them, the local sandbox on 127.0.0.1:8090.
"""

from .cases import Case, CaseClient
from .http import (
    IntegrationError,
    NotificationReceipt,
    RequestRejectedError,
    ServiceConfig,
    SystemUnavailableError,
)
from .payout import NextPayout, PayoutClient
from .sms import Outbox, OutboxMessage, SentMessage, SmsGatewayClient

__all__ = [
    "Case",
    "CaseClient",
    "IntegrationError",
    "NextPayout",
    "NotificationReceipt",
    "Outbox",
    "OutboxMessage",
    "PayoutClient",
    "RequestRejectedError",
    "SentMessage",
    "ServiceConfig",
    "SmsGatewayClient",
    "SystemUnavailableError",
]
