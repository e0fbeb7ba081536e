"""Hypothesis strategies for the property-based privacy tests of every
service: identity and phone numbers in every way citizens write them.

Only for tests (needs `hypothesis`).
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

from .masking import normalise
from .national_id import luhn_check_digit

# Digit forms citizens' keyboards and phones produce.
DIGIT_FORMS = {
    "ascii": "0123456789",
    "full-width": "０１２３４５６７８９",
    "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
    "persian": "۰۱۲۳۴۵۶۷۸۹",
    "devanagari": "०१२३४५६७८९",
}
SEPARATORS = ["", " ", "-", ".", "/", " - ", "  ", "\u2013", "\u00a0", "\uff0d"]
WORDS = "abcdefghijklmnopqrstuvwxyzæøåäöéü ,!?"


@st.composite
def cpr_digits(draw) -> str:
    day, month = draw(st.integers(1, 28)), draw(st.integers(1, 12))
    return f"{day:02d}{month:02d}{draw(st.integers(0, 99)):02d}{draw(st.integers(0, 9999)):04d}"


@st.composite
def personnummer_digits(draw) -> str:
    """10 or 12 digits; personnummer or samordningsnummer, valid check digit."""
    year, month, day = draw(st.integers(1900, 2025)), draw(st.integers(1, 12)), draw(st.integers(1, 28))
    if draw(st.booleans()):
        day += 60
    nine = f"{year % 100:02d}{month:02d}{day:02d}{draw(st.integers(0, 999)):03d}"
    ten = nine + str(luhn_check_digit(nine))
    return f"{year // 100}{ten}" if draw(st.booleans()) else ten


@st.composite
def phone_digits(draw) -> str:
    """Danish and Swedish numbers, national or with +45/+46/0045/0046 (or the
    country code without the plus)."""
    kind = draw(st.sampled_from(["dk", "dk+", "dk00", "dk45", "se", "se+", "se00", "se46"]))
    if kind.startswith("dk"):
        national = str(draw(st.integers(2, 9))) + "".join(str(draw(st.integers(0, 9))) for _ in range(7))
        return {"dk": national, "dk+": "+45" + national, "dk00": "0045" + national, "dk45": "45" + national}[kind]
    rest = "".join(str(draw(st.integers(0, 9))) for _ in range(draw(st.integers(7, 8))))
    national = "0" + str(draw(st.integers(1, 9))) + rest
    return {"se": national, "se+": "+46" + national[1:], "se00": "0046" + national[1:],
            "se46": "46" + national[1:]}[kind]


@st.composite
def written(draw, digits_strategy, *, max_separators: int = 4) -> str:
    """A number as a citizen may write it: split into groups at any places,
    joined with any separators, in any digit form."""
    digits = draw(digits_strategy)
    prefix = ""
    if digits.startswith("+"):
        prefix, digits = "+", digits[1:]
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=max_separators)))
    groups = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)])]
    text = prefix + groups[0]
    for group in groups[1:]:
        text += draw(st.sampled_from(SEPARATORS)) + group
    form = DIGIT_FORMS[draw(st.sampled_from(sorted(DIGIT_FORMS)))]
    return "".join(form[int(ch)] if ch.isdigit() else ch for ch in text)


def personal_numbers():
    """Any CPR number, personnummer or phone number, written in any way."""
    return st.one_of(written(cpr_digits()), written(personnummer_digits()), written(phone_digits()))


def words(max_size: int = 30):
    """Ordinary text around a number (no digits)."""
    return st.text(alphabet=WORDS, max_size=max_size)


@st.composite
def split_in_two(draw, number_strategy=None) -> tuple[str, str, str]:
    """(whole number, first part, second part): a number sent in two messages."""
    number = draw(number_strategy or personal_numbers())
    digit_positions = [i for i, ch in enumerate(number) if ch.isdigit()]
    # Split after at least 2 and before the last 2 digits.
    cut = draw(st.sampled_from(digit_positions[2:-2])) if len(digit_positions) > 4 else len(number) // 2
    return number, number[:cut], number[cut:]


_NOT_DIGITS = re.compile(r"[^0-9\n]")


def digits_of(text: str) -> str:
    return "".join(ch for ch in normalise(text) if ch.isdigit())


_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})")


def leaks(number: str, haystack: str) -> bool:
    """Whether the digits of `number` can be read in `haystack`, whatever
    separators or digit forms either uses, also escaped as repr() and JSON
    write them (`\\xa0`, `\\uff10`); lines are read separately."""
    wanted = digits_of(number)
    readable = _ESCAPE.sub(lambda m: chr(int(m.group()[2:], 16)), haystack)
    return any(wanted in _NOT_DIGITS.sub("", line) for line in normalise(readable).split("\n"))
