"""Receiving a register file: spooled to a temporary file (never held whole in memory) and hashed
on the way; removed when the request is done."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from ykt_kit.errors import DomainError

MAX_UPLOAD_BYTES = 256 * 1024 * 1024  # a district's largest register is a few MB


@dataclass(frozen=True)
class Upload:
    """An uploaded file on disk with its SHA-256 and size, and the name to keep for it."""

    path: Path
    sha256: str
    size: int
    filename: str


@asynccontextmanager
async def spooled(
    request: Request, filename: str | None, *, max_bytes: int = MAX_UPLOAD_BYTES
) -> AsyncIterator[Upload]:
    """The request body as a temporary file (the content decides the format, not the name). A 0-byte
    body is left to the reader, which names it FILE_EMPTY."""
    fd, name = tempfile.mkstemp(prefix="ykt-register-", suffix=".upload")
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as f:
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise DomainError(
                        f"文件超过上限 {max_bytes // (1 << 20)} MB", code="FILE_TOO_LARGE", status=413
                    )
                digest.update(chunk)
                f.write(chunk)
        clean = (filename or "upload").replace("/", "_").replace("\\", "_")[:200]
        yield Upload(path, digest.hexdigest(), size, clean)
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)
