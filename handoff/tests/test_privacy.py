import logging

import pytest

from ddh_privacy import MaskingFilter

from handoff_bridge.privacy import (
    MARKER,
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
    logger.addFilter(MaskingFilter(MARKER))
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


@pytest.mark.parametrize("raw, masked", [
    ("kort 4111 1111 1111 1111 udløber", "kort #### #### #### #### udløber"),
    ("5555-5555-5555-4444", "####-####-####-####"),
    ("mail anna.jensen@example.dk tak", "mail ####.######@#######.## tak"),
    ("skriv til a+b@kommune.se", "skriv til ###@#######.##"),
])
def test_cards_and_email_addresses_are_masked(raw, masked):
    assert mask_personal_data(raw) == masked


def test_a_long_number_that_is_no_card_stays():
    # 16 digits failing the Luhn check (a case reference) are not a card number.
    assert mask_personal_data("sag 1234 5678 9012 3456") == "sag 1234 5678 9012 3456"


def test_every_logger_is_masked_including_sanic_access_fields_and_tracebacks():
    import io

    from handoff_bridge.privacy import install_log_masking

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s %(request)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        install_log_masking()
        logging.getLogger("some.package.created.later").info("phone %s", "+45 12 34 56 78", extra={"request": "-"})
        logging.getLogger("sanic.access").info("", extra={"request": "GET /x?cpr=0102031234&mail=a@b.dk", "host": "", "status": 200, "byte": 0, "duration": ""})
        try:
            raise ValueError("bad personnummer 19850101-1234")
        except ValueError:
            logging.getLogger("handoff.x").exception("failed for %s", "4111111111111111", extra={"request": "-"})
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    out = stream.getvalue()
    for secret in ("12 34 56 78", "0102031234", "a@b.dk", "19850101-1234", "4111111111111111"):
        assert secret not in out, secret
    assert "cpr=##########" in out and "########-####" in out and "ValueError" in out
