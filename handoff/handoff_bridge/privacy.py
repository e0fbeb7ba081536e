"""The bridge's use of the shared masking policy (ddh_privacy), and
encryption of callback phone numbers.

What citizens and agents type (messages, summaries, callback descriptions,
closing notes, rating comments) is stored masked; the assistant's and the
bridge's own messages are stored as they are (they are published content:
answers give the phone numbers of authorities). Masking replaces every digit
of a number (every character of an e-mail address but `@` and `.`) with '#',
so an agent still sees that the citizen wrote one, and of what shape.

Logging: `install_log_masking()` masks every record of every logger
(ddh_privacy.logs).
"""

from __future__ import annotations

import re

import ddh_privacy
from cryptography.fernet import Fernet, InvalidToken

MASK_CHAR = "#"
MARKER = ddh_privacy.shape_marker(MASK_CHAR)
# Senders whose text is stored masked: people type it.
MASKED_SENDERS = frozenset({"citizen", "agent"})


def mask_personal_data(text: str | None) -> str | None:
    return ddh_privacy.mask_personal_data(text, MARKER)


def mask_in_json(value):
    """Mask every string inside a JSON-like structure."""
    return ddh_privacy.mask_structure(value, MARKER)


def install_log_masking() -> None:
    ddh_privacy.install_log_masking(MARKER, logger_names=("handoff",))


_PHONE_ALLOWED = re.compile(r"^\+?[\d \-()]{6,20}$")


def normalise_phone(raw: str) -> str | None:
    """Return a compact phone number or None when it does not look like one."""
    raw = ddh_privacy.normalise((raw or "").strip())
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
