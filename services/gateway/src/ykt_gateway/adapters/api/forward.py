"""Calls to the owning services: signed actor headers, trace context, body and status passed through."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import Request, Response
from ykt_kit.actor import Actor
from ykt_kit.errors import DomainError
from ykt_kit.telemetry import inject_headers


async def forward(
    request: Request,
    actor: Actor,
    service: str,
    path: str,
    *,
    method: str | None = None,
    json_body: Any = None,
    content: bytes | None = None,
    params: dict[str, Any] | None = None,
    content_type: str = "application/json",
    stream_body: bool = False,
) -> Response:
    """Call `service` at `path` as `actor` and return its answer unchanged.

    `stream_body`: pass the request body through as it arrives, with its content type (a file
    upload of any size crosses the gateway without being held in memory)."""
    client: httpx.AsyncClient = request.app.state.http
    settings = request.app.state.settings
    base = getattr(settings, f"{service}_url")
    headers = {**actor.headers(settings.service_secret), **inject_headers()}
    body: Any = content if content is not None else (None if json_body is None else _dumps(json_body))
    if stream_body:
        body = request.stream()
        headers["content-type"] = request.headers.get("content-type", "application/octet-stream")
    elif json_body is not None or content is not None:
        headers["content-type"] = content_type
    query = params if params is not None else dict(request.query_params)
    try:
        resp = await client.request(
            method or request.method,
            base + path,
            headers=headers,
            content=body,
            params={k: v for k, v in query.items() if v is not None},
        )
    except httpx.HTTPError as exc:
        raise DomainError(
            f"后端服务 {service} 暂不可用，请稍后重试",
            code="UPSTREAM_UNAVAILABLE",
            status=503,
            service=service,
        ) from exc
    passed = {k: v for k, v in resp.headers.items() if k.lower() == "content-disposition"}
    return Response(
        resp.content,
        status_code=resp.status_code,
        media_type=resp.headers.get("content-type"),
        headers=passed,
    )


def _dumps(obj: Any) -> bytes:
    import orjson

    return orjson.dumps(obj)
