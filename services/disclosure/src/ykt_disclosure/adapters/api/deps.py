"""Request-scoped helpers shared by the public pages and the public JSON API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from ...config import Settings

#: Longest filter value taken from a query string; longer ones match nothing anyway.
MAX_FILTER = 64


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.db.transaction() as session:
        yield session


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Session = Annotated[AsyncSession, Depends(_session)]
CurrentSettings = Annotated[Settings, Depends(_settings)]


def clean(value: str | None) -> str | None:
    """A filter value from a query string: trimmed, None when empty."""
    value = (value or "").strip()[:MAX_FILTER]
    return value or None


#: Headers of every public response: no framing, no sniffing, no referrer, not indexed
#: (masked lists are for the people concerned, not for search engines).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "public, max-age=60",
}
HTML_HEADERS = SECURITY_HEADERS | {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
}
