"""One FastAPI app per service: liveness, readiness (DB + broker), /metrics, migrations applied
at start-up, the event bus and its outbox relay started and stopped with the app."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .config import KitSettings
from .db import Database
from .errors import install_error_handler
from .logging import configure_logging
from .messaging import EventBus, Handler, subscriptions_of
from .metrics import observe_http
from .migrations import upgrade
from .telemetry import configure_tracing, extract_context

log = logging.getLogger(__name__)

Background = Callable[[FastAPI], Coroutine[Any, Any, None]]


def create_service_app(
    *,
    name: str,
    schema: str,
    settings: KitSettings,
    migrations: Path | None,
    routers: Sequence[APIRouter] = (),
    handlers: Sequence[Handler] = (),
    background: Sequence[Background] = (),
    title: str | None = None,
    on_startup: Callable[[FastAPI], Awaitable[None]] | None = None,
    messaging: bool = True,
) -> FastAPI:
    """Build a service's app; nothing touches the network until the app starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(name, settings.log_level)
        configure_tracing(name, settings.otlp_endpoint)
        if migrations is not None:
            await asyncio.to_thread(upgrade, settings.database_url, schema, migrations)
        db = Database(settings.sqlalchemy_url, schema)
        bus = EventBus(service=name, bootstrap=settings.kafka_bootstrap, db=db) if messaging else None
        for event_type, consumer, fn in subscriptions_of(list(handlers)):
            assert bus is not None, "handlers need messaging"
            bus.subscribe(event_type, fn, consumer=consumer)
        app.state.db = db
        app.state.bus = bus
        if bus is not None:
            await bus.start()
        if on_startup is not None:
            await on_startup(app)
        tasks: list[asyncio.Task[None]] = [
            asyncio.create_task(job(app), name=f"{name}-{job.__name__}") for job in background
        ]
        log.info("service started", extra={"schema": schema})
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            await _bounded(asyncio.gather(*tasks, return_exceptions=True), "background tasks")
            if bus is not None:
                await _bounded(bus.stop(), "event bus")
            await _bounded(db.dispose(), "database pool")
            log.info("service stopped")

    app = FastAPI(title=title or f"ykt-{name}", lifespan=lifespan)
    app.state.settings = settings
    app.state.service_name = name
    install_error_handler(app)
    _install_tracing_middleware(app, name)

    @app.get("/health/live", tags=["health"])
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/ready", tags=["health"])
    async def ready(request: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        probes = [("database", request.app.state.db.ping)]
        if request.app.state.bus is not None:
            probes.append(("broker", request.app.state.bus.ping))
        for check, fn in probes:
            try:
                ok = await asyncio.wait_for(fn(), timeout=5)
                checks[check] = "ok" if ok else "down"
            except Exception as exc:  # readiness reports, never raises
                checks[check] = f"down: {type(exc).__name__}"
        healthy = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if healthy else "down", "checks": checks}, status_code=200 if healthy else 503
        )

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    return app


async def _bounded(step: Awaitable[Any], what: str, seconds: float = 20.0) -> None:
    """Run one shutdown step, but never let it hold the process: a step that does not finish
    (or does not honour cancellation) in `seconds` is left behind with a warning."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        log.warning("shutdown step did not finish in time", extra={"step": what, "seconds": seconds})
    elif task.exception() is not None:
        log.warning("shutdown step failed", extra={"step": what, "error": type(task.exception()).__name__})


def _install_tracing_middleware(app: FastAPI, name: str) -> None:
    """A server span per request, continuing the caller's trace from its headers."""
    tracer = trace.get_tracer(f"ykt.{name}.http")

    @app.middleware("http")
    async def _trace(request: Request, call_next: Callable[[Request], Awaitable[Any]]) -> Any:
        if request.url.path.startswith(("/metrics", "/health")):
            return await call_next(request)
        ctx = extract_context(dict(request.headers))
        started = time.perf_counter()
        with tracer.start_as_current_span(
            f"{request.method} {request.url.path}", context=ctx, kind=SpanKind.SERVER
        ) as span:
            span.set_attribute("http.request.method", request.method)
            span.set_attribute("url.path", request.url.path)
            response = await call_next(request)
            # the route template (…/batches/{batch_id}) names the span and labels the metrics
            route = getattr(request.scope.get("route"), "path", None) or "unmatched"
            span.update_name(f"{request.method} {route}")
            span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", response.status_code)
            observe_http(name, request.method, route, response.status_code, time.perf_counter() - started)
            return response
