"""Verification of the login token that the website passes after MitID / BankID."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from actions.identity import NationalId
from actions.login import (
    LOGIN_ABSENT,
    LOGIN_DISABLED,
    LOGIN_INVALID,
    LOGIN_VERIFIED,
    LoginConfigurationError,
    LoginSettings,
    current_settings,
    login_of,
    settings_from_env,
    verify_token,
)
from tests.actions.trackers import make_tracker
from tests.support.login_tokens import LoginIssuer

ANNA = "1503851112"
SVEA = "198503155684"


@pytest.fixture(scope="module")
def issuer() -> LoginIssuer:
    return LoginIssuer()


@pytest.fixture(scope="module")
def settings(issuer) -> LoginSettings:
    return settings_from_env(issuer.env())


def _pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_a_valid_es256_token_gives_the_identity(issuer, settings):
    login = verify_token(issuer.token(ANNA, "DK"), settings)
    assert login.status == LOGIN_VERIFIED
    assert login.national_id == NationalId("DK", ANNA)


def test_a_swedish_login_without_country_claim(issuer, settings):
    login = verify_token(issuer.token("19850315-5684"), settings)
    assert login.national_id == NationalId("SE", SVEA)


def test_an_rs256_key(issuer):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings = settings_from_env({**issuer.env(), "IDENTITY_JWT_PUBLIC_KEY": _pem(private_key)})
    assert settings.public_algorithm == "RS256"
    token = issuer.token(ANNA, "DK", key=private_key, algorithm="RS256")
    assert verify_token(token, settings).status == LOGIN_VERIFIED


def test_the_key_can_come_from_a_file(issuer, tmp_path):
    path = tmp_path / "login.pem"
    path.write_text(issuer.public_pem)
    env = {**issuer.env(), "IDENTITY_JWT_KEY_FILE": str(path)}
    del env["IDENTITY_JWT_PUBLIC_KEY"]
    assert verify_token(issuer.token(ANNA, "DK"), settings_from_env(env)).verified


@pytest.mark.parametrize(
    "change",
    [
        {"lifetime": dt.timedelta(minutes=-5)},  # expired
        {"aud": "another-service"},
        {"iss": "https://someone.else.invalid"},
        {"exp": None},  # no expiry at all
        {"aud": None},
        {"country": "NO"},
        {"national_id": "310285-1112"},  # no such date
        {"national_id": 1503851112},
    ],
)
def test_tokens_that_fail_verification(issuer, settings, change):
    claims = dict(change)
    lifetime = claims.pop("lifetime", dt.timedelta(minutes=10))
    national_id = claims.pop("national_id", ANNA)
    country = claims.pop("country", "DK")
    token = issuer.token(national_id, country, lifetime=lifetime, **claims)
    assert verify_token(token, settings).status == LOGIN_INVALID


def test_a_token_signed_by_another_key(issuer, settings):
    stranger = LoginIssuer()
    assert verify_token(stranger.token(ANNA, "DK"), settings).status == LOGIN_INVALID


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _hand_made_token(header: dict, claims: dict, sign) -> str:
    signing_input = _b64(json.dumps(header).encode()) + b"." + _b64(json.dumps(claims).encode())
    return (signing_input + b"." + _b64(sign(signing_input))).decode()


def test_unsigned_tokens_are_refused(issuer, settings):
    claims = {"national_id": ANNA, "country": "DK", "aud": issuer.audience, "iss": issuer.issuer, "exp": 4102444800}
    assert verify_token(_hand_made_token({"alg": "none"}, claims, lambda _: b""), settings).status == LOGIN_INVALID


def test_hs256_signed_with_the_public_key_is_refused(issuer, settings):
    """The classic algorithm confusion: the public key used as an HMAC secret."""
    claims = {"national_id": ANNA, "country": "DK", "aud": issuer.audience, "iss": issuer.issuer, "exp": 4102444800}
    token = _hand_made_token(
        {"alg": "HS256", "typ": "JWT"},
        claims,
        lambda data: hmac.new(issuer.public_pem.encode(), data, hashlib.sha256).digest(),
    )
    assert verify_token(token, settings).status == LOGIN_INVALID


def test_hs256_only_with_a_configured_secret(issuer):
    secret = "s" * 40
    settings = settings_from_env({"IDENTITY_JWT_SECRET": secret, "IDENTITY_JWT_AUDIENCE": issuer.audience})
    token = issuer.token(ANNA, "DK", key=secret, algorithm="HS256")
    assert verify_token(token, settings).verified
    # The public-key settings of the fixture do not accept it.
    assert verify_token(token, settings_from_env(issuer.env())).status == LOGIN_INVALID


def test_a_short_secret_is_a_configuration_error(issuer):
    with pytest.raises(LoginConfigurationError):
        settings_from_env({"IDENTITY_JWT_SECRET": "short", "IDENTITY_JWT_AUDIENCE": "x"})


def test_weak_or_unsupported_keys_are_configuration_errors():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(LoginConfigurationError):
        settings_from_env({"IDENTITY_JWT_PUBLIC_KEY": _pem(small), "IDENTITY_JWT_AUDIENCE": "x"})
    p384 = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(LoginConfigurationError):
        settings_from_env({"IDENTITY_JWT_PUBLIC_KEY": _pem(p384), "IDENTITY_JWT_AUDIENCE": "x"})
    with pytest.raises(LoginConfigurationError):
        settings_from_env({"IDENTITY_JWT_PUBLIC_KEY": "not a key", "IDENTITY_JWT_AUDIENCE": "x"})


def test_without_configuration_tokens_are_ignored(issuer):
    settings = settings_from_env({})
    assert not settings.enabled
    assert verify_token(issuer.token(ANNA, "DK"), settings).status == LOGIN_DISABLED
    # An audience is required too.
    no_audience = {**issuer.env(), "IDENTITY_JWT_AUDIENCE": ""}
    assert verify_token(issuer.token(ANNA, "DK"), settings_from_env(no_audience)).status == LOGIN_DISABLED


def test_no_token_is_absent(settings):
    assert verify_token(None, settings).status == LOGIN_ABSENT
    assert verify_token("", settings).status == LOGIN_ABSENT


@pytest.mark.parametrize("token", ["garbage", "a.b.c", 42, "x" * 5000])
def test_malformed_tokens(settings, token):
    assert verify_token(token, settings).status == LOGIN_INVALID


def test_the_token_is_read_from_the_latest_message_metadata(issuer, monkeypatch):
    for name, value in issuer.env().items():
        monkeypatch.setenv(name, value)
    tracker = make_tracker("hvornår får jeg mine penge", "payout_inquiry", metadata={"login_token": issuer.token(ANNA, "DK")})
    assert login_of(tracker).national_id == NationalId("DK", ANNA)
    assert login_of(make_tracker("hej", "greet")).status == LOGIN_ABSENT


def test_a_broken_configuration_turns_authenticated_chat_off(monkeypatch, caplog):
    monkeypatch.setenv("IDENTITY_JWT_PUBLIC_KEY", "not a key")
    monkeypatch.setenv("IDENTITY_JWT_AUDIENCE", "ddh-chat")
    with caplog.at_level(logging.ERROR):
        assert not current_settings().enabled
    assert "authenticated chat is off" in caplog.text


def test_refusals_log_no_token_or_number(issuer, settings, caplog):
    token = issuer.token(ANNA, "DK", lifetime=dt.timedelta(minutes=-5))
    with caplog.at_level(logging.DEBUG):
        verify_token(token, settings)
        verify_token(issuer.token("310285-1112", "DK"), settings)
    assert token not in caplog.text
    assert "1503851112" not in caplog.text and "310285" not in caplog.text
