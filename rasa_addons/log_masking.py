"""Personal data never reaches a log line of the Rasa server or the action server.

Every log record is masked when it is created, whatever the logger or handler:
Rasa, Sanic, rasa_sdk and our own code log through the standard `logging`
module, and Rasa's structured logs (structlog) are rendered and then written
through it too. (Rasa's anonymisation plugin hook is not used: it re-reads the
tracker from the store for every message.)
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_addons.privacy import mask_personal_data

_installed = False


def install() -> None:
    """Mask every log record created from now on in this process."""
    global _installed
    if _installed:
        return
    _installed = True
    create_record = logging.getLogRecordFactory()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = create_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logged as it is
            return record
        record.msg, record.args = mask_personal_data(message), ()
        return record

    logging.setLogRecordFactory(masked_record)
