"""No query string in any log line.

Query strings can carry credentials (Rasa's HTTP API takes its token as
`?token=`), and libraries log the URLs they call (httpx writes one INFO line
per request). Every log record of every logger has the query strings of the
URLs in it replaced, whatever logged it: a record factory, as for the masking
of personal data (privacy.py).
"""

from __future__ import annotations

import logging
import re

REDACTED = "?[query removed]"
# An absolute URL with a query, or the path of an HTTP request line. "#" may
# stand in a path: masking of personal data writes it over digits.
_ABSOLUTE = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s?\"'<>]*)\?[^\s\"'<>]*")
_REQUEST_LINE = re.compile(r"(\b(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /[^\s?\"'<>]*)\?[^\s\"'<>]*")


def redact_query_strings(text: str) -> str:
    if "?" not in text:
        return text
    return _REQUEST_LINE.sub(r"\1" + REDACTED, _ABSOLUTE.sub(r"\1" + REDACTED, text))


def _redact_arg(value):
    # httpx passes its URL object; anything else that prints as a URL is handled the same way.
    if isinstance(value, str) or type(value).__name__ == "URL":
        text = str(value)
        redacted = redact_query_strings(text)
        return redacted if redacted != text else value
    return value


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    if isinstance(record.msg, str):
        record.msg = redact_query_strings(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_arg(a) for a in record.args)
    elif isinstance(record.args, dict):
        record.args = {k: _redact_arg(v) for k, v in record.args.items()}
    return record


_installed = False


def install_url_redaction() -> None:
    """Redact query strings in every log record created from now on (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def redacting_factory(*args, **kwargs):
        return redact_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(redacting_factory)
    _installed = True
