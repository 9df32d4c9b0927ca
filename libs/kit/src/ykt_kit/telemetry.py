"""OpenTelemetry set-up and the W3C context carried in Kafka headers and HTTP headers."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Status

_configured = False


def configure_tracing(service: str, otlp_endpoint: str | None, extra: SpanProcessor | None = None) -> None:
    """Install a tracer provider for `service`; export over OTLP/HTTP when an endpoint is given
    (through `ScrubbingExporter`: no personal data leaves the process in a span)."""
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"ykt-{service}"}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(ScrubbingExporter(OTLPSpanExporter(endpoint=f"{otlp_endpoint}/v1/traces")))
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


# --- what spans may carry ---------------------------------------------------------------------
#
# Spans carry identifiers (batch, event and record ids are UUIDs), codes and counts: never personal
# data. Attributes are set only from the fields below; and the exporter of `configure_tracing`
# passes every span through `scrub_span` as a last line: digit runs shaped like an ID, account or
# phone number are masked, and exception messages (which may quote a row) are dropped.

AttributeValue = str | bool | int | float

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# a UUID is kept whole (its last group may be twelve digits); other long digit runs are masked
_SCRUB = re.compile(rf"(?P<uuid>{_UUID})|(?<![0-9A-Za-z])(?P<digits>\d{{17}}[\dXx]|\d{{11,}})(?![0-9A-Za-z])")
_EXCEPTION_KEEP = ("exception.type", "exception.escaped")


def redact(text: str) -> str:
    """`text` with anything shaped like an ID, account or phone number masked (UUIDs kept)."""
    return _SCRUB.sub(lambda m: m.group(0) if m.group("uuid") else f"[redacted:{len(m.group(0))}]", text)


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return type(value)(_scrub_value(v) for v in value)
    return value


def _scrub_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: _scrub_value(v) for k, v in (attributes or {}).items()}


def scrub_span(span: ReadableSpan) -> ReadableSpan:
    """A copy of `span` fit to leave the process: see the note above."""
    events = []
    for ev in span.events:
        if ev.name == "exception":
            attrs = {k: v for k, v in (ev.attributes or {}).items() if k in _EXCEPTION_KEEP}
        else:
            attrs = _scrub_attributes(ev.attributes)
        events.append(Event(ev.name, attrs, timestamp=ev.timestamp))
    status = span.status
    if status.description:
        # the SDK writes "<ExceptionType>: <message>"; the message may quote data
        status = Status(status.status_code, status.description.split(":", 1)[0])
    return ReadableSpan(
        name=redact(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_scrub_attributes(span.attributes),
        events=events,
        links=[Link(link.context, _scrub_attributes(link.attributes)) for link in span.links],
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class ScrubbingExporter(SpanExporter):
    """Wraps an exporter so that only scrubbed spans leave the process."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([scrub_span(s) for s in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def _totals(value: Any) -> tuple[int, int] | None:
    count, amount = getattr(value, "record_count", None), getattr(value, "amount_fen", None)
    return (count, amount) if isinstance(count, int) and isinstance(amount, int) else None


def event_attributes(envelope: Any, payload: Any) -> dict[str, AttributeValue]:
    """Span attributes of one event: batch, program, period, unit, bank, round, chunk, record counts.

    Read from the contracts' non-personal fields only (codes, ids, totals, list lengths)."""
    out: dict[str, AttributeValue] = {}
    batch_id = getattr(payload, "batch_id", None) or getattr(envelope, "correlation_id", None)
    if isinstance(batch_id, str):
        out["ykt.batch_id"] = batch_id
    for field, key in (
        ("program_code", "ykt.program"),
        ("period", "ykt.period"),
        ("unit_code", "ykt.unit"),
        ("bank_code", "ykt.bank"),
        ("rule_set_version", "ykt.rule_set"),
    ):
        value = getattr(payload, field, None)
        if isinstance(value, str) and value:
            out[key] = value
    rnd = getattr(payload, "round", None)
    if isinstance(rnd, int):
        out["ykt.round"] = rnd
    chunk = getattr(payload, "chunk", None)
    if chunk is not None:
        for field in ("index", "count"):
            value = getattr(chunk, field, None)
            if isinstance(value, int):
                out[f"ykt.chunk.{field}"] = value
    for field, key in (
        ("round_totals", "ykt.round_totals"),
        ("totals", "ykt.totals"),
        ("bank_totals", "ykt.bank_totals"),
        ("settled", "ykt.settled"),
        ("failed", "ykt.failed"),
    ):
        t = _totals(getattr(payload, field, None))
        if t is not None:
            out[f"{key}.record_count"], out[f"{key}.amount_fen"] = t
    for field in ("records", "verdicts", "instructions", "record_reasons"):
        items = getattr(payload, field, None)
        if isinstance(items, list):
            out["ykt.records"] = len(items)
            break
    return out


def annotate(**attributes: AttributeValue | None) -> None:
    """Set `ykt.<name>` attributes on the current span (ids, codes and counts only; None skipped)."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    for name, value in attributes.items():
        if value is not None:
            span.set_attribute(f"ykt.{name}", value)


def current_traceparent() -> str | None:
    """The current trace context as a W3C traceparent, to store with a row and continue later."""
    return inject_headers().get("traceparent")


@contextmanager
def continued(
    traceparent: str | None,
    name: str,
    *,
    tracer_name: str = "ykt",
    provider: trace.TracerProvider | None = None,
    **attributes: AttributeValue | None,
) -> Iterator[trace.Span]:
    """A span that continues the trace stored as `traceparent`, linked to the current span.

    For work that resumes a flow after a hop that carries no context (a bank's callback, a timer):
    its events then join the flow's trace, and the link leads back to what woke it."""
    current = trace.get_current_span().get_span_context()
    links = [Link(current)] if current.is_valid else []
    parent = extract_context({"traceparent": traceparent}) if traceparent else None
    tracer = trace.get_tracer(tracer_name, tracer_provider=provider)
    with tracer.start_as_current_span(name, context=parent, links=links) as span:
        annotate(**attributes)
        yield span
