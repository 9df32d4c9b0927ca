"""Why a whole file is refused (as opposed to the row-level issues of `forms`)."""

from __future__ import annotations

from typing import Any

from ykt_kit.errors import DomainError

FILE_EMPTY = "FILE_EMPTY"  # 0 bytes, or no row with any content
FILE_NOT_TABLE = "FILE_NOT_TABLE"  # an image, random bytes, a corrupt or foreign zip, an old .xls
FILE_ENCODING = "FILE_ENCODING"  # text that is neither UTF-8/16 nor GB18030
FILE_HEADER_MISSING = "FILE_HEADER_MISSING"  # no header row, or required columns absent
FILE_HEADER_DUPLICATE = "FILE_HEADER_DUPLICATE"  # two columns mean the same field
FILE_TOO_MANY_ROWS = "FILE_TOO_MANY_ROWS"  # more data rows than the configured limit

FILE_CODES = (
    FILE_EMPTY,
    FILE_NOT_TABLE,
    FILE_ENCODING,
    FILE_HEADER_MISSING,
    FILE_HEADER_DUPLICATE,
    FILE_TOO_MANY_ROWS,
)


class FileRejected(DomainError):
    """The uploaded file cannot be read as a form at all; `code` says why, `message` in Chinese."""

    status = 422
    code = "FILE_REJECTED"

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message, code=code, **details)
