"""Database schema of the sandbox (SQLAlchemy 2, typed declarative mapping)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Person(Base):
    """A fictitious citizen, shared by the payout and the case system.

    The mobile number stands for the one a real municipality would read
    from the citizen's contact register (NemSMS in Denmark, the number
    registered in the e-tjänst in Sweden).
    """

    __tablename__ = "persons"

    person_ref: Mapped[str] = mapped_column(String(16), primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    national_id: Mapped[str] = mapped_column(String(12), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(2))
    mobile_number: Mapped[str | None] = mapped_column(String(16))

    payouts: Mapped[list["Payout"]] = relationship(back_populates="person")
    cases: Mapped[list["Case"]] = relationship(back_populates="person")


class Payout(Base):
    __tablename__ = "payouts"

    payout_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_ref: Mapped[str] = mapped_column(ForeignKey("persons.person_ref"), index=True)
    benefit_type: Mapped[str] = mapped_column(String(32))
    payout_date: Mapped[dt.date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))  # scheduled | paid

    person: Mapped[Person] = relationship(back_populates="payouts")


class Case(Base):
    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_ref: Mapped[str] = mapped_column(ForeignKey("persons.person_ref"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32))
    received_date: Mapped[dt.date] = mapped_column(Date)
    expected_decision_date: Mapped[dt.date | None] = mapped_column(Date)
    decision_date: Mapped[dt.date | None] = mapped_column(Date)
    last_updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    person: Mapped[Person] = relationship(back_populates="cases")


class Notification(Base):
    """A request to tell a citizen something by SMS on the registered number.

    The outcome (delivered, no registered number, unknown person, throttled)
    is kept here for audit and never returned to the caller.
    """

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("system", "idempotency_key"),)

    notification_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    system: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    # Keyed hash of the request, to detect a reused idempotency key without
    # storing the identity number a second time.
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    person_ref: Mapped[str | None] = mapped_column(ForeignKey("persons.person_ref"))
    status: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    sms_message_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __mapper_args__ = {"eager_defaults": True}


Index("ix_notifications_person_created", Notification.person_ref, Notification.created_at)
Index("ix_notifications_status", Notification.status)


class SmsMessage(Base):
    """The SMS gateway's outbox: every message accepted for delivery."""

    __tablename__ = "sms_messages"

    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(16))
    sender_name: Mapped[str] = mapped_column(String(11))
    sender_reference: Mapped[str] = mapped_column(String(100), index=True)
    text: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str] = mapped_column(String(8))
    segments: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
