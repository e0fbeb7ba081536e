"""Masking of personal data in text that leaves a turn (summaries, logs)."""

from __future__ import annotations

import re

MASK = "[skjult]"

_PATTERNS = [
    # E-mail addresses.
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    # Payment card numbers: 13-19 digits, optionally grouped.
    re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)"),
    # Swedish personnummer (YYYYMMDD-XXXX, YYMMDD-XXXX, with - or +) and
    # Danish CPR numbers (DDMMYY-XXXX), with or without separator.
    re.compile(r"(?<!\d)(?:\d{2})?\d{6}\s?[-+]?\s?\d{4}(?!\d)"),
    # Phone numbers: +45/+46/0046 prefixes, 8-10 digits in groups.
    re.compile(r"(?<![\w])(?:\+|00)?(?:45|46)?[\s-]?(?:\d[\s-]?){7,9}\d(?!\d)"),
]


def mask_personal_data(text: str) -> str:
    """Replace identity, phone, e-mail and card numbers with a marker."""
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text
