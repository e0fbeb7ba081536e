"""Masking of personal data: in text that leaves a turn (summaries, logs) and
in every event the tracker store saves (rasa_addons.tracker_store)."""

from __future__ import annotations

import re
from typing import Any

MASK = "[skjult]"
# Metadata keys that carry credentials (the website's login token holds the
# national identity number); never stored, only used within the turn.
SECRET_METADATA_KEYS = frozenset({"login_token", "authorization", "token", "id_token", "access_token"})

_PATTERNS = [
    # Signed tokens (JWT): their payload is readable by anyone.
    re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"),
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


def mask_structure(value: Any) -> Any:
    """A copy of a JSON-like value with every string masked and credential
    keys removed (used on whole events before they are stored)."""
    if isinstance(value, str):
        return mask_personal_data(value)
    if isinstance(value, dict):
        return {
            key: ("[fjernet]" if str(key).lower() in SECRET_METADATA_KEYS else mask_structure(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_structure(item) for item in value]
    return value
