"""One disbursement cycle, watched as on-call would: every service's /metrics moved by exactly what
the cycle did, the batch's spans form one trace across the services (over HTTP and Kafka hops),
and no span, metric or log line carries a name, ID number, account or phone."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import defaultdict

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from observed_stack import PEOPLE, SERVICES, Journey, scrape
from otlp_receiver import OtlpReceiver, ReceivedSpan
from ykt_contracts import EVENTS
from ykt_devstack.demo import AMOUNT_FEN, BANKS, Operator, demo_population, run_cycle
from ykt_devstack.stack import Stack
from ykt_kit import synthetic
from ykt_kit.db import Database
from ykt_kit.metrics import BATCH_OLDEST_SECONDS, BATCHES, CONSUMER_LAG, ConsumerLagSampler
from ykt_kit.testing import topic_partitions

pytestmark = pytest.mark.e2e

SERVER, CONSUMER = 2, 5  # OTLP span kinds


def test_stage_counters_moved_by_what_the_cycle_did(journey: Journey) -> None:
    rep, d, A = journey.report, journey.delta, AMOUNT_FEN
    # the cycle as the operators saw it (tests/e2e checks it in depth): 201 submitted, 200 sent,
    # 5 failed at the bank and re-issued, so 205 instructed and each of the 200 payees paid once
    assert rep.submitted[0] == 201 and rep.sent[0] == 200 and rep.reissued[0] == 5
    paid, instructed = 200, 205

    # step 1: 201 records from the bureau and 1 from the town; later the 5 re-issued
    assert d("registry", "ykt_records_total", stage="intake", outcome="accepted") == 202
    assert d("registry", "ykt_amount_fen_total", stage="intake", outcome="accepted") == 202 * A
    assert d("registry", "ykt_records_total", stage="intake", outcome="reissued") == rep.reissued[0]
    # step 2: 198 + 2 corrected + 5 re-issued pass; 2 bad checksums and 2 duplicates are rejected
    for svc, stage in (("validation", "validation"), ("registry", "verdicts")):
        assert d(svc, "ykt_records_total", stage=stage, outcome="passed") == 205, svc
        assert d(svc, "ykt_records_total", stage=stage, outcome="rejected") == 4, svc
    assert d("validation", "ykt_amount_fen_total", stage="validation", outcome="passed") == 205 * A
    assert d("validation", "ykt_validation_rejections_total", code="ID_CHECKSUM") == 2
    assert d("validation", "ykt_validation_rejections_total", code="DUPLICATE_ENJOYMENT") == 2
    # a bank failure frees the person's claim in the ledger so the re-issue can pass
    assert d("validation", "ykt_validation_ledger_releases_total", cause="payment_failed") == 5
    # steps 3-5 in payment: two batches reviewed, funded, instructed and completed
    for status in ("pending_review", "approved", "funded", "instructed", "completed"):
        assert d("payment", "ykt_payment_batch_transitions_total", status=status) == 2, status
    assert d("payment", "ykt_records_total", stage="payment", outcome="instructed") == instructed
    assert d("payment", "ykt_amount_fen_total", stage="payment", outcome="instructed") == instructed * A
    assert d("payment", "ykt_records_total", stage="payment", outcome="settled") == paid
    assert d("payment", "ykt_amount_fen_total", stage="payment", outcome="settled") == paid * A
    assert d("payment", "ykt_records_total", stage="payment", outcome="failed") == 5
    assert d("payment", "ykt_records_total", stage="payment", outcome="blocked") == 0
    # the bank side: every instruction stored once, every result applied once, no request failed
    assert d("bank-gateway", "ykt_records_total", stage="instructed", outcome="in") == instructed
    assert d("bank-gateway", "ykt_bank_results_total", outcome="settled") == paid
    assert d("bank-gateway", "ykt_bank_results_total", outcome="failed") == 5
    assert d("bank-gateway", "ykt_bank_results_total", outcome="ignored") == 0
    assert d("bank-gateway", "ykt_bank_result_amount_mismatches_total") == 0
    banks_used = {
        labels["bank"] for labels, _ in journey.after["bank-gateway"].series("ykt_bank_results_total")
    }
    assert banks_used and banks_used <= set(BANKS)
    for bank in banks_used:
        assert d("bank-gateway", "ykt_bank_requests_total", bank=bank, outcome="ok") >= 1, bank
        assert d("bank-gateway", "ykt_bank_callbacks_total", bank=bank, outcome="processed") >= 1, bank
    requests = d("bank-gateway", "ykt_bank_requests_total")
    assert d("bank-gateway", "ykt_bank_requests_total", outcome="ok") == requests
    assert d("bank-gateway", "ykt_bank_request_seconds_count") == requests
    assert d("bank-gateway", "ykt_bank_callbacks_total", outcome="processed") == d(
        "bank-gateway", "ykt_bank_callbacks_total"
    )
    # step 6: the paid records of both batches disclosed, in two publications
    assert d("disclosure", "ykt_records_total", stage="disclosure", outcome="disclosed") == paid
    assert d("disclosure", "ykt_amount_fen_total", stage="disclosure", outcome="disclosed") == paid * A
    assert d("disclosure", "ykt_disclosure_publications_total") == 2


def test_every_event_counted_once_where_it_was_published_and_where_it_was_consumed(journey: Journey) -> None:
    d = journey.delta
    topics = {spec.topic: spec for spec in EVENTS.values()}
    assert sum(journey.messages[t] for t in topics) > 0
    for topic, spec in topics.items():
        published = sum(d(svc, "ykt_events_published_total", topic=topic) for svc in SERVICES)
        assert published == journey.messages[topic], topic
        for consumer in spec.consumers:
            processed = d(consumer, "ykt_events_consumed_total", topic=topic, outcome="processed")
            assert processed == journey.messages[topic], (consumer, topic)
            handled = processed + d(consumer, "ykt_events_consumed_total", topic=topic, outcome="duplicate")
            assert d(consumer, "ykt_event_handle_seconds_count", topic=topic) == handled, (consumer, topic)
    assert journey.messages["ykt.dead-letter"] == 0
    for svc in SERVICES:
        assert d(svc, "ykt_dead_letters_total") == 0, svc
        assert d(svc, "ykt_events_consumed_total", outcome="dead_lettered") == 0, svc


def test_outbox_backlogs_drain_to_zero(stack: Stack, journey: Journey) -> None:
    producers = {spec.producer for spec in EVENTS.values()}
    deadline = time.monotonic() + 30
    while True:
        backlog = {svc: scrape(stack, svc).series("ykt_outbox_backlog") for svc in sorted(producers)}
        if all(series and all(v == 0 for _, v in series) for series in backlog.values()):
            return
        assert time.monotonic() < deadline, f"outbox backlog not drained: {backlog}"
        time.sleep(0.2)  # polling the gauge, with the deadline above


# ------------------------------------------------------------------ traces


def _by_trace(spans: list[ReceivedSpan]) -> dict[str, list[ReceivedSpan]]:
    out: dict[str, list[ReceivedSpan]] = defaultdict(list)
    for s in spans:
        out[s.trace_id].append(s)
    return out


def _batch_traces(spans: list[ReceivedSpan], batch_id: str) -> dict[str, list[ReceivedSpan]]:
    """Every trace in which some span names the batch."""
    traces = _by_trace(spans)
    ids = {s.trace_id for s in spans if s.attributes.get("ykt.batch_id") == batch_id}
    return {t: traces[t] for t in ids}


def _services(trace: list[ReceivedSpan]) -> set[str]:
    return {s.service for s in trace}


def _connected(trace: list[ReceivedSpan]) -> bool:
    ids = {s.span_id for s in trace}
    return sum(1 for s in trace if not s.parent_span_id) == 1 and all(
        s.parent_span_id in ids for s in trace if s.parent_span_id
    )


def test_one_trace_follows_the_batch_through_five_services(journey: Journey, otlp: OtlpReceiver) -> None:
    bid = journey.report.batch_id

    def widest(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
        traces = [t for t in _batch_traces(spans, bid).values() if _connected(t)]
        return max(traces, key=lambda t: len(_services(t)), default=[])

    otlp.wait_for(
        lambda spans: len(_services(widest(spans))) >= 5, 60, "a trace of the batch over 5 services"
    )
    trace = widest(list(otlp.spans))
    assert len(_services(trace)) >= 5, _services(trace)
    by_id = {s.span_id: s for s in trace}
    hops = [s for s in trace if s.kind == CONSUMER]
    assert len(hops) >= 4
    for span in hops:
        # every Kafka hop continues the trace of the transaction that wrote the event
        parent = by_id[span.parent_span_id]
        assert span.attributes["messaging.system"] == "kafka"
        assert span.attributes["ykt.batch_id"] == bid
        assert parent.service != span.service, (span.name, parent.name)
    assert "ykt.payment.settled" in {s.attributes["messaging.destination.name"] for s in hops}


def test_the_gateway_call_and_the_relay_carry_the_context(journey: Journey, otlp: OtlpReceiver) -> None:
    """POST …/sending at the gateway → registry's route (HTTP hop) → batch.sent written there and
    published later by the relay (a background task with no context of its own) → payment."""
    bid = journey.report.batch_id

    def sending_trace(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
        for trace in _by_trace(spans).values():
            root = [s for s in trace if not s.parent_span_id]
            if (
                root
                and root[0].service == "ykt-gateway"
                and root[0].name.startswith("POST /api/v1/batches/")
                and root[0].name.endswith("/sending")
                and root[0].attributes.get("url.path") == f"/api/v1/batches/{bid}/sending"
                and any(s.attributes.get("messaging.destination.name") == "ykt.batch.sent" for s in trace)
            ):
                return trace
        return []

    otlp.wait_for(lambda spans: bool(sending_trace(spans)), 60, "the trace of sending the batch")
    trace = sending_trace(list(otlp.spans))
    by_id = {s.span_id: s for s in trace}

    def ancestors(span: ReceivedSpan) -> list[ReceivedSpan]:
        out = []
        while span.parent_span_id:
            span = by_id[span.parent_span_id]
            out.append(span)
        return out

    registry = next(s for s in trace if s.scope == "ykt.registry.http" and s.kind == SERVER)
    assert registry.attributes["url.path"] == f"/api/v1/batches/{bid}/sending"
    assert any(a.service == "ykt-gateway" for a in ancestors(registry))
    consumed = next(s for s in trace if s.attributes.get("messaging.destination.name") == "ykt.batch.sent")
    assert consumed.service == "ykt-payment" and consumed.kind == CONSUMER
    assert registry in ancestors(consumed)


# ------------------------------------------------------------------ the samplers, on the cycle's data


def _demo_population() -> list[synthetic.Person]:
    """The people `run_cycle` made (the same generator, seed and parameters)."""
    return demo_population(PEOPLE, inspect.signature(run_cycle).parameters["seed"].default)


async def test_batch_states_sampled_from_the_registry_and_payment_tables(
    journey: Journey, stack: Stack
) -> None:
    import ykt_payment.metrics as payment_metrics
    import ykt_registry.metrics as registry_metrics

    rep = journey.report
    civil = Operator(stack.urls["gateway"], "civil")
    town = Operator(stack.urls["gateway"], "town-xsc")

    def statuses() -> tuple[dict[str, int], dict[str, int]]:
        reg: dict[str, int] = defaultdict(int)
        pay: dict[str, int] = defaultdict(int)
        for who, b in ((civil, rep.batch_id), (civil, rep.reissue_batch_id), (town, rep.town_batch_id)):
            reg[who.call("GET", f"/api/v1/batches/{b}")["status"]] += 1
            pay[who.call("GET", f"/api/v1/batches/{b}/payment")["status"]] += 1
        return dict(reg), dict(pay)

    reg_expected, pay_expected = await asyncio.to_thread(statuses)
    assert reg_expected.get("disclosed") == 2 and pay_expected.get("completed") == 2
    for metrics, schema, expected in (
        (registry_metrics, "registry", reg_expected),
        (payment_metrics, "payment", pay_expected),
    ):
        db = Database(_sqlalchemy_url(stack.database_url), schema, pool_size=1)
        try:
            async with db.transaction() as session:
                sampled = await metrics.sample(session)
        finally:
            await db.dispose()
        assert {s: n for s, (n, _age) in sampled.items() if n} == expected, schema
        for status, (n, age) in sampled.items():
            assert BATCHES.labels(schema, status)._value.get() == n
            if status in metrics.FINAL:
                assert (schema, status) not in {
                    (s.labels["service"], s.labels["status"])
                    for m in BATCH_OLDEST_SECONDS.collect()
                    for s in m.samples
                }
            else:
                assert age >= 0 and BATCH_OLDEST_SECONDS.labels(schema, status)._value.get() == age


def _sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


async def test_consumer_lag_from_a_consumers_position_and_the_end_offsets(
    journey: Journey, stack: Stack
) -> None:
    topic = EVENTS["batch.submitted"].topic
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap, enable_auto_commit=False)
    await consumer.start()

    class Subscriber:  # what ConsumerLagSampler reads of a FastStream subscriber
        def __init__(self, c: AIOKafkaConsumer) -> None:
            self.consumer = c

    class Broker:
        subscribers = [Subscriber(consumer)]

    sampler = ConsumerLagSampler("lag-probe", Broker())
    try:
        parts = await topic_partitions(consumer, [topic])
        consumer.assign(parts)
        for tp in parts:
            consumer.seek(tp, 0)  # a known position: the sampler reads positions, it never asks
        lag = await sampler.sample()
        assert sum(lag.values()) == journey.messages[topic] > 0
        assert (
            sum(
                s.value
                for m in CONSUMER_LAG.collect()
                for s in m.samples
                if s.labels["service"] == "lag-probe"
            )
            == (journey.messages[topic])
        )
        got = await consumer.getmany(*parts, timeout_ms=5000)
        while sum(len(v) for v in got.values()) < journey.messages[topic]:
            more = await consumer.getmany(*parts, timeout_ms=5000)
            assert more, "the topic's messages did not all come"
            for tp, msgs in more.items():
                got.setdefault(tp, []).extend(msgs)
        assert sum((await sampler.sample()).values()) == 0
        Broker.subscribers = []  # the partitions went to another replica: their series go too
        assert await sampler.sample() == {}
        assert not [
            s for m in CONSUMER_LAG.collect() for s in m.samples if s.labels["service"] == "lag-probe"
        ]
    finally:
        await consumer.stop()


# ------------------------------------------------------------------ privacy


def test_no_personal_data_in_spans_metrics_or_logs(
    journey: Journey, otlp: OtlpReceiver, stack: Stack
) -> None:
    people = _demo_population()
    # the population recomputed here is the one the cycle paid: the banks credited their accounts
    credited = {
        c["account_no"]
        for bank in BANKS
        for c in httpx.get(f"{stack.urls['bank-sim']}/banks/{bank}/admin/credits", timeout=30).json()[
            "credits"
        ]
    }
    assert len(credited & {p.account_no for p in people}) >= 195
    secrets: dict[str, str] = {}
    for p in people:
        for field in ("name", "id_number", "account_no", "phone"):
            secrets[getattr(p, field)] = field

    def leaks(text: str) -> list[str]:
        return sorted({f"{kind}" for value, kind in secrets.items() if value in text})

    span_text = "\n".join(repr(s) for s in otlp.spans)
    assert len(otlp.spans) > 100
    assert leaks(span_text) == []
    for svc in SERVICES:
        assert leaks(httpx.get(stack.urls[svc] + "/metrics", timeout=30).text) == [], svc
    for log in sorted(stack.log_dir.glob("*.log")):
        if log.stem in SERVICES:
            assert leaks(log.read_text(errors="replace")) == [], log.name
