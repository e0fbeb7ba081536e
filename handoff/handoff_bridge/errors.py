"""Domain errors: what went wrong, as a stable code and a message.

Services and routes raise these; one handler (app.create_app) turns them
into the API's JSON error body `{"error": {"code", "message", ...extra}}`
with the HTTP status of the error's kind (`status` below). Extra keyword
arguments go into the body (e.g. `field`, `problems`); `retry_after` also
becomes the `Retry-After` header.
"""

from __future__ import annotations


class ApiError(Exception):
    """Base of every error a client is told about."""

    status = 400

    def __init__(self, code: str, message: str, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


class Invalid(ApiError):
    """The input is not acceptable (a field, a query argument, the body)."""
    status = 400


class Unauthorized(ApiError):
    """No valid credentials."""
    status = 401


class Forbidden(ApiError):
    """Valid credentials, but not allowed to do this."""
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    """The state does not allow it (already claimed, changed meanwhile, exists)."""
    status = 409


class TooLarge(ApiError):
    """The input is well formed but longer than the bridge accepts."""
    status = 413


class Unprocessable(ApiError):
    """Well-formed input the bridge cannot act on (no queue serves it, unknown reason)."""
    status = 422


class RateLimited(ApiError):
    """Too many attempts; `retry_after` seconds say when to try again."""
    status = 429

    def __init__(self, code: str, message: str, *, retry_after: int, **extra):
        super().__init__(code, message, retry_after=retry_after, **extra)


class Unavailable(ApiError):
    """A resource the request needs is not available right now."""
    status = 503


def bad_request(code: str, message: str, **extra) -> Invalid:
    return Invalid(code, message, **extra)


def unauthorized(message: str = "authentication required") -> Unauthorized:
    return Unauthorized("unauthorized", message)


def forbidden(message: str = "not allowed for this role") -> Forbidden:
    return Forbidden("forbidden", message)


def not_found(what: str) -> NotFound:
    return NotFound("not_found", f"{what} not found")


def conflict(code: str, message: str, **extra) -> Conflict:
    return Conflict(code, message, **extra)
