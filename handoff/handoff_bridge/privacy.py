"""Masking of personal numbers and encryption of callback phone numbers.

CPR numbers (DDMMYY-XXXX), Swedish personnummer (YYMMDD-XXXX or
YYYYMMDD-XXXX) and phone numbers must not be stored or logged in plain text.
Masking replaces every digit of a match with '#', so an agent still sees
that the citizen wrote a number, and of what shape.
"""

from __future__ import annotations

import logging
import re

from cryptography.fernet import Fernet, InvalidToken

MASK_CHAR = "#"

# 6+4 (CPR / personnummer) and 8+4 (long personnummer), with optional separator.
_ID_NUMBER = re.compile(r"(?<![\d])(?:\d{2})?\d{6}[-+ ]?\d{4}(?![\d])")
# Runs of digits with phone-style separators, optionally led by + or 00.
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])\+?\d[\d \-()/]{5,}\d(?![\d])")
# Dates are not personal data and agents need them legible.
_DATE = re.compile(r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[-/]\d{1,2}[-/]\d{2,4})$")


def _digits(s: str) -> int:
    return sum(ch.isdigit() for ch in s)


def _mask_digits(match: re.Match) -> str:
    return re.sub(r"\d", MASK_CHAR, match.group(0))


def _mask_phone(match: re.Match) -> str:
    candidate = match.group(0)
    stripped = candidate.strip()
    if _DATE.match(stripped):
        return candidate
    # Danish numbers have 8 digits, Swedish 7-10 national; with country code up to 13.
    if 7 <= _digits(candidate) <= 13:
        return re.sub(r"\d", MASK_CHAR, candidate)
    return candidate


def mask_personal_data(text: str | None) -> str | None:
    if not text:
        return text
    masked = _ID_NUMBER.sub(_mask_digits, text)
    return _PHONE_CANDIDATE.sub(_mask_phone, masked)


def mask_in_json(value):
    """Mask every string inside a JSON-like structure."""
    if isinstance(value, str):
        return mask_personal_data(value)
    if isinstance(value, list):
        return [mask_in_json(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_in_json(v) for k, v in value.items()}
    return value


class MaskingFilter(logging.Filter):
    """Masks personal numbers in every log line, whatever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format must not drop the line
            return True
        masked = mask_personal_data(message)
        if masked != message or record.args:
            record.msg = masked
            record.args = None
        return True


def install_log_masking() -> None:
    """Attach the masking filter to every handler of the root and Sanic loggers."""
    names = ["", "sanic.root", "sanic.error", "sanic.access", "sanic.server", "handoff"]
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskingFilter) for f in logger.filters):
            logger.addFilter(MaskingFilter())
        for handler in logger.handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(MaskingFilter())


_PHONE_ALLOWED = re.compile(r"^\+?[\d \-()]{6,20}$")


def normalise_phone(raw: str) -> str | None:
    """Return a compact phone number or None when it does not look like one."""
    raw = (raw or "").strip()
    if not _PHONE_ALLOWED.match(raw):
        return None
    digits = re.sub(r"\D", "", raw)
    if not 7 <= len(digits) <= 15:
        return None
    return ("+" if raw.startswith("+") else "") + digits


class PhoneVault:
    def __init__(self, key: str):
        self._fernet = Fernet(key.encode())

    def encrypt(self, phone: str) -> str:
        return self._fernet.encrypt(phone.encode()).decode()

    def decrypt(self, token: str) -> str | None:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            return None
