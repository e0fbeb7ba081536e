"""Helpers shared by the system blueprints: auth, failure switch, bodies."""

from __future__ import annotations

import hmac
import re
from typing import Any

from ddh_privacy.national_id import COUNTRIES, InvalidNationalId, validate_national_id
from sanic import Blueprint, Request

from ..problems import ProblemError, invalid_request

LANGUAGES = ("da", "sv")
DK_CASE_KINDS = ("byggesag", "socialt_botilbud", "plejebolig", "fritidstilbud", "institutionsplads")
SE_CASE_KINDS = ("bygglov", "forskoleplats", "ekonomiskt_bistand")
CASE_KINDS = DK_CASE_KINDS + SE_CASE_KINDS

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{8,128}$")


def custom_method(resource: str, verb: str) -> str:
    """Path of a custom method such as "/cases:lookup".

    Sanic's router percent-encodes a literal ":" in a static path, so the
    path is registered as a parameter whose pattern matches only that text.
    """
    return f"/<custom_method:{re.escape(resource)}:{verb}>"


def protect(blueprint: Blueprint, system: str, *, failure_switch: bool = True) -> None:
    """Apply the failure switch, then bearer-token authentication, to every
    route of the blueprint. A system that is down does not authenticate."""

    @blueprint.on_request
    async def _guard(request: Request) -> None:
        if failure_switch:
            await request.app.ctx.failures.apply(system)
        expected = request.app.ctx.settings.tokens[system]
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
            raise ProblemError(
                401,
                "unauthorized",
                "A valid bearer token is required",
                headers={"WWW-Authenticate": f'Bearer realm="{system}"'},
            )


def json_object(request: Request) -> dict[str, Any]:
    body = request.json  # Sanic answers 400 for malformed JSON
    if not isinstance(body, dict):
        raise invalid_request("The body must be a JSON object.")
    return body


def reject_unknown_fields(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise invalid_request(f"Unknown fields: {', '.join(unknown)}.")


def person_from(body: dict[str, Any]) -> tuple[str, str]:
    country = body.get("country")
    if country not in COUNTRIES:
        raise invalid_request("country must be DK or SE.")
    try:
        # The systems take personnummer with their century only (12 digits).
        return country, validate_national_id(country, body.get("national_id"), require_century=True)
    except InvalidNationalId as error:
        # The message describes the rule, never the number.
        raise ProblemError(422, "invalid_national_id", "Invalid identity number", str(error)) from None


def optional_language(body: dict[str, Any], country: str) -> str:
    if "language" not in body:
        return "da" if country == "DK" else "sv"
    language = body["language"]
    if language not in LANGUAGES:
        raise invalid_request("language must be da or sv.")
    return language


def optional_kinds(body: dict[str, Any]) -> list[str] | None:
    if "kinds" not in body:
        return None
    kinds = body["kinds"]
    if (
        not isinstance(kinds, list)
        or not kinds
        or any(not isinstance(kind, str) or kind not in CASE_KINDS for kind in kinds)
        or len(set(kinds)) != len(kinds)
    ):
        raise invalid_request(f"kinds must be a non-empty list of distinct kinds among: {', '.join(CASE_KINDS)}.")
    return sorted(kinds)


def idempotency_key(request: Request) -> str:
    key = request.headers.get("idempotency-key")
    if not key or not _IDEMPOTENCY_KEY.match(key):
        raise ProblemError(
            400,
            "idempotency_key_required",
            "Idempotency-Key header required",
            "Send a unique key of 8 to 128 printable characters, and reuse it for retries.",
        )
    return key
