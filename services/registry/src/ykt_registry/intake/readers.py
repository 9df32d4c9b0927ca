"""Open an uploaded XLSX or CSV file as a stream of rows keyed by form field (bounded memory).

The format is sniffed from the content, not the extension: a zip is read as XLSX (openpyxl,
read-only, cached values rather than formulas), anything else that looks like text as CSV. CSV may
be UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text", tab-separated) or
GBK/GB18030; the encoding is decided on the first chunk that is not plain ASCII, so a file that
starts in ASCII and turns to GBK later is still read right.

The header row is found among the first rows (a merged title row above it, or a two-row header
where some labels sit in the row above, are fine) and mapped to field keys through the form's
accepted labels, tolerant of spaces, full-width brackets and `*` markers. Rows come out lazily as
`(row_number, Cells)`; blank rows are skipped, every cell is a stripped string (numbers that are
really IDs or accounts keep their digits: never floats, never scientific notation).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tempfile
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, BinaryIO
from xml.etree.ElementTree import ParseError

from .errors import (
    FILE_EMPTY,
    FILE_ENCODING,
    FILE_HEADER_DUPLICATE,
    FILE_HEADER_MISSING,
    FILE_NOT_TABLE,
    FILE_TOO_MANY_ROWS,
    FileRejected,
)
from .forms import FORMS, FormSpec, missing_columns

DEFAULT_MAX_ROWS = 2_000_000
HEADER_SCAN_ROWS = 20
CHUNK = 1 << 16
MAX_LINE_CHARS = 1 << 20

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGIC = (
    (b"\x89PNG", "PNG 图片"),
    (b"\xff\xd8\xff", "JPEG 图片"),
    (b"GIF8", "GIF 图片"),
    (b"%PDF", "PDF 文档"),
    (b"\x1f\x8b", "gzip 压缩包"),
    (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf", "7z 压缩包"),
)
# Bytes that never occur in a text table (TAB, LF, CR, ESC-less text only).
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_DELIMITERS = (",", "\t", ";", "|")
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


class Cells(dict[str, str]):
    """One data row: field key → stripped text. `lossy` names the fields whose XLSX cell was a
    number of 16+ digits (Excel keeps 15 significant digits, so the value is no longer exact)."""

    lossy: frozenset[str] = frozenset()


# ------------------------------------------------------------------ header mapping


def _norm(label: str) -> str:
    s = unicodedata.normalize("NFKC", label)
    s = re.sub(r"[\s*]+", "", s).casefold().rstrip(":")
    return s.translate(str.maketrans("【】〔〕[]", "()()()"))


def _index(form: FormSpec) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in form.fields:
        for alias in (f.label, *f.aliases):
            out.setdefault(_norm(alias), f.key)
    return out


_INDEXES: dict[str, dict[str, str]] = {}


def _key_for(form: FormSpec, label: str) -> str | None:
    index = _INDEXES.get(form.key) or _INDEXES.setdefault(form.key, _index(form))
    n = _norm(label)
    if not n:
        return None
    if n in index:
        return index[n]
    if n.strip("()") in index:  # 【代发银行】
        return index[n.strip("()")]
    # 身份证号码(必填), 镇街(代码), 发放金额（单位：元）… : try without the remark in brackets.
    bare = re.sub(r"\(.*?\)", "", n).replace("必填", "").replace("选填", "")
    return index.get(bare) if bare else None


class _Header:
    def __init__(self, row: int, form: FormSpec, labels: list[str]) -> None:
        self.row = row
        self.form = form
        self.labels = labels
        self.columns: dict[int, str] = {}
        self.duplicates: list[tuple[str, list[str]]] = []
        seen: dict[str, list[int]] = {}
        for i, label in enumerate(labels):
            key = _key_for(form, label)
            if key is not None:
                seen.setdefault(key, []).append(i)
        for key, cols in seen.items():
            self.columns[cols[0]] = key
            if len(cols) > 1:
                self.duplicates.append((key, [f"{_col_name(c)}列“{labels[c]}”" for c in cols]))
        self.missing = missing_columns(form, seen)

    def rank(self) -> tuple[bool, int, int]:
        complete = not self.missing and not self.duplicates
        # Among complete readings prefer the form whose distinctive columns (an amount) are there.
        return (complete, len(self.form.one_of) if complete else 0, len(self.columns))


def _col_name(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def _find_header(head: list[tuple[int, list[str]]], forms: tuple[FormSpec, ...]) -> _Header:
    best: _Header | None = None
    above: list[str] = []
    for number, values in head:
        # A label merged over two header rows sits in the row above (the merged cell's top-left).
        width = max(len(values), len(above))
        labels = [
            (values[i] if i < len(values) else "") or (above[i] if i < len(above) else "")
            for i in range(width)
        ]
        for form in forms:
            h = _Header(number, form, labels)
            if len(h.columns) >= 2 and (best is None or h.rank() > best.rank()):
                best = h
        above = values
    if best is None:
        common = set.intersection(*({f.key for f in form.fields if f.required} for form in forms))
        wanted = "、".join(f"“{f.label}”" for f in forms[0].fields if f.key in common)
        raise FileRejected(
            FILE_HEADER_MISSING,
            f"未找到表头行：前{HEADER_SCAN_ROWS}行中没有可识别的列名（应包含{wanted}等列）",
        )
    if best.duplicates:
        key, cols = best.duplicates[0]
        raise FileRejected(
            FILE_HEADER_DUPLICATE,
            f"第{best.row}行表头中【{best.form.label(key)}】对应多列（{'、'.join(cols)}），请只保留一列",
        )
    if best.missing:
        raise FileRejected(
            FILE_HEADER_MISSING,
            f"缺少必填列：{'、'.join(best.missing)}（表头位于第{best.row}行）",
            missing=best.missing,
        )
    return best


# ------------------------------------------------------------------ the table


class Table:
    """An opened form file: its header mapping and a one-shot, lazy iterator of data rows."""

    def __init__(
        self,
        *,
        fmt: str,
        filename: str,
        header: _Header,
        rows: Iterator[tuple[int, Cells]],
        closers: list[Callable[[], object]],
        sheet: str | None = None,
        delimiter: str | None = None,
        encoding: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.format = fmt
        self.filename = filename
        self.form: FormSpec = header.form
        self.header_row = header.row
        self.columns: dict[str, str] = {key: header.labels[i] for i, key in header.columns.items()}
        self.sheet = sheet
        self.delimiter = delimiter
        self._encoding = encoding
        self._rows = rows
        self._closers = closers
        self._started = False

    @property
    def encoding(self) -> str | None:
        """CSV text encoding as detected so far ('ascii' until a non-ASCII byte was seen)."""
        return self._encoding()

    def __iter__(self) -> Iterator[tuple[int, Cells]]:
        if self._started:
            raise RuntimeError("a Table streams its rows once")
        self._started = True
        try:
            yield from self._rows
        finally:
            self.close()

    rows = __iter__

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_table(
    data: bytes | BinaryIO | Path,
    filename: str,
    *,
    form: FormSpec | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> Table:
    """Open an uploaded file; `form=None` picks the form whose columns the header has.

    Raises `FileRejected` (FILE_EMPTY, FILE_NOT_TABLE, FILE_ENCODING, FILE_HEADER_MISSING,
    FILE_HEADER_DUPLICATE); iterating may raise FILE_TOO_MANY_ROWS, FILE_ENCODING or
    FILE_NOT_TABLE for damage found further into the file.
    """
    closers: list[Callable[[], object]] = []
    stream: IO[bytes]
    if isinstance(data, bytes | bytearray):
        stream = io.BytesIO(data)
    elif isinstance(data, Path):
        stream = data.open("rb")
        closers.append(stream.close)
    else:
        stream = data
    forms = (form,) if form is not None else FORMS
    try:
        start = stream.tell() if stream.seekable() else 0
        head = stream.read(CHUNK)
        if not head:
            raise FileRejected(FILE_EMPTY, "文件为空（0字节）", filename=filename)
        if head.startswith(_ZIP_MAGIC):
            if stream.seekable():
                stream.seek(start)
            else:  # zip needs random access: spool the upload (to disk past 16 MB)
                spool = tempfile.SpooledTemporaryFile(max_size=16 << 20)
                closers.append(spool.close)
                spool.write(head)
                while chunk := stream.read(CHUNK):
                    spool.write(chunk)
                spool.seek(0)
                stream = spool
            return _open_xlsx(stream, filename, forms, max_rows, closers)
        _refuse_binary(head, filename)
        rest: Iterable[bytes] = iter(lambda: stream.read(CHUNK), b"")
        return _open_csv(head, rest, filename, forms, max_rows, closers)
    except BaseException:
        for close in reversed(closers):
            close()
        raise


def _refuse_binary(head: bytes, filename: str) -> None:
    if head.startswith(_OLE2_MAGIC):
        raise FileRejected(
            FILE_NOT_TABLE,
            "不支持旧版 Excel（.xls）或加密的工作簿，请另存为未加密的 .xlsx 或 CSV 后重新上传",
            filename=filename,
        )
    for magic, what in _BINARY_MAGIC:
        if head.startswith(magic):
            raise FileRejected(
                FILE_NOT_TABLE, f"文件是{what}，不是表格（请上传 .xlsx 或 CSV）", filename=filename
            )
    if not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and _BINARY_BYTES.search(head):
        raise FileRejected(FILE_NOT_TABLE, "文件不是表格（请上传 .xlsx 或 CSV）", filename=filename)


def _with_row_limit(rows: Iterator[tuple[int, Cells]], max_rows: int) -> Iterator[tuple[int, Cells]]:
    for n, item in enumerate(rows, start=1):
        if n > max_rows:
            raise FileRejected(FILE_TOO_MANY_ROWS, f"数据行数超过上限（{max_rows}行），请拆分后分批上传")
        yield item


def _data_rows(
    raw: Iterator[tuple[int, list[Any]]],
    columns: list[tuple[int, str]],
    text: Callable[[Any], str],
    lossy_of: Callable[[Any], bool] | None,
) -> Iterator[tuple[int, Cells]]:
    for number, values in raw:
        width = len(values)
        cells = Cells()
        lossy: list[str] = []
        for i, key in columns:
            v = values[i] if i < width else None
            cells[key] = text(v) if v is not None else ""
            if lossy_of is not None and v is not None and lossy_of(v):
                lossy.append(key)
        if lossy:
            cells.lossy = frozenset(lossy)
        if any(cells.values()):  # blank rows (also trailing formatted ones) are no data
            yield number, cells


# ------------------------------------------------------------------ XLSX


def _xlsx_text(v: Any) -> str:
    t = type(v)
    if t is str:
        return str(v).strip().strip(_ZERO_WIDTH).strip()
    if t is int:
        return str(v)
    if t is float:
        if v.is_integer():
            # 15 significant digits, as Excel shows them; never 1.10105E+17.
            return str(int(v)) if abs(v) < 1e15 else format(Decimal(f"{v:.15g}"), "f")
        s = f"{v:.15g}"
        return format(Decimal(s), "f") if "e" in s else s
    if t is bool:
        return "TRUE" if v else "FALSE"
    if t is datetime:
        return v.date().isoformat() if v.time() == time() else v.isoformat(sep=" ")
    if t in (date, time):
        return str(v.isoformat())
    if t is timedelta:
        return str(v)
    return str(v).strip()


def _xlsx_lossy(v: Any) -> bool:
    return type(v) is float and v.is_integer() and abs(v) >= 1e15


def _open_xlsx(
    stream: IO[bytes],
    filename: str,
    forms: tuple[FormSpec, ...],
    max_rows: int,
    closers: list[Callable[[], object]],
) -> Table:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(stream, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # a corrupt zip, a .docx, a zip of CSVs…: all "not a workbook"
        raise FileRejected(
            FILE_NOT_TABLE, "文件已损坏或不是 Excel 工作簿（.xlsx），无法读取", filename=filename
        ) from exc
    closers.append(wb.close)
    sheets = [ws for ws in wb.worksheets if hasattr(ws, "reset_dimensions")]
    if not sheets:
        raise FileRejected(FILE_NOT_TABLE, "工作簿中没有工作表", filename=filename)
    active = wb.active
    sheets.sort(key=lambda ws: ws is not active)  # the sheet Excel opens on, then the others
    first_error: FileRejected | None = None
    any_rows = False
    for ws in sheets:
        ws.reset_dimensions()  # a wrong <dimension> would cut columns off in read-only mode
        raw = _guard_xlsx(_xlsx_rows(ws), filename)
        head = _take_head(raw, _xlsx_text)
        if not head:
            continue
        any_rows = True
        try:
            header = _find_header(head[0], forms)
        except FileRejected as exc:
            first_error = first_error or exc
            raw.close()
            continue
        rows = _replay(head, header.row, raw)
        columns = sorted(header.columns.items())
        return Table(
            fmt="xlsx",
            filename=filename,
            header=header,
            rows=_with_row_limit(_data_rows(rows, columns, _xlsx_text, _xlsx_lossy), max_rows),
            closers=closers,
            sheet=ws.title,
        )
    if not any_rows:
        raise FileRejected(FILE_EMPTY, "工作簿中没有任何数据", filename=filename)
    assert first_error is not None
    raise first_error


def _xlsx_rows(ws: Any) -> Iterator[tuple[int, list[Any]]]:
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        yield number, list(values)


def _guard_xlsx(
    rows: Iterator[tuple[int, list[Any]]], filename: str
) -> Generator[tuple[int, list[Any]], None, None]:
    """Damage inside the sheet's XML or zip stream surfaces while iterating: name it."""
    number = 0
    try:
        for number, values in rows:
            yield number, values
    except (zipfile.BadZipFile, zlib.error, ParseError, EOFError, KeyError, ValueError) as exc:
        raise FileRejected(
            FILE_NOT_TABLE, f"工作簿已损坏：第{number + 1}行附近无法读取", filename=filename
        ) from exc


