"""Validation of Danish CPR numbers and Swedish personnummer.

The sandbox rejects malformed identity numbers with 422, as a real system
would, so that the assistant's own validation is exercised end to end.
"""

from __future__ import annotations

import datetime as dt
import re

COUNTRIES = ("DK", "SE")

_DK_RE = re.compile(r"^\d{10}$")
_SE_RE = re.compile(r"^\d{12}$")


class InvalidIdentityNumber(ValueError):
    """The identity number is malformed. The message never contains the number."""


def normalize(country: str, national_id: str) -> str:
    """Strip the usual separators and check the number for the country.

    Returns the canonical form: 10 digits for a CPR number, 12 digits
    (YYYYMMDDNNNC) for a personnummer.
    """
    if country not in COUNTRIES:
        raise InvalidIdentityNumber("country must be DK or SE")
    if not isinstance(national_id, str):
        raise InvalidIdentityNumber("national_id must be a string")
    digits = national_id.replace("-", "").replace(" ", "")
    if country == "DK":
        if not _DK_RE.match(digits):
            raise InvalidIdentityNumber("a CPR number has 10 digits")
        cpr_birth_date(digits)
        return digits
    if not _SE_RE.match(digits):
        raise InvalidIdentityNumber("a personnummer has 12 digits (YYYYMMDDNNNC)")
    _se_birth_date(digits)
    if luhn_check_digit(digits[2:11]) != int(digits[11]):
        raise InvalidIdentityNumber("the personnummer check digit is wrong")
    return digits


def cpr_birth_date(cpr: str) -> dt.date:
    """Birth date of a CPR number; the 7th digit selects the century."""
    day, month, yy = int(cpr[0:2]), int(cpr[2:4]), int(cpr[4:6])
    century_digit = int(cpr[6])
    if century_digit <= 3:
        century = 1900
    elif century_digit in (4, 9):
        century = 2000 if yy <= 36 else 1900
    else:  # 5-8
        century = 2000 if yy <= 57 else 1800
    try:
        return dt.date(century + yy, month, day)
    except ValueError:
        raise InvalidIdentityNumber("the CPR number has no valid date") from None


def _se_birth_date(pnr: str) -> dt.date:
    year, month, day = int(pnr[0:4]), int(pnr[4:6]), int(pnr[6:8])
    # Samordningsnummer add 60 to the day.
    if day > 60:
        day -= 60
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise InvalidIdentityNumber("the personnummer has no valid date") from None


def luhn_check_digit(digits: str) -> int:
    """Check digit for the 9 digits YYMMDDNNN of a personnummer."""
    total = 0
    for index, char in enumerate(digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10
