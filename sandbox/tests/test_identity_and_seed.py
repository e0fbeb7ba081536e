"""The fictitious data is valid, clearly fictitious, covers every case, and
seeding is idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from ddh_privacy.national_id import InvalidNationalId, cpr_birth_date, luhn_check_digit, validate_national_id
from municipal_sandbox.db import create_engine, create_schema, create_sessionmaker
from municipal_sandbox.models import Case, Payout, Person
from municipal_sandbox.routes.common import DK_CASE_KINDS, SE_CASE_KINDS
from municipal_sandbox.seed import CASES, PERSONS, payout_schedule, seed
from sqlalchemy import func, select


def normalize(country, national_id):
    """The sandbox's rule for identity numbers in requests."""
    return validate_national_id(country, national_id, require_century=True)


STATUSES = {"received", "in_progress", "awaiting_documentation", "decided", "closed"}


@pytest.mark.parametrize(
    "country, raw, expected",
    [
        ("DK", "150385-1112", "1503851112"),
        ("DK", "1205045551", "1205045551"),
        ("SE", "19121212-1212", "191212121212"),
        ("SE", "198503155684", "198503155684"),
    ],
)
def test_normalize_accepts_valid_numbers(country, raw, expected):
    assert normalize(country, raw) == expected


@pytest.mark.parametrize(
    "country, raw",
    [
        ("DK", "3102851112"),  # 31 February
        ("DK", "150385111"),  # 9 digits
        ("DK", "15038511121"),
        ("DK", "15O3851112"),
        ("SE", "198503155685"),  # wrong check digit
        ("SE", "198502305684"),  # 30 February
        ("SE", "8503155684"),  # short form is not accepted by the systems
        ("XX", "1503851112"),
    ],
)
def test_normalize_rejects_invalid_numbers_without_echoing_them(country, raw):
    with pytest.raises(InvalidNationalId) as error:
        normalize(country, raw)
    assert raw not in str(error.value)


def test_cpr_century_rules():
    assert cpr_birth_date("0101374000") == dt.date(1937, 1, 1)
    assert cpr_birth_date("0101364000") == dt.date(2036, 1, 1)
    assert cpr_birth_date("0101575000") == dt.date(2057, 1, 1)
    assert cpr_birth_date("0101585000") == dt.date(1858, 1, 1)
    assert cpr_birth_date("0101990000") == dt.date(1999, 1, 1)


def test_luhn_check_digit_of_known_test_number():
    assert luhn_check_digit("121212121") == 2


def test_seeded_people_are_valid_and_clearly_fictitious():
    for person in PERSONS:
        assert normalize(person.country, person.national_id) == person.national_id
        if person.mobile_number is None:
            continue
        if person.country == "DK":
            # +45 0x: reserved for prefixes in the Danish numbering plan.
            assert person.mobile_number.startswith("+450") and len(person.mobile_number) == 11
        else:
            # 070-174 06 05 ... 070-174 06 99: reserved by PTS for fiction.
            assert person.mobile_number.startswith("+4670174")
            assert 605 <= int(person.mobile_number[-3:]) <= 699


@pytest.mark.parametrize("country, kinds", [("DK", DK_CASE_KINDS), ("SE", SE_CASE_KINDS)])
def test_seed_covers_every_kind_and_status_and_the_edge_cases(country, kinds):
    people = {p.person_ref: p for p in PERSONS if p.country == country}
    cases = [c for c in CASES if c.person_ref in people]
    assert {c.kind for c in cases} == set(kinds)
    assert {c.status for c in cases} == STATUSES
    assert any(p.mobile_number is None for p in people.values())
    assert any(p.benefit_type is None for p in people.values())
    assert any(p.mobile_number and p.benefit_type for p in people.values())
    assert any(ref not in {c.person_ref for c in cases} for ref in people)


def test_several_benefit_types():
    assert {p.benefit_type for p in PERSONS} >= {
        "kontanthjaelp",
        "uddannelseshjaelp",
        "integrationsydelse",
        "ekonomiskt_bistand",
        "forsorjningsstod",
    }


@pytest.mark.parametrize(
    "country, today, expected_next",
    [
        ("DK", dt.date(2026, 11, 23), dt.date(2026, 11, 30)),  # last weekday of November
        ("DK", dt.date(2026, 11, 30), dt.date(2026, 11, 30)),  # paid today: still "next"
        ("DK", dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
        ("DK", dt.date(2027, 1, 30), dt.date(2027, 2, 26)),  # 29 January 2027 was the payout
        ("SE", dt.date(2026, 11, 23), dt.date(2026, 11, 25)),
        ("SE", dt.date(2026, 11, 26), dt.date(2026, 12, 25)),
        ("SE", dt.date(2027, 4, 1), dt.date(2027, 4, 23)),  # 25 April 2027 is a Sunday
    ],
)
def test_payout_schedule(country, today, expected_next):
    previous, next_date, after = payout_schedule(country, today)
    assert next_date == expected_next
    assert previous < today <= next_date < after
    assert next_date.weekday() < 5


async def test_seeding_twice_gives_the_same_rows(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'seed.sqlite3'}")
    try:
        await create_schema(engine)
        sessionmaker = create_sessionmaker(engine)

        async def counts():
            async with sessionmaker() as session:
                return [
                    await session.scalar(select(func.count()).select_from(model)) for model in (Person, Payout, Case)
                ]

        await seed(sessionmaker, dt.date(2026, 11, 23))
        first = await counts()
        await seed(sessionmaker, dt.date(2026, 11, 23))
        assert await counts() == first == [len(PERSONS), 3 * sum(1 for p in PERSONS if p.benefit_type), len(CASES)]

        # A later start moves the payout dates along instead of adding rows.
        await seed(sessionmaker, dt.date(2026, 12, 2))
        assert await counts() == first
        async with sessionmaker() as session:
            payout = await session.get(Payout, "P-DK-01-next")
        assert payout.payout_date == dt.date(2026, 12, 31)
    finally:
        await engine.dispose()
