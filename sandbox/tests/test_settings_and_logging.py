"""Settings from the environment and masking of personal data in logs."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from ddh_privacy.testing import leaks, personal_numbers, words
from hypothesis import given
from hypothesis import settings as examples
from municipal_sandbox.app import create_app
from municipal_sandbox.logmask import MaskingFilter, logging_config, mask
from municipal_sandbox.seed import PERSONS
from municipal_sandbox.settings import DEVELOPMENT_TOKENS, Settings, SettingsError, parse_failure_modes
from sanic import Sanic

FULL_ENV = {
    "SANDBOX_ENV": "production",
    "SANDBOX_PAYOUT_TOKEN": "p",
    "SANDBOX_CASE_TOKEN": "c",
    "SANDBOX_SMS_TOKEN": "s",
    "SANDBOX_ADMIN_TOKEN": "a",
    "SANDBOX_FINGERPRINT_SECRET": "f",
}


def test_development_uses_the_published_defaults():
    settings = Settings.from_env({"SANDBOX_ENV": "development"})
    assert settings.tokens == DEVELOPMENT_TOKENS
    assert settings.port == 8090 and settings.host == "127.0.0.1"
    assert settings.database_url.endswith("var/sandbox.sqlite3")
    assert settings.today is None and settings.current_date() == dt.date.today()


@pytest.mark.parametrize("missing", sorted(FULL_ENV.keys() - {"SANDBOX_ENV"}))
def test_other_environments_require_every_secret(missing):
    env = {key: value for key, value in FULL_ENV.items() if key != missing}
    with pytest.raises(SettingsError, match=missing):
        Settings.from_env(env)
    # An unset SANDBOX_ENV is not development either.
    env.pop("SANDBOX_ENV")
    with pytest.raises(SettingsError):
        Settings.from_env(env)


def test_all_settings_from_the_environment():
    settings = Settings.from_env(
        {
            **FULL_ENV,
            "SANDBOX_PORT": "9001",
            "SANDBOX_TODAY": "2027-01-15",
            "SANDBOX_FAILURE_MODES": "payout-system=down, sms-gateway=flaky:3",
            "SANDBOX_NOTIFICATIONS_PER_PERSON_PER_HOUR": "0",
            "SANDBOX_ACCESS_LOG": "false",
        }
    )
    assert settings.tokens == {"payout-system": "p", "case-system": "c", "sms-gateway": "s", "admin": "a"}
    assert settings.port == 9001
    assert settings.current_date() == dt.date(2027, 1, 15)
    assert settings.initial_failure_modes == {"payout-system": "down", "sms-gateway": "flaky:3"}
    assert settings.notifications_per_person_per_hour == 0
    assert settings.access_log is False


@pytest.mark.parametrize(
    "variable, value",
    [
        ("SANDBOX_PORT", "http"),
        ("SANDBOX_PORT", "70000"),
        ("SANDBOX_TODAY", "23/11/2026"),
        ("SANDBOX_FAILURE_MODES", "tax-system=down"),
        ("SANDBOX_FAILURE_MODES", "payout-system"),
    ],
)
def test_invalid_values_are_rejected(variable, value):
    with pytest.raises(SettingsError):
        Settings.from_env({**FULL_ENV, variable: value})


def test_an_unknown_failure_mode_fails_at_app_creation(tmp_path):
    from conftest import make_settings

    Sanic.test_mode = True
    with pytest.raises(SettingsError):
        create_app(make_settings(tmp_path, initial_failure_modes=parse_failure_modes("case-system=sideways")))


def test_mask_hides_every_seeded_identity_and_phone_number():
    for person in PERSONS:
        text = f"lookup for {person.national_id} by {person.mobile_number or '+4509990009'}"
        masked = mask(text)
        assert person.national_id not in masked
        assert (person.mobile_number or "+4509990009") not in masked
    assert mask("CPR 150385-1112 and 19850315-5684") == "CPR [id masked] and [id masked]"
    assert mask("sms to +46701740605") == "sms to +46*******05"
    assert mask("sms to +45 09 99 00 01") == "sms to +45******01"


def test_mask_leaves_ordinary_text_alone():
    text = "2026-11-23 19:36:21 GET /payout-system/v1/next-payout:lookup 200 115 11.7ms ntf_1a2b"
    assert mask(text) == text


def test_filter_masks_arguments_exceptions_and_access_log_fields():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "person %s phone %s", ("1503851112", "+4509990001"), None
    )
    record.request = "POST /x?cpr=1503851112"
    try:
        raise ValueError("bad 198503155684")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert MaskingFilter().filter(record) is True
    assert record.getMessage() == "person [id masked] phone +45******01"
    assert record.request == "POST /x?cpr=[id masked]"
    assert "198503155684" not in record.exc_text and "[id masked]" in record.exc_text


def test_every_log_handler_masks():
    config = logging_config()
    assert config["handlers"], "no handlers configured"
    for name, handler in config["handlers"].items():
        assert "mask" in handler["filters"], name
    assert config["loggers"]["municipal_sandbox"]["handlers"] == ["sandbox_console"]


@examples(max_examples=150, deadline=None)
@given(number=personal_numbers(), before=words(), after=words())
def test_no_number_in_any_form_survives_a_log_record(number, before, after):
    record = logging.LogRecord("municipal_sandbox.x", logging.INFO, __file__, 1, "lookup %s", (f"{before} {number} {after}",), None)
    record.request = f"POST /x?q={number}"
    MaskingFilter().filter(record)
    assert not leaks(number, record.getMessage()) and not leaks(number, record.request)


def test_the_installer_masks_loggers_outside_sanics_configuration(caplog):
    from ddh_privacy import uninstall_log_masking

    from municipal_sandbox import logmask

    logmask.install()
    try:
        with caplog.at_level(logging.INFO):
            logging.getLogger("aiosqlite").info("row %s", "1503851112 / +46701740605")
    finally:
        uninstall_log_masking()
    assert "[id masked] / +46*******05" in caplog.text
