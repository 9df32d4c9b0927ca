"""The last line before a span leaves a process: identifiers stay, anything shaped like an ID,
account or phone number is masked, exception messages are dropped; event attributes are taken
from codes, ids and counts only."""

from __future__ import annotations

from types import SimpleNamespace

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from ykt_kit.telemetry import ScrubbingExporter, continued, event_attributes, redact

ID_NUMBER = "500104194304230014"
ACCOUNT = "6216568196204481812"
PHONE = "15304738825"
NAME = "于秀志"
BATCH = "60598955-39bf-45b8-84a3-123456789012"  # a UUID whose last group is all digits


def test_redact_masks_numbers_shaped_like_personal_data_and_keeps_uuids() -> None:
    text = f"batch {BATCH} id {ID_NUMBER} acct {ACCOUNT} tel {PHONE} 2026-11 HM10 200 records"
    assert redact(text) == (
        f"batch {BATCH} id [redacted:18] acct [redacted:19] tel [redacted:11] 2026-11 HM10 200 records"
    )
    assert redact("50010419430423001X") == "[redacted:18]"


def test_spans_leave_the_process_scrubbed() -> None:
    inner = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "ykt-test"}))
    provider.add_span_processor(SimpleSpanProcessor(ScrubbingExporter(inner)))
    tracer = provider.get_tracer("ykt.test")
    try:
        with tracer.start_as_current_span(f"GET /persons/{ID_NUMBER}") as span:
            span.set_attribute("ykt.batch_id", BATCH)
            span.set_attribute("note", f"account {ACCOUNT}")
            span.set_attribute("ykt.records", 200)
            span.add_event("called", {"phone": PHONE})
            raise ValueError(f"duplicate key ({NAME}, {ID_NUMBER})")
    except ValueError:
        pass
    (exported,) = inner.get_finished_spans()
    text = repr(exported.to_json())
    for secret in (ID_NUMBER, ACCOUNT, PHONE, NAME):
        assert secret not in text
    assert exported.name == "GET /persons/[redacted:18]"
    assert exported.attributes["ykt.batch_id"] == BATCH
    assert exported.attributes["ykt.records"] == 200
    assert exported.attributes["note"] == "account [redacted:19]"
    exception = next(e for e in exported.events if e.name == "exception")
    assert set(exception.attributes) <= {"exception.type", "exception.escaped"}
    assert exception.attributes["exception.type"] == "ValueError"
    assert exported.status.status_code == StatusCode.ERROR
    assert exported.status.description == "ValueError"


def test_event_attributes_name_the_batch_and_its_counts_never_the_person() -> None:
    person = SimpleNamespace(name=NAME, id_number=ID_NUMBER, account_no=ACCOUNT, amount_fen=65_000)
    payload = SimpleNamespace(
        batch_id=BATCH,
        program_code="HM10",
        period="2026-11",
        unit_code="MZ-500104",
        bank_code="CQRCB",
        round=1,
        chunk=SimpleNamespace(index=2, count=3, totals=SimpleNamespace(record_count=1, amount_fen=65_000)),
        bank_totals=SimpleNamespace(record_count=100, amount_fen=6_500_000),
        instructions=[person],
        name=NAME,
    )
    attrs = event_attributes(SimpleNamespace(correlation_id=BATCH), payload)
    assert attrs == {
        "ykt.batch_id": BATCH,
        "ykt.program": "HM10",
        "ykt.period": "2026-11",
        "ykt.unit": "MZ-500104",
        "ykt.bank": "CQRCB",
        "ykt.round": 1,
        "ykt.chunk.index": 2,
        "ykt.chunk.count": 3,
        "ykt.bank_totals.record_count": 100,
        "ykt.bank_totals.amount_fen": 6_500_000,
        "ykt.records": 1,
    }


def test_a_stored_context_is_continued_and_linked_to_what_woke_it() -> None:
    inner = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(inner))
    tracer = provider.get_tracer("ykt.test")
    stored = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with (
        tracer.start_as_current_span("callback") as waker,
        continued(stored, "bank results", provider=provider, batch_id=BATCH),
    ):
        pass
    spans = {s.name: s for s in inner.get_finished_spans()}
    resumed = spans["bank results"]
    assert f"{resumed.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert f"{resumed.parent.span_id:016x}" == "b7ad6b7169203331"
    assert [link.context.span_id for link in resumed.links] == [waker.get_span_context().span_id]
    assert resumed.attributes["ykt.batch_id"] == BATCH
