"""Masking of identity numbers and phone numbers in the sandbox's own logs.

Identity numbers never travel in URLs by contract, and the code does not log
request bodies; this filter is the second line of defence for anything that
slips into a log message, an access-log line or a traceback.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from sanic.log import LOGGING_CONFIG_DEFAULTS

# +45 followed by 8 digits, +46 followed by 7-10 digits, with optional spaces.
_PHONE = re.compile(r"\+(?:45|46)(?:[ -]?\d){7,10}(?!\d)")
# 12-digit personnummer or 10-digit CPR / short personnummer, with or
# without the usual separator.
_IDENTITY = re.compile(r"(?<!\d)(?:\d{8}[-+]?\d{4}|\d{6}[-+]?\d{4})(?!\d)")

IDENTITY_MASK = "[id masked]"


def mask_phone(value: str) -> str:
    """Keep the country code and the last two digits: enough to tell test
    numbers apart, not enough to identify anyone."""
    digits = re.sub(r"\D", "", value)
    return f"+{digits[:2]}{'*' * (len(digits) - 4)}{digits[-2:]}"


def mask(text: str) -> str:
    text = _PHONE.sub(lambda match: mask_phone(match.group(0)), text)
    return _IDENTITY.sub(IDENTITY_MASK, text)


class MaskingFilter(logging.Filter):
    """Rewrite a record's message (and Sanic's access-log fields) masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        record.msg = mask(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask(record.exc_text)
        # Sanic's access logger puts the request line in extra fields.
        for attribute in ("request", "host"):
            value = getattr(record, attribute, None)
            if isinstance(value, str):
                setattr(record, attribute, mask(value))
        return True


def _copy_dicts(value: Any) -> Any:
    """Copy nested dicts and lists; keep other objects (the streams) shared."""
    if isinstance(value, dict):
        return {key: _copy_dicts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_dicts(item) for item in value]
    return value


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """Sanic's default logging configuration with the masking filter on every
    handler and a logger for the sandbox's own messages."""
    config = _copy_dicts(LOGGING_CONFIG_DEFAULTS)
    config["filters"] = {"mask": {"()": MaskingFilter}}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("mask")
    config["handlers"]["sandbox_console"] = {
        "class": "logging.StreamHandler",
        "formatter": "sandbox",
        "stream": sys.stderr,
        "filters": ["mask"],
    }
    config["formatters"]["sandbox"] = {
        "format": "%(asctime)s %(levelname)s [%(name)s] %(message)s",
    }
    config["loggers"]["municipal_sandbox"] = {
        "level": level,
        "handlers": ["sandbox_console"],
        "propagate": False,
    }
    return config
