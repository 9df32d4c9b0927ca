"""Domain errors carry an HTTP status, a stable English code and a Chinese message."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class DomainError(Exception):
    """Base of every error a use case raises on purpose."""

    status = 400
    code = "BAD_REQUEST"

    def __init__(
        self, message: str, *, code: str | None = None, status: int | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class NotFound(DomainError):
    status = 404
    code = "NOT_FOUND"


class Conflict(DomainError):
    status = 409
    code = "CONFLICT"


class Forbidden(DomainError):
    status = 403
    code = "FORBIDDEN"


class Unauthorized(DomainError):
    status = 401
    code = "UNAUTHORIZED"


def install_error_handler(app: FastAPI) -> None:
    """Map every DomainError to its status and body, once for the whole app."""

    async def _handle(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return JSONResponse(exc.body(), status_code=exc.status)

    app.add_exception_handler(DomainError, _handle)
