"""Receiving a batch file: spooled to a temporary file (never held in memory) and hashed on the way."""

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

from ...domain.model import EmptyFile, FileTooLarge

HEAD_BYTES = 4096
MAX_UPLOAD_BYTES = 1024 * 1024 * 1024  # 1 GiB: a 2,000,000-row CSV is about 250 MB


@dataclass(frozen=True)
class Spooled:
    """An uploaded file on disk: its path, SHA-256, size and first bytes (for sniffing its format)."""

    path: Path
    sha256: str
    size: int
    head: bytes


async def spool(chunks: AsyncIterator[bytes], *, directory: str | None, max_bytes: int) -> Spooled:
    """Write the request body to a temporary file, hashing it; the caller deletes the file."""
    fd, name = tempfile.mkstemp(prefix="ykt-batch-", suffix=".upload", dir=directory)
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with os.fdopen(fd, "wb") as f:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge(
                        f"文件超过上限 {max_bytes // (1 << 20)} MB，请分批提交", limit_bytes=max_bytes
                    )
                digest.update(chunk)
                f.write(chunk)
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
        if size == 0:
            raise EmptyFile("上传的文件是空的（0 字节），请选择填好的发放明细文件")
    except BaseException:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
    return Spooled(path, digest.hexdigest(), size, head)


@dataclass(frozen=True)
class Upload:
    path: Path
    sha256: str
    size: int
    filename: str


@asynccontextmanager
async def spooled(request: Request, filename: str | None) -> AsyncIterator[Upload]:
    """The request body as a temporary file (the content decides the format, not the name),
    removed afterwards. A 0-byte body is left to the reader, which names it FILE_EMPTY."""
    try:
        up = await spool(request.stream(), directory=None, max_bytes=MAX_UPLOAD_BYTES)
    except EmptyFile:
        up = None
    name = (filename or "upload").replace("/", "_").replace("\\", "_")[:200]
    if up is None:
        fd, tmp = tempfile.mkstemp(prefix="ykt-upload-")
        os.close(fd)
        up = Spooled(Path(tmp), hashlib.sha256().hexdigest(), 0, b"")
    try:
        yield Upload(path=up.path, sha256=up.sha256, size=up.size, filename=name)
    finally:
        await asyncio.to_thread(up.path.unlink, missing_ok=True)
