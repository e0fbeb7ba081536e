"""Danish CPR numbers and Swedish personnummer typed by citizens.

Reading: `read_national_id(text, country)` finds the identity number in a chat
message and checks it the way the municipal systems do:

- CPR (DK): 10 digits DDMMYY-SSSS with a real date; the 7th digit selects the
  century (0-3: 1900s; 4 and 9: 2000-2036, else 1900s; 5-8: 2000-2057, else
  1800s). There is no modulus-11 check: it was dropped in 2007, and numbers
  issued since do not pass it.
- Personnummer (SE): YYYYMMDD-NNNC or YYMMDD-NNNC ("+" for 100 years or
  older), a real date (samordningsnummer add 60 to the day) and the Luhn
  check digit over the last 10 digits.

A birth date in the future is never valid. The rules themselves (birth
dates, century, check digit) are `ddh_privacy.national_id`, shared with the
municipal systems' sandbox.

Sealing: between the turn's form validation and the action that uses it, the
number is held in a slot. Slots are persisted in the tracker store, so the
slot holds the number encrypted and authenticated (Fernet) with a short
lifetime, never in plain text; the action that uses it clears the slot. The
key comes from IDENTITY_SEAL_KEY (a Fernet key; needed when several action
server processes share conversations) or is generated per process.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from cryptography.fernet import Fernet, InvalidToken

from ddh_privacy.national_id import (
    DENMARK,
    SWEDEN,
    cpr_birth_date,
    luhn_check_digit,
    normalize_national_id,
    personnummer_birth_date,
)

logger = logging.getLogger(__name__)

# Why a message is not a usable identity number.
PROBLEM_MISSING = "missing"  # no digits at all
PROBLEM_FORMAT = "format"  # digits, but not shaped like an identity number
PROBLEM_DATE = "date"  # no such birth date
PROBLEM_CHECK_DIGIT = "check_digit"  # personnummer only

# A sealed number is useless after this many seconds (it is used in the same turn).
SEAL_TTL_SECONDS = 600

_CANDIDATE = re.compile(r"(?<![\d])\d[\d\s+-]*\d(?![\d])")
_CPR_SHAPE = re.compile(r"^\d{6}-?\d{4}$")
_PERSONNUMMER_SHAPE = re.compile(r"^(?:\d{2})?\d{6}[-+]?\d{4}$")


@dataclass(frozen=True)
class NationalId:
    """A valid identity number in the systems' form (10 or 12 digits)."""

    country: str
    number: str

    def __repr__(self) -> str:
        # Never show the number in logs, reprs or test reports.
        return f"NationalId(country={self.country!r}, number=<hidden>)"

    __str__ = __repr__


@dataclass(frozen=True)
class Reading:
    """The result of reading a message: a number, or why there is none."""

    national_id: Optional[NationalId] = None
    problem: Optional[str] = None

    def __repr__(self) -> str:
        return f"Reading(valid={self.national_id is not None}, problem={self.problem!r})"


def country_for_language(language: str) -> str:
    """Danish conversations are about Danish municipalities, Swedish about Swedish ones."""
    return SWEDEN if language == "sv" else DENMARK


def check_national_id(country: str, value: str, *, today: Optional[dt.date] = None) -> Reading:
    """Check one identity number written on its own (separators allowed)."""
    today = today or dt.date.today()
    compact = re.sub(r"\s", "", value)
    if country == DENMARK:
        if not _CPR_SHAPE.match(compact):
            return Reading(problem=PROBLEM_FORMAT)
        digits = compact.replace("-", "")
        born = cpr_birth_date(digits)
        if born is None or born > today:
            return Reading(problem=PROBLEM_DATE)
        return Reading(NationalId(DENMARK, digits))
    if country != SWEDEN:
        raise ValueError("country must be DK or SE")
    if not _PERSONNUMMER_SHAPE.match(compact):
        return Reading(problem=PROBLEM_FORMAT)
    digits = re.sub(r"[-+]", "", compact)
    # A 10-digit number's century depends on its date: check that first.
    short_date = digits[-10:-4]
    month, day = int(short_date[2:4]), int(short_date[4:6])
    if not (1 <= month <= 12 and 1 <= (day - 60 if day > 60 else day) <= 31):
        return Reading(problem=PROBLEM_DATE)
    try:
        full = normalize_national_id(SWEDEN, compact, today=today) if len(digits) == 10 else digits
    except ValueError:
        return Reading(problem=PROBLEM_FORMAT)
    born = personnummer_birth_date(full)
    if born is None or born > today:
        return Reading(problem=PROBLEM_DATE)
    if luhn_check_digit(full[2:11]) != int(full[11]):
        return Reading(problem=PROBLEM_CHECK_DIGIT)
    return Reading(NationalId(SWEDEN, full))


def read_national_id(text: str, country: str, *, today: Optional[dt.date] = None) -> Reading:
    """Find and check the identity number in a citizen's message.

    "mit cpr er 150385-1112", "19850315 5684" and "850315-5684" are read; a
    message without any digit is PROBLEM_MISSING. When several groups of
    digits could be the number, the first valid one wins; otherwise the
    problem of the first candidate is reported.
    """
    text = text or ""
    if not any(char.isdigit() for char in text):
        return Reading(problem=PROBLEM_MISSING)
    first_problem: Optional[Reading] = None
    for match in _CANDIDATE.finditer(text):
        candidate = match.group(0).strip(" +-")
        compact = re.sub(r"\s", "", candidate)
        if len(re.sub(r"\D", "", compact)) not in (10, 12):
            continue
        reading = check_national_id(country, candidate, today=today)
        if reading.national_id:
            return reading
        first_problem = first_problem or reading
    return first_problem or Reading(problem=PROBLEM_FORMAT)


# --- sealing ------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _fernet(configured_key: Optional[str]) -> Fernet:
    if configured_key:
        try:
            return Fernet(configured_key.encode())
        except ValueError:
            logger.error("IDENTITY_SEAL_KEY is not a valid Fernet key; using a per-process key")
    return Fernet(Fernet.generate_key())


def _sealer() -> Fernet:
    return _fernet(os.environ.get("IDENTITY_SEAL_KEY", "").strip() or None)


def seal(national_id: NationalId) -> str:
    """The number encrypted for a slot; only this service can read it back."""
    return _sealer().encrypt(f"{national_id.country}:{national_id.number}".encode()).decode()


def unseal(sealed: Optional[str]) -> Optional[NationalId]:
    """The number from `seal`, or None when absent, expired, tampered with or
    sealed by another key (for example before a restart)."""
    if not isinstance(sealed, str) or not sealed:
        return None
    try:
        plain = _sealer().decrypt(sealed.encode(), ttl=SEAL_TTL_SECONDS).decode()
    except (InvalidToken, ValueError):
        logger.warning("a sealed identity number could not be read (expired or other key)")
        return None
    country, _, number = plain.partition(":")
    if country not in (DENMARK, SWEDEN) or not number.isdigit():
        return None
    return NationalId(country, number)
