"""Errors as RFC 9457 problem details (application/problem+json)."""

from __future__ import annotations

import logging
from typing import Any

from sanic import HTTPResponse, Request
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.response import json

logger = logging.getLogger("municipal_sandbox.errors")

PROBLEM_CONTENT_TYPE = "application/problem+json"
_TYPE_BASE = "https://sandbox.invalid/problems/"


class ProblemError(SanicException):
    """An error answered with a problem document.

    `code` is a stable machine-readable name; `detail` must never contain
    personal data, since clients may log it.
    """

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title, status_code=status, headers=headers)
        self.code = code
        self.title = title
        self.detail = detail


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTTPResponse:
    body: dict[str, Any] = {"type": _TYPE_BASE + code, "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    return json(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def invalid_request(detail: str) -> ProblemError:
    return ProblemError(422, "invalid_request", "The request is not valid", detail)


class ProblemErrorHandler(ErrorHandler):
    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, ProblemError):
            return problem_response(
                exception.status_code,
                exception.code,
                exception.title,
                exception.detail,
                headers=dict(exception.headers or {}),
            )
        if isinstance(exception, SanicException):
            status = exception.status_code
            code = {
                400: "bad_request",
                401: "unauthorized",
                404: "not_found",
                405: "method_not_allowed",
                413: "payload_too_large",
            }.get(status, "error")
            # Sanic's messages are about routing and parsing, never request data.
            return problem_response(
                status, code, str(exception) or "Error", None, headers=dict(exception.headers or {})
            )
        logger.error("unhandled error on %s %s", request.method, request.path, exc_info=exception)
        return problem_response(500, "internal_error", "Internal error")
