"""Masking of personal data and encryption of callback phone numbers.

CPR numbers (DDMMYY-XXXX), Swedish personnummer (YYMMDD-XXXX or
YYYYMMDD-XXXX), phone numbers, payment card numbers and e-mail addresses
must not be stored or logged in plain text. Masking replaces every digit of
a number (every letter and digit of an e-mail address) with '#', so an agent
still sees that the citizen wrote one, and of what shape.

Logging: `install_log_masking()` masks every record of every logger twice
over: a log record factory masks the message, its arguments, the exception
text and the stack when the record is made, and `MaskingFilter` on every
handler masks the string attributes that were added later (`extra=`, such as
Sanic's access log fields).
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
# Payment card numbers: 13-19 digits, optionally in groups; masked when the Luhn check passes.
_CARD_CANDIDATE = re.compile(r"(?<![\d])\d(?:[ \-]?\d){12,18}(?![\d])")
# E-mail addresses (local part @ domain with at least one dot).
_EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_EMAIL_CHARS = re.compile(r"[^@.]")
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


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = ord(ch) - 48
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _mask_card(match: re.Match) -> str:
    candidate = match.group(0)
    if _luhn_ok(re.sub(r"\D", "", candidate)):
        return re.sub(r"\d", MASK_CHAR, candidate)
    return candidate


def _mask_email(match: re.Match) -> str:
    return _EMAIL_CHARS.sub(MASK_CHAR, match.group(0))


def mask_personal_data(text: str | None) -> str | None:
    if not text:
        return text
    if "@" in text:
        text = _EMAIL.sub(_mask_email, text)
    masked = _ID_NUMBER.sub(_mask_digits, text)
    masked = _CARD_CANDIDATE.sub(_mask_card, masked)
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


# LogRecord attributes that are not free text (names, paths, numbers).
_PLAIN_ATTRIBUTES = frozenset({
    "name", "levelname", "pathname", "filename", "module", "funcName", "threadName", "processName",
    "taskName", "levelno", "lineno", "created", "msecs", "relativeCreated", "thread", "process",
})


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a record in place: message with its arguments, exception, stack and extra fields."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format must not drop the line
        message = str(record.msg)
    record.msg = mask_personal_data(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_personal_data(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_personal_data(record.stack_info)
    for key, value in list(record.__dict__.items()):
        if key in _PLAIN_ATTRIBUTES or key in ("msg", "exc_text", "stack_info"):
            continue
        if isinstance(value, str):
            masked = mask_personal_data(value)
            if masked != value:
                setattr(record, key, masked)
    return record


class MaskingFilter(logging.Filter):
    """Masks personal data in every log record that passes, whatever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


_factory_installed = False


def _install_record_factory() -> None:
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def masking_factory(*args, **kwargs):
        return mask_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(masking_factory)
    _factory_installed = True


def _add_filter(target) -> None:
    if not any(isinstance(f, MaskingFilter) for f in target.filters):
        target.addFilter(MaskingFilter())


def install_log_masking() -> None:
    """Mask every log record of every logger: the record factory covers records of
    any logger, created now or later; the filter goes on every handler of every
    logger known now (root, Sanic's access/error/server loggers, libraries)."""
    _install_record_factory()
    loggers = [logging.getLogger()] + [
        logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
        if isinstance(logging.root.manager.loggerDict[name], logging.Logger)
    ]
    for name in ("sanic.root", "sanic.error", "sanic.access", "sanic.server", "sanic.websockets", "handoff"):
        loggers.append(logging.getLogger(name))
    for logger in loggers:
        _add_filter(logger)
        for handler in logger.handlers:
            _add_filter(handler)


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
