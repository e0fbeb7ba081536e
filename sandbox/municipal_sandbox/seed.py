"""Fictitious citizens, payouts and cases loaded on every start.

Every identity number and phone number here is made up for the sandbox:
- CPR numbers have valid dates and century digits; personnummer have valid
  dates and Luhn check digits, so they pass the assistant's validation.
- Danish phone numbers are in the +45 0x series, which the Danish numbering
  plan reserves for prefixes, so no subscriber can have them.
- Swedish phone numbers are in 070-174 06 05 ... 070-174 06 99, the range
  PTS reserves for fiction.

Dates are relative to the sandbox's "today" (SANDBOX_TODAY or the real
date), so there is always an upcoming payout. Seeding merges rows by their
primary key (an upsert), so running it again restores the same state without duplicates.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .models import Case, Payout, Person


@dataclass(frozen=True)
class SeedPerson:
    person_ref: str
    country: str
    national_id: str
    display_name: str
    mobile_number: str | None
    benefit_type: str | None
    monthly_amount_minor: int | None


@dataclass(frozen=True)
class SeedCase:
    case_id: str
    person_ref: str
    kind: str
    title: str
    status: str
    received_days_ago: int
    # Offset from today; None while the system cannot promise a date.
    expected_decision_in_days: int | None
    decided_days_ago: int | None
    updated_days_ago: int


PERSONS: tuple[SeedPerson, ...] = (
    SeedPerson("P-DK-01", "DK", "1503851112", "Anna Testesen", "+4509990001", "kontanthjaelp", 1234550),
    SeedPerson("P-DK-02", "DK", "1205045551", "Mads Eksempel", "+4509990002", "uddannelseshjaelp", 789000),
    SeedPerson("P-DK-03", "DK", "0304763332", "Lone Prøvesen", None, "integrationsydelse", 1023475),
    SeedPerson("P-DK-04", "DK", "1109544441", "Erik Sandkasse", "+4509990004", None, None),
    SeedPerson("P-DK-05", "DK", "2802992221", "Jonas Tomsen", "+4509990005", None, None),
    SeedPerson("P-SE-01", "SE", "198503155684", "Svea Exempelsson", "+46701740605", "ekonomiskt_bistand", 923450),
    SeedPerson("P-SE-02", "SE", "199001012393", "Olle Provsson", "+46701740606", "forsorjningsstod", 654300),
    SeedPerson("P-SE-03", "SE", "197811244628", "Maja Testberg", None, "ekonomiskt_bistand", 1150000),
    SeedPerson("P-SE-04", "SE", "191212121212", "Tolvan Tolvansson", "+46701740607", None, None),
    SeedPerson("P-SE-05", "SE", "200107042640", "Ebba Tomasson", "+46701740608", None, None),
)

CASES: tuple[SeedCase, ...] = (
    SeedCase("BYG-10042", "P-DK-01", "byggesag", "Tilbygning til enfamiliehus", "in_progress", 40, 30, None, 6),
    SeedCase("FRI-10043", "P-DK-01", "fritidstilbud", "Plads i fritidsklub", "decided", 60, None, 10, 10),
    SeedCase("INS-10044", "P-DK-02", "institutionsplads", "Vuggestueplads", "awaiting_documentation", 20, 40, None, 3),
    SeedCase(
        "BOT-10045", "P-DK-03", "socialt_botilbud", "Ansøgning om midlertidigt botilbud", "received", 3, 60, None, 3
    ),
    SeedCase("PLB-10046", "P-DK-04", "plejebolig", "Ansøgning om plejebolig", "in_progress", 25, 35, None, 8),
    SeedCase("BYG-10047", "P-DK-04", "byggesag", "Opførelse af carport", "closed", 200, None, 150, 140),
    SeedCase(
        "EB-20031", "P-SE-01", "ekonomiskt_bistand", "Ansökan om ekonomiskt bistånd", "in_progress", 5, 7, None, 1
    ),
    SeedCase("FSK-20032", "P-SE-01", "forskoleplats", "Ansökan om förskoleplats", "received", 2, 120, None, 2),
    SeedCase(
        "BL-20033",
        "P-SE-02",
        "bygglov",
        "Bygglov för tillbyggnad av fritidshus",
        "awaiting_documentation",
        30,
        None,
        None,
        12,
    ),
    SeedCase("FSK-20034", "P-SE-03", "forskoleplats", "Ansökan om förskoleplats", "decided", 90, None, 20, 20),
    SeedCase("EB-20035", "P-SE-03", "ekonomiskt_bistand", "Ansökan om ekonomiskt bistånd", "closed", 100, None, 85, 80),
    SeedCase("BL-20036", "P-SE-04", "bygglov", "Bygglov för nybyggnad av garage", "in_progress", 21, 49, None, 4),
)

CURRENCY = {"DK": "DKK", "SE": "SEK"}
LANGUAGE = {"DK": "da", "SE": "sv"}


def last_weekday_of_month(year: int, month: int) -> dt.date:
    day = dt.date(year, month, calendar.monthrange(year, month)[1])
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def weekday_on_or_before(year: int, month: int, day_of_month: int) -> dt.date:
    day = dt.date(year, month, day_of_month)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def payout_date_in_month(country: str, year: int, month: int) -> dt.date:
    """DK: kontanthjælp and similar are paid in arrears on the last banking day
    of the month. SE: ekonomiskt bistånd is commonly paid on the 25th. Public
    holidays are ignored; weekends move the date to the Friday before."""
    if country == "DK":
        return last_weekday_of_month(year, month)
    return weekday_on_or_before(year, month, 25)


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def payout_schedule(country: str, today: dt.date) -> tuple[dt.date, dt.date, dt.date]:
    """The last paid payout, the next one and the one after it."""
    year, month = today.year, today.month
    if payout_date_in_month(country, year, month) < today:
        year, month = _add_months(year, month, 1)
    next_date = payout_date_in_month(country, year, month)
    previous = payout_date_in_month(country, *_add_months(year, month, -1))
    after = payout_date_in_month(country, *_add_months(year, month, 1))
    return previous, next_date, after


def _upsert(model, rows: list[dict]):
    """One INSERT ... ON CONFLICT DO UPDATE for all rows of a table: seeding
    restores the seeded values without duplicating rows."""
    statement = sqlite_insert(model).values(rows)
    primary_key = [column.name for column in model.__table__.primary_key]
    return statement.on_conflict_do_update(
        index_elements=primary_key,
        set_={name: statement.excluded[name] for name in rows[0] if name not in primary_key},
    )


def seed_rows(today: dt.date) -> tuple[list[dict], list[dict], list[dict]]:
    persons = [
        dict(
            person_ref=person.person_ref,
            country=person.country,
            national_id=person.national_id,
            display_name=person.display_name,
            language=LANGUAGE[person.country],
            mobile_number=person.mobile_number,
        )
        for person in PERSONS
    ]
    payouts = []
    for person in PERSONS:
        if person.benefit_type is None:
            continue
        dates = payout_schedule(person.country, today)
        for suffix, payout_date, status in zip(
            ("previous", "next", "after"), dates, ("paid", "scheduled", "scheduled"), strict=True
        ):
            payouts.append(
                dict(
                    payout_id=f"{person.person_ref}-{suffix}",
                    person_ref=person.person_ref,
                    benefit_type=person.benefit_type,
                    payout_date=payout_date,
                    amount_minor=person.monthly_amount_minor,
                    currency=CURRENCY[person.country],
                    status=status,
                )
            )
    cases = [
        dict(
            case_id=case.case_id,
            person_ref=case.person_ref,
            kind=case.kind,
            title=case.title,
            status=case.status,
            received_date=today - dt.timedelta(days=case.received_days_ago),
            expected_decision_date=(
                None
                if case.expected_decision_in_days is None
                else today + dt.timedelta(days=case.expected_decision_in_days)
            ),
            decision_date=(None if case.decided_days_ago is None else today - dt.timedelta(days=case.decided_days_ago)),
            last_updated_at=dt.datetime.combine(
                today - dt.timedelta(days=case.updated_days_ago), dt.time(9, 30), dt.timezone.utc
            ),
        )
        for case in CASES
    ]
    return persons, payouts, cases


async def seed(sessionmaker: async_sessionmaker[AsyncSession], today: dt.date) -> None:
    persons, payouts, cases = seed_rows(today)
    async with sessionmaker() as session, session.begin():
        await session.execute(_upsert(Person, persons))
        await session.execute(_upsert(Payout, payouts))
        await session.execute(_upsert(Case, cases))