def _take_head(
    raw: Iterator[tuple[int, list[Any]]], text: Callable[[Any], str]
) -> tuple[list[tuple[int, list[str]]], list[tuple[int, list[Any]]]] | None:
    """The first non-blank rows (for the header search), as text and as read; None if no rows."""
    as_text: list[tuple[int, list[str]]] = []
    as_read: list[tuple[int, list[Any]]] = []
    for number, values in raw:
        labels = [text(v) if v is not None else "" for v in values]
        while labels and not labels[-1]:
            labels.pop()
        if not labels:
            continue
        as_text.append((number, labels))
        as_read.append((number, values))
        if len(as_text) >= HEADER_SCAN_ROWS:
            break
    return (as_text, as_read) if as_text else None


def _replay(
    head: tuple[list[tuple[int, list[str]]], list[tuple[int, list[Any]]]],
    header_row: int,
    raw: Iterator[tuple[int, list[Any]]],
) -> Iterator[tuple[int, list[Any]]]:
    for number, values in head[1]:
        if number > header_row:
            yield number, values
    yield from raw


# ------------------------------------------------------------------ CSV


class _Decoding:
    """Incremental decoding whose encoding is chosen on the first chunk that is not ASCII."""

    def __init__(self, head: bytes) -> None:
        self.encoding: str | None = None
        self._decoder: codecs.IncrementalDecoder | None = None
        if head.startswith(codecs.BOM_UTF8):
            self._use("utf-8-sig")
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            self._use("utf-16")

    def _use(self, encoding: str) -> None:
        self.encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="strict")

    def decode(self, chunk: bytes, *, final: bool = False, line: int = 0) -> str:
        if self._decoder is None:
            if chunk.isascii():
                self.encoding = "ascii"
                return chunk.decode("ascii")
            self._choose(chunk)
        assert self._decoder is not None
        try:
            return str(self._decoder.decode(chunk, final))
        except UnicodeDecodeError as exc:
            raise FileRejected(
                FILE_ENCODING,
                f"第{line}行附近含有无法识别的字符（文件编码应为 UTF-8 或 GBK/GB18030）",
                encoding=self.encoding,
            ) from exc

    def _choose(self, chunk: bytes) -> None:
        for encoding in ("utf-8", "gb18030"):
            try:
                codecs.getincrementaldecoder(encoding)(errors="strict").decode(chunk, False)
            except UnicodeDecodeError:
                continue
            self._use(encoding)
            return
        raise FileRejected(FILE_ENCODING, "无法识别文件的字符编码（应为 UTF-8 或 GBK/GB18030）")


