"""Signed login tokens as the municipality's website would issue them after a
MitID / BankID login, for tests of authenticated chat (actions/login.py).

Keys are generated per test session; nothing here is a real key.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

AUDIENCE = "ddh-chat"
ISSUER = "https://login.sandbox.invalid"


@dataclass
class LoginIssuer:
    """An EC P-256 (ES256) signing key and the settings that trust it."""

    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    audience: str = AUDIENCE
    issuer: str = ISSUER

    @property
    def public_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def env(self) -> Dict[str, str]:
        """The action server's IDENTITY_JWT_* settings for this issuer."""
        return {
            "IDENTITY_JWT_PUBLIC_KEY": self.public_pem,
            "IDENTITY_JWT_AUDIENCE": self.audience,
            "IDENTITY_JWT_ISSUER": self.issuer,
        }

    def token(
        self,
        national_id: str,
        country: Optional[str] = None,
        *,
        lifetime: dt.timedelta = dt.timedelta(minutes=10),
        key: Any = None,
        algorithm: str = "ES256",
        **claims: Any,
    ) -> str:
        now = dt.datetime.now(dt.timezone.utc)
        payload: Dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": secrets.token_hex(8),
            "iat": now,
            "exp": now + lifetime,
            "national_id": national_id,
        }
        if country:
            payload["country"] = country
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, key if key is not None else self.private_key, algorithm=algorithm)
