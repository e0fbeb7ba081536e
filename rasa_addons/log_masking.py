"""Personal data never reaches a log line of the Rasa server or the action server.

Every log record is masked (ddh_privacy.logs), whatever the logger or
handler: Rasa, Sanic, rasa_sdk and our own code log through the standard
`logging` module, and Rasa's structured logs (structlog) are rendered and then
written through it too. (Rasa's anonymisation plugin hook is not used: it
re-reads the tracker from the store for every message.)
"""

from __future__ import annotations

from ddh_privacy import install_log_masking

from rasa_addons.privacy import MASK


def install() -> None:
    """Mask every log record created from now on in this process."""
    install_log_masking(MASK)
