"""API errors: every failure leaves as a JSON body with a stable code."""

from __future__ import annotations


class ApiError(Exception):
    status = 400

    def __init__(self, code: str, message: str, status: int | None = None, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.extra = extra

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


def bad_request(code: str, message: str, **extra) -> ApiError:
    return ApiError(code, message, 400, **extra)


def unauthorized(message: str = "authentication required") -> ApiError:
    return ApiError("unauthorized", message, 401)


def forbidden(message: str = "not allowed for this role") -> ApiError:
    return ApiError("forbidden", message, 403)


def not_found(what: str) -> ApiError:
    return ApiError("not_found", f"{what} not found", 404)


def conflict(code: str, message: str, **extra) -> ApiError:
    return ApiError(code, message, 409, **extra)
