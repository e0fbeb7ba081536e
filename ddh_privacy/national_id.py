"""Rules of Danish CPR numbers and Swedish personnummer, shared by the
assistant's actions, the municipal systems' sandbox and the masking policy.

- CPR (DK): 10 digits DDMMYY-SSSS with a real date; the 7th digit selects the
  century. python-stdnum's `stdnum.dk.cpr` implements exactly the project's
  rule (and, like the project, ignores the modulus-11 check that was dropped in
  2007), so it is used for the birth date.
- Personnummer (SE): YYYYMMDD-NNNC or YYMMDD-NNNC, the Luhn check digit over
  the last 10 digits (`stdnum.luhn`). `stdnum.se.personnummer` is narrower than
  the systems: it rejects samordningsnummer (day + 60) and always completes a
  10-digit number from the current date, so its date rules are not used here.

Errors never contain the number.
"""

from __future__ import annotations

import datetime as dt
import re

from stdnum import luhn
from stdnum.dk import cpr
from stdnum.exceptions import ValidationError

DENMARK = "DK"
SWEDEN = "SE"
COUNTRIES = (DENMARK, SWEDEN)

# Samordningsnummer (for people not registered in Sweden) add 60 to the day.
SAMORDNING_DAY_OFFSET = 60


class InvalidNationalId(ValueError):
    """The identity number is malformed. The message never contains the number."""


def cpr_birth_date(digits: str) -> dt.date | None:
    """The birth date in a 10-digit CPR number, or None if there is none."""
    try:
        return cpr.get_birth_date(digits)
    except (ValidationError, ValueError):
        return None


def personnummer_birth_date(digits: str) -> dt.date | None:
    """The birth date in a 12-digit personnummer or samordningsnummer."""
    year, month, day = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
    if day > SAMORDNING_DAY_OFFSET:
        day -= SAMORDNING_DAY_OFFSET
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def luhn_check_digit(nine_digits: str) -> int:
    """Check digit of YYMMDDNNN (the Luhn algorithm, weights 2, 1, 2, ...)."""
    return int(luhn.calc_check_digit(nine_digits))


def personnummer_check_digit_ok(twelve_digits: str) -> bool:
    return luhn.is_valid(twelve_digits[2:])


def normalize_national_id(country: str, national_id: str, *, today: dt.date | None = None) -> str:
    """The form the systems expect: 10 digits (CPR) or 12 digits (personnummer).

    Accepts the usual separators. A 10-digit Swedish number gets its century:
    the latest one that does not put the birth date in the future, or the one
    before if written with "+" (100 years or older). Full validation (date,
    check digit) is `validate_national_id`'s.
    """
    if country not in COUNTRIES:
        raise InvalidNationalId("country must be DK or SE")
    if not isinstance(national_id, str):
        raise InvalidNationalId("national_id must be a string")
    compact = re.sub(r"\s", "", national_id)
    centenarian = country == SWEDEN and "+" in compact
    digits = re.sub(r"[-+]", "", compact)
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidNationalId("an identity number has only digits and separators")
    if country == DENMARK:
        if len(digits) != 10:
            raise InvalidNationalId("a CPR number has 10 digits")
        return digits
    if len(digits) == 12:
        return digits
    if len(digits) != 10:
        raise InvalidNationalId("a personnummer has 10 or 12 digits")
    today = today or dt.date.today()
    year = (today.year // 100) * 100 + int(digits[:2])
    # Compare month and day too: born later this year means last century.
    if (year, digits[2:6]) > (today.year, today.strftime("%m%d")):
        year -= 100
    if centenarian:
        year -= 100
    return f"{year:04d}{digits[2:]}"


def validate_national_id(country: str, national_id: str, *, require_century: bool = False,
                         today: dt.date | None = None) -> str:
    """Check an identity number completely and return its canonical form.

    `require_century`: a personnummer must be written with 12 digits (the
    municipal systems' contract). Raises InvalidNationalId.
    """
    if country == SWEDEN and require_century and isinstance(national_id, str):
        if len(re.sub(r"[\s+-]", "", national_id)) != 12:
            raise InvalidNationalId("a personnummer has 12 digits (YYYYMMDDNNNC)")
    digits = normalize_national_id(country, national_id, today=today)
    if country == DENMARK:
        if cpr_birth_date(digits) is None:
            raise InvalidNationalId("the CPR number has no valid date")
        return digits
    if personnummer_birth_date(digits) is None:
        raise InvalidNationalId("the personnummer has no valid date")
    if not personnummer_check_digit_ok(digits):
        raise InvalidNationalId("the personnummer check digit is wrong")
    return digits


# --- shapes used by the masking policy ---------------------------------------------
# Masking goes by shape, not by full validity: a number with a typo in its date
# or check digit is still someone's number, so only the month and day ranges
# are checked.


def _month_day_plausible(month: int, day: int, *, samordning: bool) -> bool:
    if not 1 <= month <= 12:
        return False
    if samordning and day > SAMORDNING_DAY_OFFSET:
        day -= SAMORDNING_DAY_OFFSET
    return 1 <= day <= 31


def looks_like_national_id(digits: str) -> bool:
    """10 digits shaped as a CPR number (DDMMYY) or short personnummer (YYMMDD),
    or 12 digits shaped as a long personnummer (YYYYMMDD, born 1800-2099)."""
    if len(digits) == 10:
        cpr_shape = _month_day_plausible(int(digits[2:4]), int(digits[0:2]), samordning=False)
        return cpr_shape or _month_day_plausible(int(digits[2:4]), int(digits[4:6]), samordning=True)
    if len(digits) == 12:
        return digits[:2] in ("18", "19", "20") and _month_day_plausible(
            int(digits[4:6]), int(digits[6:8]), samordning=True)
    return False
