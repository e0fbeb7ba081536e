"""The sandbox's use of the shared masking policy (ddh_privacy) in its own logs.

Identity numbers never travel in URLs by contract, and the code does not log
request bodies; masking is the second line of defence for anything that
slips into a log message, an access-log line or a traceback. Identity
numbers (and e-mail addresses, card numbers, tokens) become "[id masked]";
phone numbers keep their country code and last two digits, enough to tell
the fictitious test numbers apart.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import ddh_privacy
from sanic.log import LOGGING_CONFIG_DEFAULTS

IDENTITY_MASK = "[id masked]"


def mask_phone(value: str) -> str:
    """Keep the country code and the last two digits: enough to tell test
    numbers apart, not enough to identify anyone."""
    digits = re.sub(r"\D", "", ddh_privacy.normalise(value))
    if digits.startswith("00"):
        digits = digits[2:]
    return f"+{digits[:2]}{'*' * (len(digits) - 4)}{digits[-2:]}"


def marker(kind: str, original: str) -> str:
    return mask_phone(original) if kind == ddh_privacy.PHONE else IDENTITY_MASK


def mask(text: str) -> str:
    return ddh_privacy.mask_personal_data(text, marker)


class MaskingFilter(ddh_privacy.MaskingFilter):
    """The shared log-record masker with the sandbox's marker."""

    def __init__(self, name: str = ""):
        super().__init__(marker, name)


def install() -> None:
    """Mask records of every logger of the process, also those not configured here."""
    ddh_privacy.install_log_masking(marker, logger_names=("municipal_sandbox",))


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