def _text_lines(decoding: _Decoding, first: str, rest: Iterable[bytes]) -> Iterator[str]:
    """Complete lines (with their end) for the csv module, which may continue quoted fields."""
    newline = "\n" if "\n" in first or "\r" not in first else "\r"
    pending = ""
    lines = 0

    def split(text: str) -> Iterator[str]:
        nonlocal pending, lines
        parts = (pending + text).split(newline)
        pending = parts.pop()
        if len(pending) > MAX_LINE_CHARS:
            raise FileRejected(FILE_NOT_TABLE, f"第{lines + 1}行过长，文件不是有效的表格")
        lines += len(parts)
        for p in parts:
            yield p + "\n"

    yield from split(first)
    for chunk in rest:
        yield from split(decoding.decode(chunk, line=lines + 1))
    yield from split(decoding.decode(b"", final=True, line=lines + 1))
    if pending:
        yield pending


def _csv_text(v: str) -> str:
    s = v.strip()
    if s and s[0] in _ZERO_WIDTH or s and s[-1] in _ZERO_WIDTH:
        s = s.strip(_ZERO_WIDTH).strip()
    if s.startswith('="') and s.endswith('"') and len(s) >= 3:  # Excel's keep-as-text idiom
        s = s[2:-1]
    return s


def _open_csv(
    head: bytes,
    rest: Iterable[bytes],
    filename: str,
    forms: tuple[FormSpec, ...],
    max_rows: int,
    closers: list[Callable[[], object]],
) -> Table:
    decoding = _Decoding(head)
    first = decoding.decode(head, line=1)
    sample = first[:CHUNK]
    delimiter = max(_DELIMITERS, key=lambda d: (sample.count(d), d == ","))
    reader = csv.reader(_text_lines(decoding, first, rest), delimiter=delimiter)

    def records() -> Iterator[tuple[int, list[Any]]]:
        number = 0
        try:
            for number, values in enumerate(reader, start=1):
                yield number, values
        except csv.Error as exc:
            raise FileRejected(FILE_NOT_TABLE, f"第{number + 1}行无法按 CSV 解析：{exc}") from exc

    raw = records()
    head_rows = _take_head(raw, _csv_text)
    if head_rows is None:
        raise FileRejected(FILE_EMPTY, "文件中没有任何数据", filename=filename)
    header = _find_header(head_rows[0], forms)
    columns = sorted(header.columns.items())
    return Table(
        fmt="csv",
        filename=filename,
        header=header,
        rows=_with_row_limit(
            _data_rows(_replay(head_rows, header.row, raw), columns, _csv_text, None), max_rows
        ),
        closers=closers,
        delimiter=delimiter,
        encoding=lambda: decoding.encoding,
    )


__all__ = ["DEFAULT_MAX_ROWS", "Cells", "FileRejected", "Table", "open_table"]
