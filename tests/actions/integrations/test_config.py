"""Adapter configuration and identity-number normalisation (no sandbox needed)."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.integrations import CaseClient, PayoutClient, ServiceConfig, SmsGatewayClient, SystemUnavailableError
from ddh_privacy.national_id import normalize_national_id


def test_defaults_point_at_the_local_sandbox_with_its_development_tokens():
    payout = PayoutClient.from_env({}).config
    cases = CaseClient.from_env({}).config
    sms = SmsGatewayClient.from_env({}).config
    assert payout.base_url == "http://127.0.0.1:8090/payout-system/v1"
    assert cases.base_url == "http://127.0.0.1:8090/case-system/v1"
    assert sms.base_url == "http://127.0.0.1:8090/sms-gateway/v1"
    assert (payout.token, cases.token, sms.token) == (
        "sandbox-dev-payout-token",
        "sandbox-dev-case-token",
        "sandbox-dev-sms-token",
    )
    assert (payout.timeout_seconds, payout.max_attempts, payout.deadline_seconds) == (3.0, 3, 8.0)


def test_a_configured_url_never_gets_the_sandbox_token():
    config = PayoutClient.from_env({"PAYOUT_SYSTEM_URL": "https://payout.example.invalid/v1/"}).config
    assert config.base_url == "https://payout.example.invalid/v1"
    assert config.token == ""


def test_explicit_settings_and_precedence():
    config = CaseClient.from_env(
        {
            "CASE_SYSTEM_URL": "https://cases.example.invalid/v1",
            "CASE_SYSTEM_TOKEN": "secret-token",
            "INTEGRATION_TIMEOUT_SECONDS": "2.5",
            "INTEGRATION_MAX_ATTEMPTS": "4",
            "CASE_SYSTEM_MAX_ATTEMPTS": "2",
            "CASE_SYSTEM_DEADLINE_SECONDS": "5",
        }
    ).config
    assert config.token == "secret-token"
    assert (config.timeout_seconds, config.max_attempts, config.deadline_seconds) == (2.5, 2, 5.0)
    assert "secret-token" not in repr(config)


@pytest.mark.parametrize(
    "env",
    [
        {"INTEGRATION_TIMEOUT_SECONDS": "soon"},
        {"PAYOUT_SYSTEM_MAX_ATTEMPTS": "0"},
        {"INTEGRATION_DEADLINE_SECONDS": "-1"},
    ],
)
def test_invalid_tuning_is_rejected(env):
    with pytest.raises(ValueError):
        PayoutClient.from_env(env)


def test_service_config_validates_directly():
    with pytest.raises(ValueError):
        ServiceConfig(system="x", base_url="http://x", token="t", timeout_seconds=0)


@pytest.mark.parametrize(
    "country, raw, expected",
    [
        ("DK", "150385-1112", "1503851112"),
        ("DK", " 1503851112 ", "1503851112"),
        ("SE", "19850315-5684", "198503155684"),
        ("SE", "850315-5684", "198503155684"),
        ("SE", "121212+1212", "191212121212"),  # "+": 100 years or older
        ("SE", "010704-2640", "200107042640"),
        ("SE", "261124-0000", "192611240000"),  # born "tomorrow" is last century
        ("SE", "261123-0000", "202611230000"),
    ],
)
def test_normalize_national_id(country, raw, expected):
    assert normalize_national_id(country, raw, today=dt.date(2026, 11, 23)) == expected


@pytest.mark.parametrize(
    "country, raw", [("DK", "15038511"), ("DK", "1503851112a"), ("SE", "8503155684123"), ("NO", "1503851112")]
)
def test_normalize_rejects_without_echoing(country, raw):
    with pytest.raises(ValueError) as error:
        normalize_national_id(country, raw)
    assert raw not in str(error.value)


@pytest.mark.asyncio
async def test_an_invalid_base_url_is_a_configuration_error():
    client = PayoutClient.from_env({"PAYOUT_SYSTEM_URL": "not a url", "PAYOUT_SYSTEM_TOKEN": "t"})
    async with client:
        with pytest.raises(SystemUnavailableError) as error:
            await client.next_payout("DK", "1503851112")
    assert error.value.reason == "misconfigured"
