"""Error answers of the treasury simulator: {"error": {"code", "message"}} with a Chinese message."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .service import ApplicationConflict, ApplicationNotFound, label


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


def describe(error: dict[str, Any]) -> str:
    """One pydantic error in Chinese, naming the field."""
    loc = [p for p in error.get("loc", ()) if p != "body"]
    field = str(loc[-1]) if loc else ""
    name = label(field) if field else "请求体"
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "json_invalid":
        return "请求体不是合法的JSON"
    if kind == "missing":
        return f"缺少{name}"
    if kind == "string_too_short":
        return f"{name}不能为空"
    if kind == "string_too_long":
        return f"{name}长度不能超过{ctx.get('max_length')}"
    if kind == "greater_than":
        return f"{name}必须大于{ctx.get('gt')}"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"{name}必须是整数"
    if kind == "string_type":
        return f"{name}必须是字符串"
    return f"{name}格式不正确"


def install(app: FastAPI) -> None:
    """Answer every error in the simulator's JSON shape."""

    @app.exception_handler(ApplicationConflict)
    async def _conflict(_: Request, exc: ApplicationConflict) -> JSONResponse:
        return error_response(409, "APPLICATION_CONFLICT", str(exc), fields=exc.fields)

    @app.exception_handler(ApplicationNotFound)
    async def _not_found(_: Request, exc: ApplicationNotFound) -> JSONResponse:
        return error_response(404, "APPLICATION_NOT_FOUND", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        first_loc = [p for p in errors[0].get("loc", ()) if p != "body"] if errors else []
        return error_response(
            422,
            "VALIDATION_ERROR",
            "；".join(describe(e) for e in errors[:10]),
            field=".".join(str(p) for p in first_loc),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = {404: "请求的地址不存在", 405: "不支持该请求方法"}.get(exc.status_code, str(exc.detail))
        return error_response(exc.status_code, "HTTP_ERROR", message)
