"""Identity-number rules shared by the actions and the sandbox (ddh_privacy.national_id)."""

from __future__ import annotations

import datetime as dt

import pytest

from ddh_privacy.national_id import (
    InvalidNationalId,
    cpr_birth_date,
    looks_like_national_id,
    luhn_check_digit,
    normalize_national_id,
    personnummer_birth_date,
    validate_national_id,
)


def test_cpr_century_rules_come_from_stdnum_and_match_the_project():
    assert cpr_birth_date("0101374000") == dt.date(1937, 1, 1)
    assert cpr_birth_date("0101364000") == dt.date(2036, 1, 1)
    assert cpr_birth_date("0101575000") == dt.date(2057, 1, 1)
    assert cpr_birth_date("0101585000") == dt.date(1858, 1, 1)
    assert cpr_birth_date("3102851112") is None


def test_samordningsnummer_add_sixty_to_the_day():
    assert personnummer_birth_date("198503755684") == dt.date(1985, 3, 15)
    nine = "850375568"
    number = "19" + nine + str(luhn_check_digit(nine))
    assert validate_national_id("SE", number) == number


def test_short_personnummer_get_their_century():
    today = dt.date(2026, 11, 23)
    assert normalize_national_id("SE", "850315-5684", today=today) == "198503155684"
    assert normalize_national_id("SE", "121212+1212", today=today) == "191212121212"
    assert normalize_national_id("SE", "261124-1234", today=today) == "192611241234"


@pytest.mark.parametrize("country, raw", [
    ("DK", "3102851112"), ("SE", "198503155685"), ("SE", "8503155684"), ("XX", "1503851112"), ("DK", None),
])
def test_invalid_numbers_are_refused_without_echoing_them(country, raw):
    with pytest.raises(InvalidNationalId) as error:
        validate_national_id(country, raw, require_century=True)
    assert str(raw) not in str(error.value)


def test_luhn_check_digit_of_known_test_number():
    assert luhn_check_digit("121212121") == 2


def test_masking_shapes():
    assert looks_like_national_id("0401901239") and looks_like_national_id("198503755684")
    assert not looks_like_national_id("1234567890") and not looks_like_national_id("123456789012")
