"""Domain logic shared by the routes: lookups, SMS outbox, notifications."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .failures import FailureSwitch
from .logmask import mask_phone
from .models import Case, Notification, Payout, Person, SmsMessage, utcnow
from .problems import ProblemError
from .texts import sms_encoding_and_segments

logger = logging.getLogger("municipal_sandbox.services")

SENDER_NAME = "Sandbox"


def fingerprint(secret: bytes, payload: dict[str, Any]) -> str:
    """Keyed hash of a request body. Keyed, because an unkeyed hash of a
    10-digit CPR number is reversed by trying every number."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(secret, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def idempotency_conflict() -> ProblemError:
    return ProblemError(
        409,
        "idempotency_key_reused",
        "Idempotency key reused",
        "The Idempotency-Key was already used with a different request body.",
    )


async def find_person(session: AsyncSession, country: str, national_id: str) -> Person | None:
    result = await session.execute(select(Person).where(Person.country == country, Person.national_id == national_id))
    return result.scalar_one_or_none()


async def next_payout(session: AsyncSession, person_ref: str, today: dt.date) -> Payout | None:
    result = await session.execute(
        select(Payout)
        .where(Payout.person_ref == person_ref, Payout.status == "scheduled", Payout.payout_date >= today)
        .order_by(Payout.payout_date)
        .limit(1)
    )
    return result.scalar_one_or_none()


async def cases_of(session: AsyncSession, person_ref: str, kinds: Sequence[str] | None) -> list[Case]:
    query = select(Case).where(Case.person_ref == person_ref)
    if kinds:
        query = query.where(Case.kind.in_(kinds))
    result = await session.execute(query.order_by(Case.last_updated_at.desc(), Case.case_id))
    return list(result.scalars())


# --- SMS gateway ----------------------------------------------------------------


@dataclass(frozen=True)
class AcceptedMessage:
    message: SmsMessage
    replayed: bool


async def accept_sms(
    session: AsyncSession,
    *,
    idempotency_key: str,
    request_fingerprint: str,
    recipient: str,
    text: str,
    sender_name: str,
    sender_reference: str,
) -> AcceptedMessage:
    """Put a message in the outbox, or return the one already accepted under
    the same idempotency key. The caller commits."""
    existing = await _sms_by_key(session, idempotency_key)
    if existing is not None:
        if not hmac.compare_digest(existing.request_fingerprint, request_fingerprint):
            raise idempotency_conflict()
        return AcceptedMessage(existing, replayed=True)
    encoding, segments = sms_encoding_and_segments(text)
    message = SmsMessage(
        message_id=f"msg_{uuid.uuid4().hex}",
        idempotency_key=idempotency_key,
        request_fingerprint=request_fingerprint,
        recipient=recipient,
        sender_name=sender_name,
        sender_reference=sender_reference,
        text=text,
        encoding=encoding,
        segments=segments,
        # The sandbox has no network to deliver to; accepted means delivered.
        status="delivered",
        created_at=utcnow(),
    )
    session.add(message)
    await session.flush()
    logger.info("sms %s accepted for %s (%s)", message.message_id, mask_phone(recipient), sender_reference)
    return AcceptedMessage(message, replayed=False)


async def _sms_by_key(session: AsyncSession, idempotency_key: str) -> SmsMessage | None:
    result = await session.execute(select(SmsMessage).where(SmsMessage.idempotency_key == idempotency_key))
    return result.scalar_one_or_none()


async def send_sms_idempotently(
    sessionmaker: async_sessionmaker[AsyncSession], secret: bytes, **fields: str
) -> AcceptedMessage:
    """accept_sms in its own transaction, safe against two concurrent requests
    with the same key (the loser of the race replays the winner's message)."""
    request_fingerprint = fingerprint(secret, {k: v for k, v in fields.items() if k != "idempotency_key"})
    try:
        async with sessionmaker() as session, session.begin():
            return await accept_sms(session, request_fingerprint=request_fingerprint, **fields)
    except IntegrityError:
        async with sessionmaker() as session:
            existing = await _sms_by_key(session, fields["idempotency_key"])
        if existing is None:
            raise
        if not hmac.compare_digest(existing.request_fingerprint, request_fingerprint):
            raise idempotency_conflict() from None
        return AcceptedMessage(existing, replayed=True)


# --- Notifications (payout and case systems) ------------------------------------

ComposeText = Callable[[AsyncSession, Person], Awaitable[str]]


@dataclass(frozen=True)
class NotificationRequest:
    system: str
    idempotency_key: str
    country: str
    national_id: str
    language: str | None
    extra: dict[str, Any]


