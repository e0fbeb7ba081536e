"""The citizen's login (MitID / BankID), proven by a signed token.

After a MitID or BankID login, the municipality's website gives the chat a
JSON Web Token; the handoff bridge passes it with every message in the
metadata key ``login_token``. An action reads it from the latest message's
metadata, verifies it here, and only then shows the citizen's own data. The
token is never stored in a slot, logged or sent anywhere.

Configuration (environment of the action server):

| variable | meaning |
|---|---|
| IDENTITY_JWT_PUBLIC_KEY | PEM public key of the login service (RSA >= 2048 bits: RS256; EC P-256: ES256) |
| IDENTITY_JWT_KEY_FILE | path of that PEM file, instead of the variable |
| IDENTITY_JWT_SECRET | shared secret (>= 32 bytes) to accept HS256 tokens; only when set |
| IDENTITY_JWT_AUDIENCE | required `aud`; without it authenticated chat is off |
| IDENTITY_JWT_ISSUER | required `iss`, when set |
| IDENTITY_JWT_LEEWAY_SECONDS | clock skew allowed on `exp`/`nbf`/`iat` (default 30) |
| IDENTITY_JWT_NATIONAL_ID_CLAIM | claim with the CPR number / personnummer (default `national_id`) |
| IDENTITY_JWT_COUNTRY_CLAIM | claim with `DK` or `SE` (default `country`; if absent, 10 digits = DK, 12 = SE) |

Without a key and an audience, tokens are ignored and every citizen gets the
anonymous path (answer by SMS).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from rasa_sdk import Tracker

from actions.identity import DENMARK, SWEDEN, NationalId, check_national_id

logger = logging.getLogger(__name__)

LOGIN_TOKEN_METADATA_KEY = "login_token"
MAX_TOKEN_CHARS = 4096
MIN_SECRET_BYTES = 32
MIN_RSA_BITS = 2048

# What a message's login amounts to.
LOGIN_ABSENT = "absent"  # no token in the message
LOGIN_DISABLED = "disabled"  # a token, but authenticated chat is not configured
LOGIN_INVALID = "invalid"  # a token that fails verification (expired, wrong audience, ...)
LOGIN_VERIFIED = "verified"


class LoginConfigurationError(ValueError):
    """The identity settings are present but unusable."""


@dataclass(frozen=True)
class LoginSettings:
    audience: Optional[str]
    issuer: Optional[str]
    public_key: Any = None
    public_algorithm: Optional[str] = None  # RS256 or ES256, from the key type
    secret: Optional[bytes] = None
    leeway_seconds: float = 30.0
    national_id_claim: str = "national_id"
    country_claim: str = "country"

    @property
    def enabled(self) -> bool:
        return bool(self.audience) and (self.public_key is not None or self.secret is not None)

    def key_for(self, algorithm: Optional[str]) -> Any:
        """The key that may verify a token signed with `algorithm`, or None.

        The algorithm comes from the key, never from the token alone, so a
        token cannot pick "none" or HS256-with-the-public-key.
        """
        if algorithm and algorithm == self.public_algorithm:
            return self.public_key
        if algorithm == "HS256" and self.secret is not None:
            return self.secret
        return None

    def __repr__(self) -> str:
        return (
            f"LoginSettings(enabled={self.enabled}, algorithm={self.public_algorithm!r}, "
            f"hs256={self.secret is not None}, issuer={self.issuer!r}, audience={self.audience!r})"
        )


@dataclass(frozen=True)
class Login:
    status: str
    national_id: Optional[NationalId] = None

    @property
    def verified(self) -> bool:
        return self.status == LOGIN_VERIFIED


def _public_key(pem: str) -> Tuple[Any, str]:
    try:
        key = load_pem_public_key(pem.encode())
    except ValueError as error:
        raise LoginConfigurationError("the identity public key is not a PEM public key") from error
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise LoginConfigurationError(f"an RSA identity key needs at least {MIN_RSA_BITS} bits")
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key, "ES256"
    raise LoginConfigurationError("the identity key must be RSA (RS256) or EC P-256 (ES256)")


def settings_from_env(env: Optional[Mapping[str, str]] = None) -> LoginSettings:
    """Read the IDENTITY_JWT_* variables (see the module docstring)."""
    env = os.environ if env is None else env
    pem = (env.get("IDENTITY_JWT_PUBLIC_KEY") or "").strip().replace("\\n", "\n")
    key_file = (env.get("IDENTITY_JWT_KEY_FILE") or "").strip()
    if not pem and key_file:
        try:
            pem = Path(key_file).read_text(encoding="ascii")
        except OSError as error:
            raise LoginConfigurationError("IDENTITY_JWT_KEY_FILE cannot be read") from error
    public_key, algorithm = _public_key(pem) if pem else (None, None)
    secret_text = env.get("IDENTITY_JWT_SECRET") or ""
    secret = secret_text.encode() if secret_text else None
    if secret is not None and len(secret) < MIN_SECRET_BYTES:
        raise LoginConfigurationError(f"IDENTITY_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
    leeway = env.get("IDENTITY_JWT_LEEWAY_SECONDS") or "30"
    try:
        leeway_seconds = float(leeway)
    except ValueError:
        raise LoginConfigurationError("IDENTITY_JWT_LEEWAY_SECONDS must be a number") from None
    return LoginSettings(
        audience=(env.get("IDENTITY_JWT_AUDIENCE") or "").strip() or None,
        issuer=(env.get("IDENTITY_JWT_ISSUER") or "").strip() or None,
        public_key=public_key,
        public_algorithm=algorithm,
        secret=secret,
        leeway_seconds=leeway_seconds,
        national_id_claim=(env.get("IDENTITY_JWT_NATIONAL_ID_CLAIM") or "national_id").strip(),
        country_claim=(env.get("IDENTITY_JWT_COUNTRY_CLAIM") or "country").strip(),
    )


_SETTING_NAMES = (
    "IDENTITY_JWT_PUBLIC_KEY",
    "IDENTITY_JWT_KEY_FILE",
    "IDENTITY_JWT_SECRET",
    "IDENTITY_JWT_AUDIENCE",
    "IDENTITY_JWT_ISSUER",
    "IDENTITY_JWT_LEEWAY_SECONDS",
    "IDENTITY_JWT_NATIONAL_ID_CLAIM",
    "IDENTITY_JWT_COUNTRY_CLAIM",
)


@lru_cache(maxsize=2)
def _cached_settings(values: Tuple[Tuple[str, str], ...]) -> LoginSettings:
    try:
        return settings_from_env(dict(values))
    except LoginConfigurationError as error:
        # A broken configuration must not break the anonymous path.
        logger.error("authenticated chat is off: %s", error)
        return LoginSettings(audience=None, issuer=None)


def current_settings() -> LoginSettings:
    return _cached_settings(tuple((name, os.environ.get(name, "")) for name in _SETTING_NAMES))


def verify_token(token: Any, settings: LoginSettings, *, today: Optional[dt.date] = None) -> Login:
    """Verify signature, audience, issuer and expiry; read the identity number."""
    if not token:
        return Login(LOGIN_ABSENT)
    if not settings.enabled:
        return Login(LOGIN_DISABLED)
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        return Login(LOGIN_INVALID)
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
        key = settings.key_for(algorithm)
        if key is None:
            logger.info("login token refused: algorithm not accepted")
            return Login(LOGIN_INVALID)
        required = ["exp", "aud"] + (["iss"] if settings.issuer else [])
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=settings.audience,
            issuer=settings.issuer,
            leeway=settings.leeway_seconds,
            options={"require": required},
        )
    except jwt.PyJWTError as error:
        # The exception names the failed check, never the token's content.
        logger.info("login token refused: %s", type(error).__name__)
        return Login(LOGIN_INVALID)
    number = claims.get(settings.national_id_claim)
    if not isinstance(number, str):
        logger.info("login token refused: no identity number claim")
        return Login(LOGIN_INVALID)
    country = claims.get(settings.country_claim)
    if country is None:
        country = SWEDEN if len(number.replace("-", "")) == 12 else DENMARK
    if country not in (DENMARK, SWEDEN):
        logger.info("login token refused: unknown country")
        return Login(LOGIN_INVALID)
    reading = check_national_id(country, number, today=today)
    if reading.national_id is None:
        logger.info("login token refused: the identity number is not valid (%s)", reading.problem)
        return Login(LOGIN_INVALID)
    return Login(LOGIN_VERIFIED, reading.national_id)


def login_of(tracker: Tracker, settings: Optional[LoginSettings] = None) -> Login:
    """The login proven by the latest message (the token is not kept anywhere)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    token = metadata.get(LOGIN_TOKEN_METADATA_KEY) if isinstance(metadata, dict) else None
    return verify_token(token, settings or current_settings())
