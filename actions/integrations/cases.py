"""Adapter for the case system (contracts/case-system.yaml)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Mapping

import aiohttp

from .http import (
    NotificationReceipt,
    ServiceClient,
    ServiceConfig,
    language_for,
    new_idempotency_key,
    parse_date,
    parse_datetime,
    person_body,
    require,
)

SYSTEM = "case-system"

DK_CASE_KINDS = ("byggesag", "socialt_botilbud", "plejebolig", "fritidstilbud", "institutionsplads")
SE_CASE_KINDS = ("bygglov", "forskoleplats", "ekonomiskt_bistand")
CASE_KINDS = DK_CASE_KINDS + SE_CASE_KINDS
CASE_STATUSES = ("received", "in_progress", "awaiting_documentation", "decided", "closed")
OPEN_STATUSES = ("received", "in_progress", "awaiting_documentation")

_CASE_FIELDS = (
    "case_id",
    "kind",
    "title",
    "status",
    "received_date",
    "expected_decision_date",
    "decision_date",
    "last_updated_at",
)


@dataclass(frozen=True)
class Case:
    case_id: str
    kind: str
    title: str
    status: str
    received_date: dt.date
    expected_decision_date: dt.date | None  # None while no date can be promised
    decision_date: dt.date | None
    last_updated_at: dt.datetime

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def _kinds(kinds: Iterable[str] | None) -> list[str] | None:
    if kinds is None:
        return None
    selected = sorted(set(kinds))
    if not selected or any(kind not in CASE_KINDS for kind in selected):
        raise ValueError(f"kinds must be among: {', '.join(CASE_KINDS)}")
    return selected


class CaseClient(ServiceClient):
    """Cases of a person.

    `cases` returns personal data: only for a citizen whose identity the chat
    has verified. For anonymous chat use `send_case_status_by_sms`.
    """

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, session: aiohttp.ClientSession | None = None
    ) -> "CaseClient":
        """CASE_SYSTEM_URL (default: the local sandbox), CASE_SYSTEM_TOKEN."""
        return cls(ServiceConfig.from_env(SYSTEM, "CASE_SYSTEM", "/case-system/v1", env), session)

    async def cases(self, country: str, national_id: str, kinds: Iterable[str] | None = None) -> list[Case]:
        """The person's cases, most recently updated first (possibly none)."""
        body: dict = person_body(country, national_id)
        selected = _kinds(kinds)
        if selected:
            body["kinds"] = selected
        response = await self.request(
            "POST",
            "/cases:lookup",
            operation="lookupCases",
            json_body=body,
            safe_to_retry=True,
        )
        items = require(response.body, ["cases"], system=SYSTEM)["cases"]
        if not isinstance(items, list):
            require(None, ["cases"], system=SYSTEM)
        return [self._case(item) for item in items]

    @staticmethod
    def _case(item: object) -> Case:
        item = require(item, _CASE_FIELDS, system=SYSTEM)
        return Case(
            case_id=str(item["case_id"]),
            kind=str(item["kind"]),
            title=str(item["title"]),
            status=str(item["status"]),
            received_date=parse_date(item["received_date"], system=SYSTEM),
            expected_decision_date=parse_date(item["expected_decision_date"], system=SYSTEM, optional=True),
            decision_date=parse_date(item["decision_date"], system=SYSTEM, optional=True),
            last_updated_at=parse_datetime(item["last_updated_at"], system=SYSTEM),
        )

    async def send_case_status_by_sms(
        self,
        country: str,
        national_id: str,
        *,
        language: str | None = None,
        kinds: Iterable[str] | None = None,
        idempotency_key: str | None = None,
    ) -> NotificationReceipt:
        """Ask the case system to text the status of the person's cases (of
        the given kinds) to the registered number. Same receipt whatever the
        outcome; reuse `idempotency_key` when retrying the same request."""
        body: dict = {**person_body(country, national_id), "language": language_for(country, language)}
        selected = _kinds(kinds)
        if selected:
            body["kinds"] = selected
        response = await self.request(
            "POST",
            "/case-status-notifications",
            operation="requestCaseStatusNotification",
            json_body=body,
            safe_to_retry=False,
            idempotency_key=idempotency_key or new_idempotency_key(),
            expected=(202,),
        )
        accepted = require(response.body, ["notification_id"], system=SYSTEM)
        return NotificationReceipt(notification_id=str(accepted["notification_id"]))
