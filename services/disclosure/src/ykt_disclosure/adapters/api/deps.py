"""Request-scoped helpers shared by the public pages and the public JSON API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from ykt_kit.crypto import PiiCipher

from ...config import Settings
from ..cache import Store

#: Longest filter value taken from a query string; longer ones match nothing anyway.
MAX_FILTER = 64


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.db.transaction() as session:
        yield session


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _cipher(request: Request) -> PiiCipher:
    cipher: PiiCipher = request.app.state.cipher
    return cipher


Session = Annotated[AsyncSession, Depends(_session)]
CurrentSettings = Annotated[Settings, Depends(_settings)]
RedisStore = Annotated[Store, Depends(_store)]
Cipher = Annotated[PiiCipher, Depends(_cipher)]


def client_id(request: Request) -> str:
    """Who is asking, for rate limits: the address the trusted proxy reports, else the peer."""
    settings: Settings = request.app.state.settings
    if settings.client_ip_header:
        value = request.headers.get(settings.client_ip_header, "")
        # X-Forwarded-For style lists: the proxy appends the address it saw last
        value = value.split(",")[-1].strip()
        if value:
            return value
    return request.client.host if request.client else "unknown"


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
#: Answers carrying a person's own data: never stored by a browser or a proxy.
PRIVATE_HEADERS = SECURITY_HEADERS | {"Cache-Control": "no-store", "Pragma": "no-cache"}
HTML_HEADERS = SECURITY_HEADERS | {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
}
