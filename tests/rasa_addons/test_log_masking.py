"""No personal data in any log line of the Rasa server or the action server."""

from __future__ import annotations

import logging

import pytest
from ddh_privacy import uninstall_log_masking
from ddh_privacy.testing import leaks, personal_numbers, words
from hypothesis import given, settings

from rasa_addons import log_masking


@pytest.fixture(scope="module", autouse=True)
def masking():
    log_masking.install()
    yield
    uninstall_log_masking()


@pytest.mark.parametrize("logger_name", ["rasa.core.processor", "sanic.access", "actions.personal", "root"])
def test_every_logger_is_masked(caplog, logger_name):
    with caplog.at_level(logging.DEBUG):
        logging.getLogger(logger_name).info("user said %s, call %s", "cpr 010203-1234", "+45 12 34 56 78")
    assert "010203-1234" not in caplog.text and "12 34 56 78" not in caplog.text
    assert "[skjult]" in caplog.text


def test_structured_logs_are_masked(caplog):
    import structlog

    structlog.configure(logger_factory=structlog.stdlib.LoggerFactory())
    with caplog.at_level(logging.INFO):
        structlog.get_logger("rasa.core.processor").info("processor.message", text="personnummer 19850315-5684")
    assert "19850315-5684" not in caplog.text and "[skjult]" in caplog.text


@settings(max_examples=100, deadline=None)
@given(number=personal_numbers(), before=words(), after=words())
def test_no_number_in_any_form_survives_a_log_line(number, before, after):
    record = logging.getLogger("rasa.core.processor").makeRecord(
        "rasa.core.processor", logging.INFO, __file__, 1, "user said %s", (f"{before} {number} {after}",), None)
    assert not leaks(number, record.getMessage())


def test_conversation_ids_stay_readable(caplog):
    sender = "1234567abcdef0123456789abcdef01"
    with caplog.at_level(logging.INFO):
        logging.getLogger("rasa.core.processor").info("turn of %s: cpr %s", sender, "04.01.90.1239")
    assert f"turn of {sender}: cpr [skjult]" in caplog.text
