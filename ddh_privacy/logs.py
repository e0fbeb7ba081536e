"""One log-record masker and one installer for every service: the Rasa
server, the action server, the handoff bridge and the sandbox.

`install_log_masking(marker)` masks every record of every logger twice over:
a log record factory masks the message with its arguments, the exception
text and the stack when the record is made (whatever logger, created now or
later; Rasa's structlog output goes through it too), and `MaskingFilter` on
every handler known now masks string attributes added afterwards (`extra=`,
such as Sanic's access-log fields `request` and `host`).

Calls that libraries log as `functools.partial` objects (aiosqlite writes one
DEBUG line per database call, with the SQL statement's parameters) are
written without their arguments: the parameters hold what citizens typed, and
the first part of a number sent over two messages cannot be recognised in a
line written before the second part arrives.
"""

from __future__ import annotations

import functools
import logging
from typing import Iterable

from .masking import Marker, mask_personal_data

# LogRecord attributes that are not free text (names, paths, numbers).
_PLAIN_ATTRIBUTES = frozenset({
    "name", "levelname", "pathname", "filename", "module", "funcName", "threadName", "processName",
    "taskName", "levelno", "lineno", "created", "msecs", "relativeCreated", "thread", "process",
    "msg", "exc_text", "stack_info",
})
# Loggers that libraries create lazily; they get the filter at install time.
_SERVICE_LOGGERS = ("sanic.root", "sanic.error", "sanic.access", "sanic.server", "sanic.websockets")


class _CallWithoutArguments:
    """How a logged `functools.partial` reads: the function, not its arguments."""

    def __init__(self, call: functools.partial):
        self._name = getattr(call.func, "__qualname__", None) or type(call.func).__name__
        self._count = len(call.args) + len(call.keywords)

    def __repr__(self) -> str:
        return f"<call {self._name} with {self._count} arguments not logged>"

    __str__ = __repr__


def _without_call_arguments(args):
    if isinstance(args, tuple):
        if not any(isinstance(a, functools.partial) for a in args):
            return args
        return tuple(_CallWithoutArguments(a) if isinstance(a, functools.partial) else a for a in args)
    if isinstance(args, dict) and any(isinstance(a, functools.partial) for a in args.values()):
        return {k: _CallWithoutArguments(a) if isinstance(a, functools.partial) else a for k, a in args.items()}
    return args


def mask_record(record: logging.LogRecord, marker: Marker) -> logging.LogRecord:
    """Mask a record in place: message with its arguments, exception, stack and extra fields.

    Masking is idempotent, so a record masked by the factory and again by a
    handler's filter reads the same."""
    if record.args:
        record.args = _without_call_arguments(record.args)
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format must not drop the line
        message = str(record.msg)
    record.msg = mask_personal_data(message, marker)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_personal_data(record.exc_text, marker)
    if record.stack_info:
        record.stack_info = mask_personal_data(record.stack_info, marker)
    for key, value in list(record.__dict__.items()):
        if key in _PLAIN_ATTRIBUTES or not isinstance(value, str):
            continue
        masked = mask_personal_data(value, marker)
        if masked != value:
            setattr(record, key, masked)
    return record


class MaskingFilter(logging.Filter):
    """Masks personal data in every log record that passes, whatever logged it."""

    def __init__(self, marker: Marker = "[masked]", name: str = ""):
        super().__init__(name)
        self.marker = marker

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record, self.marker)
        return True


_installed_marker: list[Marker] = []


def _install_record_factory(marker: Marker) -> None:
    if _installed_marker:
        _installed_marker[0] = marker  # one policy per process: the latest install wins
        return
    _installed_marker.append(marker)
    previous = logging.getLogRecordFactory()

    def masking_factory(*args, **kwargs):
        return mask_record(previous(*args, **kwargs), _installed_marker[0])

    masking_factory.ddh_previous = previous
    logging.setLogRecordFactory(masking_factory)


def uninstall_log_masking() -> None:
    """Restore the record factory that was there before (for tests)."""
    factory = logging.getLogRecordFactory()
    previous = getattr(factory, "ddh_previous", None)
    if previous is not None:
        logging.setLogRecordFactory(previous)
    _installed_marker.clear()


def _add_filter(target, marker: Marker) -> None:
    for existing in target.filters:
        if isinstance(existing, MaskingFilter):
            existing.marker = marker
            return
    target.addFilter(MaskingFilter(marker))


def install_log_masking(marker: Marker, *, logger_names: Iterable[str] = ()) -> None:
    """Mask every log record of every logger in this process with `marker`.

    Safe to call again (after a logging configuration added handlers): it
    only adds what is missing.
    """
    _install_record_factory(marker)
    manager = logging.root.manager
    loggers = [logging.getLogger()] + [
        logging.getLogger(name) for name in list(manager.loggerDict)
        if isinstance(manager.loggerDict[name], logging.Logger)
    ]
    loggers += [logging.getLogger(name) for name in (*_SERVICE_LOGGERS, *logger_names)]
    for logger in loggers:
        _add_filter(logger, marker)
        for handler in logger.handlers:
            _add_filter(handler, marker)