class Notifier:
    """Sends a citizen's own information by SMS to the number registered for
    the person. The caller learns only that the request was accepted."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        failures: FailureSwitch,
        secret: bytes,
        per_person_per_hour: int,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._failures = failures
        self._secret = secret
        self._per_person_per_hour = per_person_per_hour

    async def request(self, request: NotificationRequest, compose: ComposeText) -> str:
        request_fingerprint = fingerprint(
            self._secret,
            {
                "system": request.system,
                "country": request.country,
                "national_id": request.national_id,
                "language": request.language,
                **request.extra,
            },
        )
        try:
            async with self._sessionmaker() as session, session.begin():
                existing = await self._by_key(session, request.system, request.idempotency_key)
                if existing is not None:
                    return self._replay(existing, request_fingerprint)
                notification = await self._create(session, request, request_fingerprint, compose)
        except IntegrityError:
            async with self._sessionmaker() as session:
                existing = await self._by_key(session, request.system, request.idempotency_key)
            if existing is None:
                raise
            return self._replay(existing, request_fingerprint)

        if notification.status == "pending":
            await self.deliver(notification.notification_id)
        return notification.notification_id

    async def _create(
        self,
        session: AsyncSession,
        request: NotificationRequest,
        request_fingerprint: str,
        compose: ComposeText,
    ) -> Notification:
        person = await find_person(session, request.country, request.national_id)
        notification = Notification(
            notification_id=f"ntf_{uuid.uuid4().hex}",
            system=request.system,
            idempotency_key=request.idempotency_key,
            request_fingerprint=request_fingerprint,
            person_ref=person.person_ref if person else None,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        if person is None:
            notification.status = "unknown_person"
        elif person.mobile_number is None:
            notification.status = "no_recipient"
        elif await self._throttled(session, person.person_ref):
            # Protects a citizen against someone who knows the identity number
            # and keeps asking: the phone is not flooded.
            notification.status = "throttled"
        else:
            notification.status = "pending"
            notification.recipient = person.mobile_number
            notification.text = await compose(session, person)
        session.add(notification)
        await session.flush()
        logger.info("%s notification %s: %s", request.system, notification.notification_id, notification.status)
        return notification

    async def _throttled(self, session: AsyncSession, person_ref: str) -> bool:
        if self._per_person_per_hour <= 0:
            return False
        since = utcnow() - dt.timedelta(hours=1)
        count = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.person_ref == person_ref,
                Notification.created_at >= since,
                Notification.status.in_(("pending", "delivered")),
            )
        )
        return (count or 0) >= self._per_person_per_hour

    @staticmethod
    async def _by_key(session: AsyncSession, system: str, key: str) -> Notification | None:
        result = await session.execute(
            select(Notification).where(Notification.system == system, Notification.idempotency_key == key)
        )
        return result.scalar_one_or_none()

    @staticmethod
    def _replay(existing: Notification, request_fingerprint: str) -> str:
        if not hmac.compare_digest(existing.request_fingerprint, request_fingerprint):
            raise idempotency_conflict()
        return existing.notification_id

    async def deliver(self, notification_id: str) -> bool:
        """Hand a pending notification to the SMS gateway. Returns False while
        the gateway is failing: the notification stays pending for the worker."""
        if not self._failures.accepts_internal_delivery("sms-gateway"):
            logger.warning("notification %s waits: the SMS gateway is unavailable", notification_id)
            return False
        async with self._sessionmaker() as session, session.begin():
            # Claim the notification, so the request that created it and the
            # delivery worker never both send it.
            claimed = await session.execute(
                update(Notification)
                .where(Notification.notification_id == notification_id, Notification.status == "pending")
                .values(status="sending", updated_at=utcnow())
            )
            if claimed.rowcount != 1:
                return True  # already delivered by the other one
            notification = await session.get(Notification, notification_id, populate_existing=True)
            fields = dict(
                recipient=notification.recipient,
                text=notification.text,
                sender_name=SENDER_NAME,
                sender_reference=f"{notification.system}/notification/{notification_id}",
            )
            accepted = await accept_sms(
                session,
                idempotency_key=notification_id,
                request_fingerprint=fingerprint(self._secret, fields),
                **fields,
            )
            notification.status = "delivered"
            notification.sms_message_id = accepted.message.message_id
            # The queue no longer needs the personal data of a sent message.
            notification.text = None
            notification.recipient = None
            notification.updated_at = utcnow()
        return True

    async def deliver_pending(self) -> int:
        """Retry pending notifications, oldest first, until the gateway fails."""
        async with self._sessionmaker() as session:
            result = await session.execute(
                select(Notification.notification_id)
                .where(Notification.status == "pending")
                .order_by(Notification.created_at)
                .limit(100)
            )
            pending = list(result.scalars())
        delivered = 0
        for notification_id in pending:
            if not await self.deliver(notification_id):
                break
            delivered += 1
        return delivered
