"""The demo pages' demo sign-in: a stand-in for MitID / BankID in development.

It issues a login token of the form the municipality's website would give the
chat after a real login (actions/login.py verifies it), for a fictitious
person of the municipal sandbox, signed with the key scripts/local_env.sh
generated (HANDOFF_DEMO_LOGIN_KEY_FILE; the action server trusts its public
key). Only in development with that key set; everywhere else the status
route says it is off and the sign-in answers 404. Tokens live ten minutes and are never stored by the bridge.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from functools import lru_cache
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from sanic import Blueprint, Request, json

from ..errors import Unavailable, not_found
from ..rate_limit import client_address, too_many
from .common import deps
from .contract import Reply, operation
from .models import DemoLoginBody, parse_body
from .responses import DemoLoginResponse, DemoLoginStatusResponse

log = logging.getLogger("handoff.demo")

bp = Blueprint("demo", url_prefix="/api/v1/demo")

TOKEN_LIFETIME = dt.timedelta(minutes=10)


@lru_cache(maxsize=2)
def _signing_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("the demo sign-in key must be an EC P-256 private key")
    return key


def _enabled(settings) -> bool:
    return settings.is_development and bool(settings.demo_login_key_file)


def _enabled_key(request: Request) -> ec.EllipticCurvePrivateKey:
    settings = deps(request).settings
    if not _enabled(settings):
        raise not_found("demo sign-in")
    try:
        return _signing_key(Path(settings.demo_login_key_file))
    except (OSError, ValueError) as exc:
        log.error("demo sign-in key unusable: %s", type(exc).__name__)
        raise Unavailable("demo_login_unavailable", "the demo sign-in key cannot be read") from None


@bp.get("/login", ctx_auth="public")
@operation(
    tags=['demo'],
    summary="Whether the demo pages' demo sign-in is on (development only)",
    description='`enabled: false` outside development or without HANDOFF_DEMO_LOGIN_KEY_FILE.',
    security=(),
    responses={
        200: Reply(DemoLoginStatusResponse, 'On or off'),
    },
    errors=(503,),
)
async def demo_login_status(request: Request):
    """Whether the demo sign-in is on (the demo page shows it only then)."""
    if not _enabled(deps(request).settings):
        return json({"enabled": False})
    _enabled_key(request)
    return json({"enabled": True, "lifetime_seconds": int(TOKEN_LIFETIME.total_seconds()),
                 "issuer": deps(request).settings.demo_login_issuer})


@bp.post("/login", ctx_auth="public")
@operation(
    tags=['demo'],
    summary=(
        "A signed test login token for a fictitious person (development only; a stand-in for "
        "MitID / BankID)"
    ),
    description=(
        "ES256 token with the claims actions/login.py verifies (iss, aud, exp, national_id, "
        "country), signed with the key scripts/local_env.sh generated; ten minutes; never stored. "
        "The widget takes it from the page (event `ddh:login`) and sends it with every message."
    ),
    security=(),
    body=DemoLoginBody,
    responses={
        201: Reply(DemoLoginResponse, 'Issued'),
    },
    errors=(400, 404, 429, 503),
)
async def demo_login(request: Request):
    """A signed test login token for a fictitious CPR number (10 digits) or personnummer (12)."""
    key = _enabled_key(request)
    d = deps(request)
    retry = await d.limiter.hit("demo_login", client_address(request), d.settings.conversations_per_minute_per_address)
    if retry is not None:
        raise too_many(retry, "demo sign-ins")
    national_id = parse_body(request, DemoLoginBody).national_id
    now = dt.datetime.now(dt.timezone.utc)
    token = jwt.encode(
        {
            "iss": d.settings.demo_login_issuer,
            "aud": d.settings.demo_login_audience,
            "sub": secrets.token_hex(8),
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
            "national_id": national_id,
            "country": "DK" if len(national_id) == 10 else "SE",
            "demo": True,
        },
        key,
        algorithm="ES256",
    )
    return json({"token": token, "expires_in": int(TOKEN_LIFETIME.total_seconds())}, status=201)
