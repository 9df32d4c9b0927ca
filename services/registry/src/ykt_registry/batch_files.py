"""The rows a batch pipeline consumes, and TEMPORARY readers that produce them from files.

The interface (`IntakeRow`, `RowSource`) is what `ykt_registry.batches` consumes: an iterator
of rows already parsed from a file, each either an `IntakeRow` or a `RowError` for a row the
reader could not parse. Structural and reference checks happen in the pipeline.

CSV and XLSX files are read by `ykt_registry.intake` (encoding sniffing, a title row or merged
cells above the header, Chinese or English column labels, numbers typed into ID/account cells);
JSON documents and JSON Lines by the small readers below. Readers run in a worker thread and
stream (constant memory whatever the file's size), except JSON documents, which are bounded by
`max_json_bytes`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import orjson

from .domain.model import FileTooLarge, FileUnreadable, RowError, fen_from_yuan
from .intake import PAYMENT_FORM, FormSpec, open_table
from .intake.forms import FieldSpec

FORMATS = ("csv", "xlsx", "json", "ndjson")


@dataclass(slots=True)
class IntakeRow:
    """One record as parsed from a file: text as found (stripped), amount or quantity parsed.

    `row` is the row number the clerk sees (the spreadsheet's own row, or the 1-based index of
    a JSON record); empty cells are None."""

    row: int
    id_number: str | None
    name: str | None
    account_no: str | None
    bank_code: str | None
    amount_fen: int | None
    quantity: Decimal | None
    town_code: str | None
    village: str | None


RowSource = Iterator[IntakeRow | RowError]


# ------------------------------------------------------------------ readers

#: Column headings accepted for each field (compared after strip + lower-case).
COLUMNS: dict[str, tuple[str, ...]] = {
    "id_number": ("id_number", "身份证号码", "身份证号", "证件号码", "社保号码"),
    "name": ("name", "姓名", "户名"),
    "account_no": ("account_no", "账号", "一卡通账号", "银行账号", "卡号", "社保卡账号"),
    "bank_code": ("bank_code", "代发银行", "代发银行代码", "银行代码"),
    "amount_fen": ("amount_fen", "金额（分）", "金额(分)"),
    "amount_yuan": ("amount", "amount_yuan", "金额", "金额（元）", "金额(元)", "发放金额", "发放金额（元）"),
    "quantity": ("quantity", "数量", "计算数量"),
    "town_code": ("town_code", "镇街代码", "镇街"),
    "village": ("village", "村（社区）", "村(社区)", "村社区", "村"),
}
LABELS = {
    "id_number": "身份证号码",
    "name": "姓名",
    "account_no": "账号",
    "bank_code": "代发银行代码",
    "amount_fen": "金额",
    "quantity": "数量",
    "town_code": "镇街代码",
    "village": "村（社区）",
}
_ALIAS = {alias.lower(): field for field, aliases in COLUMNS.items() for alias in aliases}


def read_rows(path: Path, fmt: str, *, max_json_bytes: int) -> RowSource:
    """Rows of the file at `path` in format `fmt` (see `FORMATS`)."""
    if fmt in ("csv", "xlsx"):
        return _table_rows(path, fmt)
    if fmt == "json":
        return _json_rows(path, max_json_bytes)
    if fmt == "ndjson":
        return _ndjson_rows(path)
    raise FileUnreadable(f"不支持的文件格式 {fmt}，请使用 CSV、XLSX、JSON 或 JSON Lines", format=fmt)


def sniff_format(head: bytes, *, content_type: str | None, filename: str | None) -> str:
    """The format of an upload: from its content type or file name, else from its first bytes."""
    ct = (content_type or "").split(";")[0].strip().lower()
    by_type = {
        "text/csv": "csv",
        "application/csv": "csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
        "application/json": "json",
        "application/x-ndjson": "ndjson",
        "application/jsonl": "ndjson",
        "application/x-jsonlines": "ndjson",
    }
    if ct in by_type:
        return by_type[ct]
    ext = (filename or "").rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    by_ext = {
        "csv": "csv",
        "txt": "csv",
        "xlsx": "xlsx",
        "json": "json",
        "ndjson": "ndjson",
        "jsonl": "ndjson",
    }
    if ext in by_ext:
        return by_ext[ext]
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if first == b"[":
        return "json"
    if first == b"{":
        return "ndjson" if b"\n{" in head.strip() else "json"
    return "csv"


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)  # a number typed into a spreadsheet cell
    s = str(v).strip()
    return s or None


def _row(n: int, get: Mapping[str, Any]) -> IntakeRow | RowError:
    amount_fen: int | None = None
    quantity: Decimal | None = None
    raw_fen, raw_yuan, raw_qty = (
        _text(get.get("amount_fen")),
        _text(get.get("amount_yuan")),
        _text(get.get("quantity")),
    )
    try:
        if raw_fen is not None:
            if not raw_fen.isdigit():
                raise ValueError(raw_fen)
            amount_fen = int(raw_fen)
        elif raw_yuan is not None:
            amount_fen = fen_from_yuan(raw_yuan)
    except ValueError:
        return RowError(n, "amount_fen", "AMOUNT_INVALID", f"第{n}行：金额须为不小于0的数字，最多两位小数")
    if raw_qty is not None:
        try:
            quantity = Decimal(raw_qty.replace(",", ""))
        except InvalidOperation:
            return RowError(n, "quantity", "QUANTITY_INVALID", f"第{n}行：数量须为数字")
    return IntakeRow(
        row=n,
        id_number=_text(get.get("id_number")),
        name=_text(get.get("name")),
        account_no=_text(get.get("account_no")),
        bank_code=_text(get.get("bank_code")),
        amount_fen=amount_fen,
        quantity=quantity,
        town_code=_text(get.get("town_code")),
        village=_text(get.get("village")),
    )


#: The payment-batch columns as `ykt_registry.intake` reads them, plus an amount in fen.
BATCH_FORM = FormSpec(
    key="batch",
    title="补贴发放清单",
    fields=(
        *PAYMENT_FORM.fields,
        FieldSpec("amount_fen", "金额（分）", ("金额(分)", "发放金额(分)", "amount_fen"), False),
    ),
    one_of=(("amount", "amount_fen", "quantity"),),
)
#: intake's field keys → the keys `_row` reads
_FROM_INTAKE = {
    "id_number": "id_number",
    "name": "name",
    "account_no": "account_no",
    "bank": "bank_code",
    "amount": "amount_yuan",
    "amount_fen": "amount_fen",
    "quantity": "quantity",
    "town": "town_code",
    "village": "village",
}


def _table_rows(path: Path, fmt: str) -> RowSource:
    with path.open("rb") as fh, open_table(fh, f"upload.{fmt}", form=BATCH_FORM) as table:
        for n, cells in table:
            lost = sorted(getattr(cells, "lossy", ()))
            if lost:
                label = BATCH_FORM.label(lost[0])
                yield RowError(
                    n,
                    _FROM_INTAKE.get(lost[0], lost[0]),
                    "NUMBER_PRECISION_LOST",
                    f"第{n}行：{label}在表格中保存为数字，后几位已丢失，请把该列设为“文本”后重新填写",
                )
                continue
            yield _row(n, {ours: cells.get(theirs) for theirs, ours in _FROM_INTAKE.items()})


def _json_rows(path: Path, max_bytes: int) -> RowSource:
    size = path.stat().st_size
    if size > max_bytes:
        raise FileTooLarge(
            f"JSON 文件超过 {max_bytes // (1 << 20)} MB，大批次请使用 CSV 或 JSON Lines（每行一条记录）",
            limit_bytes=max_bytes,
        )
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise FileUnreadable(f"JSON 文件无法解析：{exc}") from exc
    records = doc.get("records") if isinstance(doc, dict) else doc
    if not isinstance(records, list):
        raise FileUnreadable("JSON 文件应为记录数组，或含 records 数组的对象")
    for n, rec in enumerate(records, start=1):
        yield _json_record(n, rec)


def _json_record(n: int, rec: Any) -> IntakeRow | RowError:
    if not isinstance(rec, dict):
        return RowError(n, "", "RECORD_NOT_OBJECT", f"第{n}条：记录应为对象")
    fields: dict[str, Any] = {}
    for k, v in rec.items():
        f = _ALIAS.get(str(k).strip().lower())
        if f is not None:
            fields[f] = v
    return _row(n, fields)


def _ndjson_rows(path: Path) -> RowSource:
    with path.open("rb") as f:
        n = 0
        for line in f:
            if not line.strip():
                continue
            n += 1
            try:
                rec = orjson.loads(line)
            except orjson.JSONDecodeError:
                yield RowError(n, "", "RECORD_UNREADABLE", f"第{n}条：不是合法的 JSON 对象")
                continue
            yield _json_record(n, rec)
