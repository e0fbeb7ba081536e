"""Reading CPR numbers and personnummer from chat messages, and sealing them."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.fernet import Fernet

from actions import identity
from actions.identity import (
    PROBLEM_CHECK_DIGIT,
    PROBLEM_DATE,
    PROBLEM_FORMAT,
    PROBLEM_MISSING,
    NationalId,
    check_national_id,
    read_national_id,
    seal,
    unseal,
)

TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    "text, number",
    [
        ("150385-1112", "1503851112"),
        ("1503851112", "1503851112"),
        ("mit cpr er 150385 1112 tak", "1503851112"),
        ("120504-5551", "1205045551"),  # 7th digit 5, year 04: 2004
        ("110954-4441", "1109544441"),  # 7th digit 4, year 54: 1954
        ("280299-2221", "2802992221"),
        ("290200-4000", "2902004000"),  # 29 February 2000
        ("010190-1234", "0101901234"),  # fails modulus 11, valid since 2007
    ],
)
def test_valid_cpr_numbers(text, number):
    reading = read_national_id(text, "DK", today=TODAY)
    assert reading.national_id == NationalId("DK", number)
    assert reading.problem is None


@pytest.mark.parametrize(
    "text, problem",
    [
        ("hvornår kommer pengene", PROBLEM_MISSING),
        ("", PROBLEM_MISSING),
        ("12345", PROBLEM_FORMAT),
        ("1503851112345", PROBLEM_FORMAT),
        ("150385-111", PROBLEM_FORMAT),
        ("310285-1112", PROBLEM_DATE),  # 31 February
        ("150085-1112", PROBLEM_DATE),  # month 0
        ("290201-4000", PROBLEM_DATE),  # 29 February 2001
        ("010130-4000", PROBLEM_DATE),  # 7th digit 4, year 30: 2030, in the future
        ("010127-5000", PROBLEM_DATE),  # 7th digit 5, year 27: 2027, in the future
    ],
)
def test_invalid_cpr_numbers(text, problem):
    reading = read_national_id(text, "DK", today=TODAY)
    assert reading.national_id is None
    assert reading.problem == problem


def test_cpr_century_digits():
    assert identity.cpr_birth_date("0101371000") == dt.date(1937, 1, 1)
    assert identity.cpr_birth_date("0101364000") == dt.date(2036, 1, 1)
    assert identity.cpr_birth_date("0101374000") == dt.date(1937, 1, 1)
    assert identity.cpr_birth_date("0101369000") == dt.date(2036, 1, 1)
    assert identity.cpr_birth_date("0101379000") == dt.date(1937, 1, 1)
    assert identity.cpr_birth_date("0101575000") == dt.date(2057, 1, 1)
    assert identity.cpr_birth_date("0101585000") == dt.date(1858, 1, 1)
    assert identity.cpr_birth_date("0101998000") == dt.date(1899, 1, 1)


@pytest.mark.parametrize(
    "text, number",
    [
        ("19850315-5684", "198503155684"),
        ("198503155684", "198503155684"),
        ("850315-5684", "198503155684"),
        ("mitt personnummer är 19121212-1212", "191212121212"),
        ("121212+1212", "191212121212"),  # "+": 100 years or older
        ("20010704-2640", "200107042640"),
        ("19900101 2393", "199001012393"),
    ],
)
def test_valid_personnummer(text, number):
    reading = read_national_id(text, "SE", today=TODAY)
    assert reading.national_id == NationalId("SE", number)


def test_samordningsnummer_add_sixty_to_the_day():
    nine = "701063239"  # 1970-10-63: 3 October 1970, serial 239
    number = "19" + nine + str(identity.luhn_check_digit(nine))
    assert check_national_id("SE", number, today=TODAY).national_id == NationalId("SE", number)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("19850315-5685", PROBLEM_CHECK_DIGIT),
        ("19121212-1213", PROBLEM_CHECK_DIGIT),
        ("19850230-5684", PROBLEM_DATE),
        ("19851315-5684", PROBLEM_DATE),
        ("20300101-1234", PROBLEM_DATE),  # in the future
        ("1985031556", PROBLEM_DATE),  # a 12-digit number cut short: month 85
        ("12345", PROBLEM_FORMAT),
        ("hej", PROBLEM_MISSING),
    ],
)
def test_invalid_personnummer(text, problem):
    reading = read_national_id(text, "SE", today=TODAY)
    assert reading.national_id is None
    assert reading.problem == problem


def test_luhn_check_digit_of_the_well_known_test_number():
    assert identity.luhn_check_digit("121212121") == 2


def test_an_identity_number_never_shows_in_its_repr():
    national_id = NationalId("DK", "1503851112")
    assert "1503851112" not in repr(national_id)
    assert "1503851112" not in str(national_id)
    assert "1503851112" not in repr(read_national_id("150385-1112", "DK", today=TODAY))


def test_sealed_numbers_are_not_plain_text_and_come_back():
    national_id = NationalId("SE", "198503155684")
    sealed = seal(national_id)
    assert "198503155684" not in sealed and "5684" not in sealed
    assert unseal(sealed) == national_id
    assert seal(national_id) != sealed  # a fresh IV every time


@pytest.mark.parametrize("sealed", [None, "", "150385-1112", "gAAAAA-not-a-token"])
def test_unsealing_something_else_gives_nothing(sealed):
    assert unseal(sealed) is None


def test_a_number_sealed_with_another_key_cannot_be_read(monkeypatch):
    sealed = seal(NationalId("DK", "1503851112"))
    monkeypatch.setenv("IDENTITY_SEAL_KEY", Fernet.generate_key().decode())
    assert unseal(sealed) is None


def test_a_configured_seal_key_is_shared(monkeypatch):
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("IDENTITY_SEAL_KEY", key)
    sealed = seal(NationalId("DK", "1503851112"))
    assert Fernet(key.encode()).decrypt(sealed.encode()) == b"DK:1503851112"


def test_an_expired_seal_cannot_be_read(monkeypatch):
    sealed = seal(NationalId("DK", "1503851112"))
    monkeypatch.setattr(identity, "SEAL_TTL_SECONDS", -1)
    assert unseal(sealed) is None
