"""Uploaded files: the request body streamed to a temporary file (never held in memory), hashed
on the way. Clients send the file as the raw body (`curl --data-binary @名册.xlsx`) and name it
with `?filename=`; the content decides the format, not the name."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from ykt_kit.errors import DomainError

MAX_UPLOAD_BYTES = 1024 * 1024 * 1024  # 1 GiB: a 2,000,000-row CSV is about 250 MB


class UploadTooLarge(DomainError):
    code = "FILE_TOO_LARGE"
    status = 413


@dataclass(frozen=True)
class Upload:
    path: Path
    sha256: str
    size: int
    filename: str


@asynccontextmanager
async def spooled(request: Request, filename: str | None) -> AsyncIterator[Upload]:
    """The request body as a temporary file, removed afterwards."""
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryDirectory(prefix="ykt-upload-") as d:
        path = Path(d) / "upload"
        with path.open("wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise UploadTooLarge(f"文件超过{MAX_UPLOAD_BYTES // 1024 // 1024}MB，请拆分后分批上传")
                digest.update(chunk)
                fh.write(chunk)
        name = (filename or "upload").replace("/", "_").replace("\\", "_")[:200]
        yield Upload(path=path, sha256=digest.hexdigest(), size=size, filename=name)
