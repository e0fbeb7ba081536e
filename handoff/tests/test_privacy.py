import logging

import pytest

from handoff_bridge.privacy import (
    MaskingFilter,
    PhoneVault,
    mask_in_json,
    mask_personal_data,
    normalise_phone,
)
from handoff_bridge.settings import Settings


@pytest.mark.parametrize("raw, masked", [
    ("cpr 010203-1234", "cpr ######-####"),
    ("0102031234", "##########"),
    ("personnummer 19850101-1234 tack", "personnummer ########-#### tack"),
    ("850101+1234", "######+####"),
    ("ring 12 34 56 78", "ring ## ## ## ##"),
    ("+45 12345678", "+## ########"),
    ("070-123 45 67", "###-### ## ##"),
    ("+46 70 123 45 67", "+## ## ### ## ##"),
])
def test_personal_numbers_are_masked(raw, masked):
    assert mask_personal_data(raw) == masked


@pytest.mark.parametrize("text", [
    "mødet er 2026-03-12 kl 10", "den 12-03-2026", "sagsnummer 12345", "2300 København S", "300 kr i 2026",
])
def test_ordinary_numbers_stay_legible(text):
    assert mask_personal_data(text) == text


def test_mask_in_json_masks_nested_strings():
    assert mask_in_json({"a": ["tlf 12345678"], "b": 3}) == {"a": ["tlf ########"], "b": 3}


def test_log_filter_masks_formatted_arguments(caplog):
    logger = logging.getLogger("handoff.test_privacy")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="handoff.test_privacy"):
        logger.info("citizen wrote %s", "cpr 010203-1234")
    assert "010203" not in caplog.text and "######-####" in caplog.text


def test_phone_vault_round_trip_and_normalise():
    vault = PhoneVault(Settings(env="development").fernet_key)
    token = vault.encrypt("+4512345678")
    assert "12345678" not in token and vault.decrypt(token) == "+4512345678"
    assert vault.decrypt("garbage") is None
    assert normalise_phone("+45 12 34 56 78") == "+4512345678"
    assert normalise_phone("070-123 45 67") == "0701234567"
    assert normalise_phone("call me") is None and normalise_phone("12") is None
