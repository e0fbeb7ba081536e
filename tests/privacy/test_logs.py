"""The shared log-record masker and its installer (ddh_privacy.logs)."""

from __future__ import annotations

import io
import logging

from hypothesis import given, settings

from ddh_privacy import MaskingFilter, install_log_masking, mask_record, uninstall_log_masking
from ddh_privacy.testing import leaks, personal_numbers


def record(msg, *args, **extra):
    made = logging.LogRecord("x", logging.INFO, __file__, 1, msg, args, None)
    made.__dict__.update(extra)
    return made


@settings(max_examples=200, deadline=None)
@given(number=personal_numbers())
def test_message_arguments_and_extra_fields_are_masked(number):
    masked = mask_record(record("citizen wrote %s", number, request=f"GET /x?q={number}"), "[m]")
    assert not leaks(number, masked.getMessage()) and not leaks(number, masked.request)


@settings(max_examples=200, deadline=None)
@given(number=personal_numbers())
def test_numbers_in_reprs_and_json_are_masked(number):
    """Libraries log structures with %r or as JSON: separators and digits are
    then escaped (`\\xa0`, `\\uff10`)."""
    import json

    masked = mask_record(record("sent %r, body %s", {"message": f"tekst {number} slut"},
                                json.dumps({"text": f"tekst {number} slut"})), "[m]")
    assert not leaks(number, masked.getMessage()), masked.getMessage()


def test_conversation_ids_stay_readable_in_log_lines():
    cid = "1234567abcdef0123456789abcdef01"
    assert mask_record(record("rasa turn for %s took 12 ms", cid), "#").getMessage() == \
        f"rasa turn for {cid} took 12 ms"


def test_the_installer_masks_every_logger_created_before_or_after():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s %(request)s", defaults={"request": ""}))
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        install_log_masking("[m]")
        assert any(isinstance(f, MaskingFilter) for f in handler.filters)
        logging.getLogger("created.later").info("phone %s", "+45 12 34 56 78")
        logging.getLogger("sanic.access").info("", extra={"request": "GET /x?cpr=04.01.90.1239"})
        try:
            raise ValueError("bad personnummer 19850101-1234")
        except ValueError:
            logging.getLogger("x").exception("failed")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        uninstall_log_masking()
    out = stream.getvalue()
    for secret in ("12 34 56 78", "04.01.90.1239", "19850101-1234"):
        assert secret not in out
    assert "phone [m]" in out and "cpr=[m]" in out and "ValueError: bad personnummer [m]" in out


def test_logged_calls_are_written_without_their_arguments():
    """aiosqlite logs each database call as a functools.partial with the SQL
    parameters. The first part of a number sent in two messages ("１ ２/０９–７５０"
    of "１ ２/０９–７５０２０ ２") is no number on its own, so the masker cannot see
    it: the arguments are not written at all."""
    import functools
    import sqlite3

    cursor = sqlite3.connect(":memory:").cursor()
    call = functools.partial(cursor.execute, "INSERT INTO messages (text, created_at) VALUES (?, ?)",
                             ("１ ２/０９–７５０", "2026-12-03 12:32:01"))
    for args in ((call,), ({"call": call},)):
        text = "executing %s" if isinstance(args[0], functools.partial) else "executing %(call)s"
        line = mask_record(record(text, *args), "[m]").getMessage()
        assert line == "executing <call Cursor.execute with 2 arguments not logged>"
    assert mask_record(record("operation %s completed", functools.partial(cursor.close)), "[m]").getMessage() == \
        "operation <call Cursor.close with 0 arguments not logged> completed"
