"""What the services sample and note themselves once wired: the funding request's trace through all
six services and across the bank, consumer lag, batches per status, HTTP routes, delivery times
and bank failures by reason."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from observed_stack import SERVICES, Journey, Scrape, scrape
from otlp_receiver import OtlpReceiver, ReceivedSpan
from ykt_contracts import EVENTS
from ykt_devstack.demo import PERIOD, PROGRAM
from ykt_devstack.stack import Stack

pytestmark = pytest.mark.e2e

CONSUMER = 5  # OTLP span kind


def _funding_trace(spans: list[ReceivedSpan], batch_id: str) -> list[ReceivedSpan]:
    by_trace: dict[str, list[ReceivedSpan]] = {}
    for s in spans:
        by_trace.setdefault(s.trace_id, []).append(s)
    for trace in by_trace.values():
        for s in trace:
            if (
                not s.parent_span_id
                and s.service == "ykt-gateway"
                and s.name == "POST /api/v1/batches/{batch_id}/funding"
                and s.attributes.get("url.path") == f"/api/v1/batches/{batch_id}/funding"
            ):
                return trace
    return []


def test_the_funding_request_is_one_trace_through_the_bank_and_all_six_services(
    journey: Journey, otlp: OtlpReceiver
) -> None:
    bid = journey.report.batch_id
    everything = {f"ykt-{s}" for s in SERVICES}

    def complete(spans: list[ReceivedSpan]) -> bool:
        trace = _funding_trace(spans, bid)
        return {s.service for s in trace} == everything and any(
            s.attributes.get("messaging.destination.name") == "ykt.disclosure.published" for s in trace
        )

    otlp.wait_for(complete, 60, "the funding trace to reach every service")
    trace = _funding_trace(list(otlp.spans), bid)
    ids = {s.span_id for s in trace}
    assert all(s.parent_span_id in ids for s in trace if s.parent_span_id), "the trace has a gap"
    hops = Counter(s.attributes["messaging.destination.name"] for s in trace if s.kind == CONSUMER)
    for topic in (
        "batch.funded",
        "payment.instructed",
        "payment.settled",
        "payment.failed",
        "batch.completed",
    ):
        for consumer in EVENTS[topic].consumers:
            assert any(
                s.service == f"ykt-{consumer}"
                and s.attributes.get("messaging.destination.name") == f"ykt.{topic}"
                for s in trace
            ), (consumer, topic)
    assert hops["ykt.disclosure.published"] >= 1
    # the bank carries no context: the bank-gateway continues the trace stored with the instructions
    sends = [s for s in trace if s.name == "bank send"]
    results = [s for s in trace if s.name == "bank results"]
    assert sends and results
    assert all(s.attributes["ykt.batch_id"] == bid and s.attributes["ykt.bank"] for s in sends + results)
    assert all(s.links for s in results), "a bank results span links the callback that woke it"
    assert sum(s.attributes["ykt.records"] for s in sends) >= journey.report.sent[0]
    # consumer spans carry what the event is about, never who
    instructed = [
        s for s in trace if s.attributes.get("messaging.destination.name") == "ykt.payment.instructed"
    ]
    for s in instructed:
        assert s.attributes["ykt.program"] == PROGRAM and s.attributes["ykt.period"] == PERIOD
        assert (
            s.attributes["ykt.bank"]
            and s.attributes["ykt.chunk.count"] >= 1
            and s.attributes["ykt.records"] >= 1
        )


def _poll(stack: Stack, service: str, ok: object, what: str, timeout: float = 45.0) -> Scrape:
    """Scrape `service` until `ok(scrape)` holds (the samplers run every 10-15 s)."""
    deadline = time.monotonic() + timeout
    while True:
        page = scrape(stack, service)
        if ok(page):  # type: ignore[operator]
            return page
        assert time.monotonic() < deadline, f"{service}: {what}"
        time.sleep(0.5)  # polling the scrape, with the deadline above


def test_consumer_lag_of_every_consumed_partition_is_reported_and_drains(
    journey: Journey, stack: Stack
) -> None:
    consumed: dict[str, set[str]] = {}
    for spec in EVENTS.values():
        for svc in spec.consumers:
            consumed.setdefault(svc, set()).add(spec.topic)
    for svc, topics in consumed.items():

        def drained(page: Scrape, topics: set[str] = topics) -> bool:
            series = page.series("ykt_consumer_lag")
            return {labels["topic"] for labels, _ in series} == topics and all(v == 0 for _, v in series)

        page = _poll(stack, svc, drained, f"lag of {sorted(topics)} reported and 0")
        partitions = {(labels["topic"], labels["partition"]) for labels, _ in page.series("ykt_consumer_lag")}
        assert len(partitions) == 6 * len(topics), svc  # one replica holds every partition


def test_batches_per_status_match_what_the_services_answer(journey: Journey, stack: Stack) -> None:
    for svc, final, count in (("registry", "disclosed", 2), ("payment", "completed", 2)):

        def sampled(page: Scrape, final: str = final, count: int = count, svc: str = svc) -> bool:
            return page.total("ykt_batches", service=svc, status=final) == count

        page = _poll(stack, svc, sampled, f"{count} batches {final}")
        assert page.total("ykt_batches", service=svc) == 3  # the bureau's, its re-issue, the town's
        ages = {labels["status"] for labels, _ in page.series("ykt_batch_oldest_seconds")}
        assert final not in ages and ages, svc


def test_routes_delivery_times_and_bank_failures_are_counted(journey: Journey) -> None:
    d = journey.delta
    assert (
        d("gateway", "ykt_http_requests_total", route="/api/v1/batches/{batch_id}/funding", status="200") == 2
    )
    assert (
        d("payment", "ykt_http_requests_total", route="/api/v1/batches/{batch_id}/funding", status="200") == 2
    )
    assert d("bank-gateway", "ykt_http_requests_total", route="/bank-callbacks/{bank_code}") == d(
        "bank-gateway", "ykt_bank_callbacks_total"
    )
    for svc in SERVICES:
        routes = {labels["route"] for labels, _ in journey.after[svc].series("ykt_http_requests_total")}
        assert not any(journey.report.batch_id in r for r in routes), svc  # templates, never paths
    for spec in EVENTS.values():
        for svc in spec.consumers:
            handled = sum(
                d(svc, "ykt_events_consumed_total", topic=spec.topic, outcome=o)
                for o in ("processed", "duplicate")
            )
            assert d(svc, "ykt_event_delivery_seconds_count", topic=spec.topic) == handled, (svc, spec.topic)
    reasons = Counter(k.split(" ")[0] for k in journey.report.failed_by_reason.elements())
    by_reason = {
        labels["reason"]: v
        for labels, v in journey.after["bank-gateway"].series("ykt_bank_failures_total")
        if v
    }
    assert by_reason == dict(reasons)
