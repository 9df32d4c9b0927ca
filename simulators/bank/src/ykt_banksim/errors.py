"""Error answers of the bank simulator: {"error": {"code", "message"}} with a Chinese message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .service import UnknownBank

LABELS = {
    "batch_ref": "批次号",
    "callback_url": "回调地址",
    "instructions": "指令列表",
    "end_to_end_id": "端到端标识",
    "payee_name": "收款人户名",
    "payee_account": "收款账号",
    "payee_id_number": "收款人证件号码",
    "amount_fen": "金额（分）",
    "memo": "附言",
    "account_no": "账号",
    "holder_name": "户名",
    "holder_id_number": "证件号码",
    "state": "账户状态",
    "request_ref": "请求编号",
    "items": "核验列表",
    "item_id": "核验项标识",
    "seconds": "秒数",
}

ITEM_NAMES = {"instructions": "指令", "items": "核验项", "body": "账户记录"}


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


def _subject(loc: Sequence[int | str]) -> tuple[str, str]:
    """('第3条指令的', '金额（分）（amount_fen）') for ('body', 'instructions', 2, 'amount_fen')."""
    where = ""
    container = "body"
    field = ""
    for part in loc[1:] if loc and loc[0] == "body" else loc:
        if isinstance(part, int):
            where = f"第{part + 1}条{ITEM_NAMES.get(container, '记录')}的"
        else:
            container = part
            field = part
    label = f"{LABELS.get(field, field)}（{field}）" if field else "请求体"
    return where, label


def describe(error: dict[str, Any]) -> str:
    """One pydantic error in Chinese, naming the field."""
    where, label = _subject(error.get("loc", ()))
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "json_invalid":
        return "请求体不是合法的JSON"
    if kind == "missing":
        return f"{where}缺少{label}"
    if kind == "string_too_short":
        return f"{where}{label}不能为空"
    if kind == "string_too_long":
        return f"{where}{label}长度不能超过{ctx.get('max_length')}"
    if kind == "too_short":
        return f"{where}{label}不能为空"
    if kind == "too_long":
        return f"{where}{label}条数不能超过{ctx.get('max_length')}"
    if kind == "greater_than":
        return f"{where}{label}必须大于{ctx.get('gt')}"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"{where}{label}必须是整数"
    if kind == "string_type":
        return f"{where}{label}必须是字符串"
    if kind == "enum":
        return f"{where}{label}取值无效，应为：{ctx.get('expected')}"
    if kind == "value_error" and "duplicate item_id" in str(error.get("msg", "")):
        return "核验项标识（item_id）不能重复"
    if kind == "greater_than_equal":
        return f"{where}{label}不能小于{ctx.get('ge'):g}"
    if kind in {"float_type", "float_parsing"}:
        return f"{where}{label}必须是数字"
    if kind == "string_pattern_mismatch" and label.endswith("（callback_url）"):
        return f"{where}{label}必须以http://或https://开头"
    return f"{where}{label}格式不正确"


def install(app: FastAPI) -> None:
    """Answer every error in the simulator's JSON shape."""

    @app.exception_handler(UnknownBank)
    async def _unknown_bank(_: Request, exc: UnknownBank) -> JSONResponse:
        return error_response(404, "BANK_NOT_FOUND", f"本系统不受理该银行的业务：{exc.code}")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        messages = [describe(e) for e in errors[:10]]
        first_loc = [p for p in errors[0].get("loc", ()) if p != "body"] if errors else []
        field = ".".join(str(p) for p in first_loc)
        return error_response(422, "VALIDATION_ERROR", "；".join(messages), field=field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = {404: "请求的地址不存在", 405: "不支持该请求方法"}.get(exc.status_code, str(exc.detail))
        return error_response(exc.status_code, "HTTP_ERROR", message)
