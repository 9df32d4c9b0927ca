"""OpenTelemetry set-up and the W3C context carried in Kafka headers and HTTP headers."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_configured = False


def configure_tracing(service: str, otlp_endpoint: str | None, extra: SpanProcessor | None = None) -> None:
    """Install a tracer provider for `service`; export over OTLP/HTTP when an endpoint is given."""
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"ykt-{service}"}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint}/v1/traces"))
        )
    if extra is not None:
        provider.add_span_processor(extra)
    trace.set_tracer_provider(provider)
    _configured = True


def add_span_processor(processor: SpanProcessor) -> None:
    """Attach another processor (e.g. an in-memory exporter in tests) to the installed provider."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        configure_tracing("test", None)
        provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    provider.add_span_processor(processor)


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def inject_headers() -> dict[str, str]:
    """The current trace context as W3C headers (traceparent, tracestate)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def extract_context(headers: Mapping[str, str]) -> Context:
    """The trace context found in `headers` (Kafka or HTTP)."""
    return propagate.extract(dict(headers))
