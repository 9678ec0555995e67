"""Answers in Google's error shape (google.rpc.Status over REST), shared by every route of the emulator."""

from __future__ import annotations

from typing import Any

BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


class ApiError(Exception):
    """An answer in Google's error shape: {"error": {"code", "message", "status", "details"?}}."""

    def __init__(self, code: int, status: str, message: str, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.body: dict[str, Any] = {"error": {"code": code, "message": message, "status": status}}
        if details:
            self.body["error"]["details"] = details
        self.code = code
        self.status = status
        self.message = message


def invalid_argument(message: str, violations: list[tuple[str, str]] | None = None) -> ApiError:
    """400 INVALID_ARGUMENT, with a BadRequest detail naming each field when there are any."""
    details = None
    if violations:
        details = [{"@type": BAD_REQUEST, "fieldViolations": [{"field": f, "description": d} for f, d in violations]}]
    return ApiError(400, "INVALID_ARGUMENT", message, details)


def unknown_field(name: str, where: str) -> tuple[str, str]:
    """Google's words for a field the message does not have; at the top level there is no `at '…'` clause."""
    place = f" at '{where}'" if where else ""
    return where, f'Invalid JSON payload received. Unknown name "{name}"{place}: Cannot find field.'
