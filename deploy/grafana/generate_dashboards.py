"""Writes the Grafana dashboards in deploy/grafana/dashboards/ (run after changing this file):

    .venv/bin/python deploy/grafana/generate_dashboards.py

The JSON files are what Grafana provisions; tests/deploy checks that they are what this script
writes, that every query uses only metrics the services export, and that every exported metric
is on some dashboard. Standard library only."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards"
PROM = {"type": "prometheus", "uid": "prometheus"}
RI = "$__rate_interval"

# Statuses whose wait is the platform's (an event or the bank is due), not an operator's.
SYSTEM_WAITS = {
    "registry": "validating|funded|completed",
    "payment": "awaiting_records|funded|instructed",
}


@dataclass
class Board:
    """One dashboard: panels placed left to right in rows of the 24-column grid."""

    uid: str
    title: str
    description: str
    tags: list[str]
    variables: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    panels: list[dict[str, Any]] = field(default_factory=list)
    _x: int = 0
    _y: int = 0
    _h: int = 0

    def row(self, title: str) -> None:
        self._newline()
        self.panels.append(
            {
                "id": len(self.panels) + 1,
                "type": "row",
                "title": title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": self._y},
                "panels": [],
            }
        )
        self._y += 1

    def _newline(self) -> None:
        if self._x:
            self._y += self._h
            self._x, self._h = 0, 0

    def add(
        self,
        kind: str,
        title: str,
        description: str,
        targets: list[tuple[str, str]],
        *,
        w: int = 12,
        h: int = 8,
        unit: str = "short",
        instant: bool = False,
    ) -> None:
        if self._x + w > 24:
            self._newline()
        panel: dict[str, Any] = {
            "id": len(self.panels) + 1,
            "type": kind,
            "title": title,
            "description": description,
            "datasource": PROM,
            "gridPos": {"h": h, "w": w, "x": self._x, "y": self._y},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "options": _options(kind),
            "targets": [
                {
                    "datasource": PROM,
                    "refId": chr(ord("A") + i),
                    "expr": expr,
                    "legendFormat": legend,
                    **({"instant": True, "range": False} if instant else {"range": True}),
                }
                for i, (expr, legend) in enumerate(targets)
            ],
        }
        if kind == "stat":
            panel["fieldConfig"]["defaults"]["color"] = {"mode": "thresholds"}
        self.panels.append(panel)
        self._x += w
        self._h = max(self._h, h)

    def ts(self, title: str, description: str, *targets: tuple[str, str], **kw: Any) -> None:
        self.add("timeseries", title, description, list(targets), **kw)

    def stat(self, title: str, description: str, expr: str, *, w: int = 4, unit: str = "short") -> None:
        self.add("stat", title, description, [(expr, title)], w=w, h=4, unit=unit)

    def bars(self, title: str, description: str, expr: str, legend: str, **kw: Any) -> None:
        self.add("bargauge", title, description, [(expr, legend)], instant=True, **kw)

    def json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": self.tags,
            "timezone": "browser",
            "editable": False,
            "graphTooltip": 1,
            "schemaVersion": 39,
            "version": 1,
            "refresh": "30s",
            "time": {"from": "now-6h", "to": "now"},
            "timepicker": {},
            "fiscalYearStartMonth": 0,
            "liveNow": False,
            "links": [*DASHBOARD_LINKS, *self.links],
            "annotations": {
                "list": [
                    {
                        "builtIn": 1,
                        "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                        "enable": True,
                        "hide": True,
                        "iconColor": "rgba(0, 211, 255, 1)",
                        "name": "Annotations & Alerts",
                        "type": "dashboard",
                    }
                ]
            },
            "templating": {"list": self.variables},
            "panels": self.panels,
        }


def _options(kind: str) -> dict[str, Any]:
    reduce = {"calcs": ["lastNotNull"], "fields": "", "values": False}
    if kind == "stat":
        return {"reduceOptions": reduce, "colorMode": "value", "graphMode": "area", "textMode": "auto"}
    if kind == "bargauge":
        return {
            "reduceOptions": reduce,
            "orientation": "horizontal",
            "displayMode": "gradient",
            "showUnfilled": True,
        }
    return {
        "legend": {
            "displayMode": "table",
            "placement": "bottom",
            "showLegend": True,
            "calcs": ["lastNotNull", "max"],
        },
        "tooltip": {"mode": "multi", "sort": "desc"},
    }


def query_variable(name: str, metric: str, label: str) -> dict[str, Any]:
    q = f"label_values({metric}, {label})"
    return {
        "name": name,
        "label": name,
        "type": "query",
        "datasource": PROM,
        "definition": q,
        "query": {"qryType": 1, "query": q, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "refresh": 2,
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
        "sort": 1,
        "hide": 0,
        "regex": "",
        "skipUrlSync": False,
    }


def textbox(name: str, label: str, default: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "textbox",
        "query": default,
        "current": {"selected": False, "text": default, "value": default},
        "options": [{"selected": True, "text": default, "value": default}],
        "hide": 0,
        "skipUrlSync": False,
    }


# Trace search by batch: type the batch id, follow the link (Jaeger's tag search on ykt.batch_id).
TRACE_VARIABLES = [
    textbox("batch_id", "batch id (for the trace link)", ""),
    textbox("jaeger", "Jaeger URL", "http://127.0.0.1:16686"),
]
DASHBOARD_LINKS: list[dict[str, Any]] = [
    {
        "title": "一卡通 dashboards",
        "type": "dashboards",
        "tags": ["ykt"],
        "asDropdown": True,
        "includeVars": False,
        "keepTime": True,
    },
    {
        "title": "Traces of batch ${batch_id} (Jaeger)",
        "type": "link",
        "url": "${jaeger}/search?limit=100&lookback=7d&tags=%7B%22ykt.batch_id%22%3A%22${batch_id}%22%7D",
        "targetBlank": True,
        "icon": "external link",
    },
]


def service_board(name: str, *, consumes: bool, produces: bool, what: str) -> Board:
    s = f'service="{name}"'
    b = Board(
        uid=f"ykt-service-{name}",
        title=f"一卡通 service: {name}",
        description=f"The {name} service: {what}",
        tags=["ykt", "service"],
        variables=list(TRACE_VARIABLES),
    )
    b.row("HTTP")
    b.ts(
        "Requests by route and status",
        "Requests per second served, by route template and status code (health and metrics not counted).",
        (
            f"sum by (method, route, status) (rate(ykt_http_requests_total{{{s}}}[{RI}]))",
            "{{method}} {{route}} {{status}}",
        ),
        unit="reqps",
    )
    b.ts(
        "Request time (p95) by route",
        "95th percentile of the time to serve a request.",
        (
            f"histogram_quantile(0.95, sum by (le, route) (rate(ykt_http_request_seconds_bucket{{{s}}}[{RI}])))",
            "{{route}}",
        ),
        unit="s",
    )
    if consumes:
        b.row("Consuming")
        b.ts(
            "Events consumed by topic and outcome",
            "processed, duplicate (redelivered, ignored by the inbox) and dead_lettered.",
            (
                f"sum by (topic, outcome) (rate(ykt_events_consumed_total{{{s}}}[{RI}]))",
                "{{topic}} {{outcome}}",
            ),
            unit="ops",
        )
        b.ts(
            "Consumer lag by topic",
            "Messages not yet consumed, summed over the partitions of each topic (all replicas).",
            (f"sum by (topic) (ykt_consumer_lag{{{s}}})", "{{topic}}"),
        )
        b.ts(
            "Handling time (p95) by topic",
            "Time to handle one event, its transaction's commit included.",
            (
                f"histogram_quantile(0.95, sum by (le, topic) (rate(ykt_event_handle_seconds_bucket{{{s}}}[{RI}])))",
                "{{topic}}",
            ),
            w=8,
            unit="s",
        )
        b.ts(
            "Delivery time (p95) by topic",
            "From the producer's outbox write to the start of handling here.",
            (
                f"histogram_quantile(0.95, sum by (le, topic) (rate(ykt_event_delivery_seconds_bucket{{{s}}}[{RI}])))",
                "{{topic}}",
            ),
            w=8,
            unit="s",
        )
        b.ts(
            "Dead letters by topic",
            "Messages this service sent to ykt.dead-letter (see the runbook).",
            (f"sum by (topic) (increase(ykt_dead_letters_total{{{s}}}[{RI}]))", "{{topic}}"),
            w=8,
        )
    if produces:
        b.row("Publishing (outbox)")
        b.ts(
            "Events published by topic",
            "Events the outbox relay published.",
            (f"sum by (topic) (rate(ykt_events_published_total{{{s}}}[{RI}]))", "{{topic}}"),
            unit="ops",
        )
        b.ts(
            "Outbox backlog",
            "Rows written but not yet published, per replica.",
            (f"ykt_outbox_backlog{{{s}}}", "{{instance}}"),
        )
    return b


def batch_panels(b: Board, name: str) -> None:
    s = f'service="{name}"'
    b.bars(
        "Batches per status",
        f"Batches in each status now ({name}'s own table, sampled every 15 s).",
        f"sum by (status) (ykt_batches{{{s}}})",
        "{{status}}",
        w=8,
    )
    b.bars(
        "Longest wait per status",
        "Time since the least recently changed batch in each status last changed. Platform waits: "
        f"{SYSTEM_WAITS[name].replace('|', ', ')}; the others wait for an operator.",
        f"max by (status) (ykt_batch_oldest_seconds{{{s}}})",
        "{{status}}",
        w=8,
        unit="s",
    )


def flow_overview() -> Board:
    b = Board(
        uid="ykt-flow-overview",
        title="一卡通 flow overview",
        description="Batches and records through the six steps, throughput, failures by reason, events, "
        "outbox, consumer lag and dead letters.",
        tags=["ykt", "flow"],
        variables=[query_variable("service", "ykt_events_consumed_total", "service"), *TRACE_VARIABLES],
    )
    sv = 'service=~"$service"'
    b.row("Money and records")
    b.stat(
        "Records settled",
        "Records the banks reported as credited in the selected range (payment's ledger).",
        'sum(increase(ykt_records_total{stage="payment", outcome="settled"}[$__range]))',
        w=4,
    )
    b.stat(
        "Amount settled",
        "Money credited to one-card accounts in the selected range (fen / 100).",
        'sum(increase(ykt_amount_fen_total{stage="payment", outcome="settled"}[$__range])) / 100',
        w=4,
        unit="currencyCNY",
    )
    b.stat(
        "Records failed",
        "Records a bank reported as failed in the selected range (payment's ledger).",
        'sum(increase(ykt_records_total{stage="payment", outcome="failed"}[$__range]))',
        w=4,
    )
    b.stat(
        "Batches in flight",
        "Registry batches not yet disclosed.",
        'sum(ykt_batches{service="registry", status!="disclosed"})',
        w=4,
    )
    b.stat(
        "Dead letters",
        "Messages sent to ykt.dead-letter in the selected range; anything above 0 needs a look.",
        f"sum(increase(ykt_dead_letters_total{{{sv}}}[$__range]))",
        w=4,
    )
    b.stat(
        "Outbox backlog",
        "Outbox rows not yet published, all services.",
        f"sum(ykt_outbox_backlog{{{sv}}})",
        w=4,
    )
    b.ts(
        "Records by stage and outcome",
        "Records per second passing each stage of the six-step flow.",
        (f"sum by (stage, outcome) (rate(ykt_records_total{{{sv}}}[{RI}]))", "{{stage}} {{outcome}}"),
        unit="ops",
    )
    b.ts(
        "Amount by stage and outcome",
        "Yuan per second passing each stage (fen / 100).",
        (
            f"sum by (stage, outcome) (rate(ykt_amount_fen_total{{{sv}}}[{RI}])) / 100",
            "{{stage}} {{outcome}}",
        ),
        unit="currencyCNY",
    )

    b.row("Batches per stage")
    b.bars(
        "Registry batches per status",
        "Where the batches are in the six steps (registry's statuses, sampled every 15 s).",
        'sum by (status) (ykt_batches{service="registry"})',
        "{{status}}",
        w=8,
    )
    b.bars(
        "Payment batches per status",
        "Review, funding, instructions and bank results (payment's statuses).",
        'sum by (status) (ykt_batches{service="payment"})',
        "{{status}}",
        w=8,
    )
    b.bars(
        "Longest platform wait per stage",
        "Time since the least recently changed batch in a status the platform must move on by "
        "itself last changed (alert YktBatchStuck).",
        'max by (service, status) (ykt_batch_oldest_seconds{service="registry", status=~"'
        + SYSTEM_WAITS["registry"]
        + '"} or ykt_batch_oldest_seconds{service="payment", status=~"'
        + SYSTEM_WAITS["payment"]
        + '"})',
        "{{service}} {{status}}",
        w=8,
        unit="s",
    )
    b.ts(
        "Batch transitions (payment)",
        "Batches entering each payment status.",
        (f"sum by (status) (increase(ykt_payment_batch_transitions_total[{RI}]))", "{{status}}"),
        w=24,
        h=6,
    )

    b.row("Throughput")
    b.ts(
        "Records per minute by service and stage",
        "Throughput of each stage.",
        (f"sum by (service, stage) (rate(ykt_records_total{{{sv}}}[{RI}])) * 60", "{{service}} {{stage}}"),
        w=8,
    )
    b.ts(
        "Events consumed per second by service",
        "Every consumed event, whatever the outcome.",
        (f"sum by (service) (rate(ykt_events_consumed_total{{{sv}}}[{RI}]))", "{{service}}"),
        w=8,
        unit="ops",
    )
    b.ts(
        "HTTP requests per second by service",
        "Operator and bank traffic (health checks and scrapes not counted).",
        (f"sum by (service) (rate(ykt_http_requests_total{{{sv}}}[{RI}]))", "{{service}}"),
        w=8,
        unit="reqps",
    )

    b.row("Failures by reason")
    b.bars(
        "Validation rejections by rule",
        "Records rejected by validation in the selected range, by rule code.",
        "sum by (code) (increase(ykt_validation_rejections_total[$__range]))",
        "{{code}}",
        w=8,
    )
    b.bars(
        "Bank failures by reason",
        "Records the banks reported failed in the selected range, by the bank's reason code.",
        "sum by (reason) (increase(ykt_bank_failures_total[$__range]))",
        "{{reason}}",
        w=8,
    )
    b.bars(
        "Records blocked before the bank",
        "Records payment blocked (already paid this period) in the selected range.",
        'sum(increase(ykt_records_total{stage="payment", outcome="blocked"}[$__range]))',
        "blocked",
        w=8,
    )
    b.ts(
        "Bank requests not ok by bank and outcome",
        "error, timeout and rejected requests to the banks (see the bank adapters dashboard).",
        (
            f'sum by (bank, outcome) (rate(ykt_bank_requests_total{{outcome!="ok"}}[{RI}]))',
            "{{bank}} {{outcome}}",
        ),
        unit="reqps",
    )
    b.ts(
        "Server errors by service",
        "HTTP 5xx answers per second.",
        (f'sum by (service) (rate(ykt_http_requests_total{{{sv}, status=~"5.."}}[{RI}]))', "{{service}}"),
        unit="reqps",
    )

    b.row("Events")
    b.ts(
        "Events consumed by outcome",
        "processed, duplicate (redelivered and ignored) and dead_lettered, per consuming service.",
        (
            f"sum by (service, outcome) (rate(ykt_events_consumed_total{{{sv}}}[{RI}]))",
            "{{service}} {{outcome}}",
        ),
        unit="ops",
    )
    b.ts(
        "Events published by topic",
        "Events the outbox relays published.",
        (f"sum by (topic) (rate(ykt_events_published_total{{{sv}}}[{RI}]))", "{{topic}}"),
        unit="ops",
    )
    b.ts(
        "Event handling time (p95)",
        "95th percentile of the time to handle one event, commit included.",
        (
            f"histogram_quantile(0.95, sum by (le, service) (rate(ykt_event_handle_seconds_bucket{{{sv}}}[{RI}])))",
            "{{service}}",
        ),
        w=8,
        unit="s",
    )
    b.ts(
        "Event delivery time (p95)",
        "From the producer's outbox write to the start of handling.",
        (
            f"histogram_quantile(0.95, sum by (le, service) (rate(ykt_event_delivery_seconds_bucket{{{sv}}}[{RI}])))",
            "{{service}}",
        ),
        w=8,
        unit="s",
    )
    b.ts(
        "Consumer lag by service and topic",
        "Messages not yet consumed (alert YktConsumerLag).",
        (f"sum by (service, topic) (ykt_consumer_lag{{{sv}}})", "{{service}} {{topic}}"),
        w=8,
    )
    b.ts(
        "Outbox backlog by service",
        "Rows waiting for the relay (alert YktOutboxBacklog).",
        (f"max by (service) (ykt_outbox_backlog{{{sv}}})", "{{service}}"),
    )
    b.ts(
        "Dead letters by topic",
        "Messages sent to ykt.dead-letter (alert YktDeadLetters).",
        (
            f"sum by (service, topic) (increase(ykt_dead_letters_total{{{sv}}}[{RI}]))",
            "{{service}} {{topic}}",
        ),
    )
    return b


def bank_adapters() -> Board:
    b = Board(
        uid="ykt-bank-adapters",
        title="一卡通 bank adapters",
        description="The bank-gateway's conversations with each agent bank: requests, errors, timeouts, "
        "latency, result callbacks and results.",
        tags=["ykt", "bank"],
        variables=[query_variable("bank", "ykt_bank_requests_total", "bank"), *TRACE_VARIABLES],
    )
    bk = 'bank=~"$bank"'
    b.row("Requests to the banks")
    b.ts(
        "Requests by bank and outcome",
        "ok, error (5xx, 429, transport), timeout and rejected (the bank refused the request).",
        (f"sum by (bank, outcome) (rate(ykt_bank_requests_total{{{bk}}}[{RI}]))", "{{bank}} {{outcome}}"),
        unit="reqps",
    )
    b.ts(
        "Share of requests not ok",
        "Alert YktBankErrorRate fires above 5% for 10 minutes.",
        (
            f'sum by (bank) (rate(ykt_bank_requests_total{{{bk}, outcome!="ok"}}[{RI}])) / '
            f"sum by (bank) (rate(ykt_bank_requests_total{{{bk}}}[{RI}]))",
            "{{bank}}",
        ),
        unit="percentunit",
    )
    b.ts(
        "Timeouts by bank",
        "Requests that got no answer in BANKGW_BANK_TIMEOUT_SECONDS.",
        (f'sum by (bank) (rate(ykt_bank_requests_total{{{bk}, outcome="timeout"}}[{RI}]))', "{{bank}}"),
        w=8,
        unit="reqps",
    )
    b.ts(
        "Request time (p50, p95)",
        "Duration of one request to a bank.",
        (
            f"histogram_quantile(0.5, sum by (le, bank) (rate(ykt_bank_request_seconds_bucket{{{bk}}}[{RI}])))",
            "{{bank}} p50",
        ),
        (
            f"histogram_quantile(0.95, sum by (le, bank) (rate(ykt_bank_request_seconds_bucket{{{bk}}}[{RI}])))",
            "{{bank}} p95",
        ),
        w=16,
        unit="s",
    )
    b.row("Results")
    b.ts(
        "Results by bank and outcome",
        "settled, failed, and ignored (already final, unknown or of another bank).",
        (f"sum by (bank, outcome) (rate(ykt_bank_results_total{{{bk}}}[{RI}]))", "{{bank}} {{outcome}}"),
        unit="ops",
    )
    b.bars(
        "Failures by bank and reason",
        "Records failed in the selected range, by the bank's reason code.",
        f"sum by (bank, reason) (increase(ykt_bank_failures_total{{{bk}}}[$__range]))",
        "{{bank}} {{reason}}",
    )
    b.ts(
        "Result callbacks by outcome",
        "processed; bad_signature (forged, or a key that differs) and invalid are refused.",
        (f"sum by (bank, outcome) (rate(ykt_bank_callbacks_total{{{bk}}}[{RI}]))", "{{bank}} {{outcome}}"),
        unit="reqps",
    )
    b.ts(
        "Results whose amount differs from the instruction",
        "Ignored and alerted (YktBankResultAmountMismatch).",
        (f"sum by (bank) (increase(ykt_bank_result_amount_mismatches_total{{{bk}}}[{RI}]))", "{{bank}}"),
    )
    b.row("Account verification (for validation)")
    b.ts(
        "Verification requests by bank and outcome",
        "Requests to each bank's verification API; timeouts leave the items pending, never failed.",
        (
            f"sum by (bank, outcome) (rate(ykt_bank_verification_requests_total{{{bk}}}[{RI}]))",
            "{{bank}} {{outcome}}",
        ),
        unit="reqps",
    )
    b.ts(
        "Verification items by status and source",
        "verified, rejected, pending, unsupported; answered by the bank or from the Redis cache.",
        (
            f"sum by (bank, status, source) (rate(ykt_bank_verification_items_total{{{bk}}}[{RI}]))",
            "{{bank}} {{status}} {{source}}",
        ),
        unit="ops",
    )
    b.ts(
        "Verification latency p95",
        "Time of one verification request to a bank (up to the configured batch size).",
        (
            "histogram_quantile(0.95, sum by (le, bank) "
            f"(rate(ykt_bank_verification_request_seconds_bucket{{{bk}}}[{RI}])))",
            "{{bank}}",
        ),
        unit="s",
    )
    b.bars(
        "Accounts rejected by bank and reason",
        "Verification answers that reject an account, in the selected range, by the bank's reason.",
        f"sum by (bank, reason) (increase(ykt_bank_verification_rejections_total{{{bk}}}[$__range]))",
        "{{bank}} {{reason}}",
    )
    b.row("Instructions in")
    b.ts(
        "Instructions stored",
        "Records of payment.instructed stored for the banks.",
        (
            f'sum(rate(ykt_records_total{{service="bank-gateway", stage="instructed"}}[{RI}])) * 60',
            "per minute",
        ),
    )
    b.ts(
        "payment.instructed waiting",
        "Consumer lag of the bank-gateway on ykt.payment.instructed.",
        ('sum(ykt_consumer_lag{service="bank-gateway", topic="ykt.payment.instructed"})', "lag"),
    )
    return b


def dashboards() -> dict[str, dict[str, Any]]:
    registry = service_board(
        "registry",
        consumes=True,
        produces=True,
        what="beneficiaries, batch intake, per-record status, send and re-issue (steps 1, 3 and 5).",
    )
    registry.row("Batches and records")
    batch_panels(registry, "registry")
    registry.ts(
        "Records in and verdicts",
        "Records accepted at intake and re-issued, and the verdicts that came back.",
        (
            f'sum by (stage, outcome) (rate(ykt_records_total{{service="registry"}}[{RI}])) * 60',
            "{{stage}} {{outcome}}",
        ),
        w=8,
    )
    registry.ts(
        "Amount accepted at intake",
        "Yuan per minute in submitted batches.",
        (
            f'sum by (outcome) (rate(ykt_amount_fen_total{{service="registry"}}[{RI}])) * 60 / 100',
            "{{outcome}}",
        ),
        w=24,
        h=6,
        unit="currencyCNY",
    )

    validation = service_board(
        "validation",
        consumes=True,
        produces=True,
        what="rules, verdicts and the duplicate-enjoyment ledger (step 2).",
    )
    validation.row("Verdicts")
    validation.ts(
        "Records passed and rejected",
        "Records per minute by verdict.",
        (f'sum by (outcome) (rate(ykt_records_total{{service="validation"}}[{RI}])) * 60', "{{outcome}}"),
        w=8,
    )
    validation.ts(
        "Rejections by rule",
        "Records rejected per minute, by rule code.",
        (f"sum by (code) (rate(ykt_validation_rejections_total[{RI}])) * 60", "{{code}}"),
        w=8,
    )
    validation.ts(
        "Ledger releases",
        "Duplicate-enjoyment claims released: a bank failure or a return frees the person's period.",
        (f"sum by (cause) (increase(ykt_validation_ledger_releases_total[{RI}]))", "{{cause}}"),
        w=8,
    )
    validation.ts(
        "Red-flag warnings passed",
        "Records a red flag set to warn let through, by code (until warnings need a named person's "
        "confirmation, issue 4).",
        (f"sum by (code) (increase(ykt_validation_warnings_passed_total[{RI}]))", "{{code}}"),
        w=8,
    )

    payment = service_board(
        "payment",
        consumes=True,
        produces=True,
        what="orders, finance review, treasury funding, instructions and bank results (steps 3-5).",
    )
    payment.row("Batches and orders")
    batch_panels(payment, "payment")
    payment.ts(
        "Batch transitions",
        "Batches entering each status.",
        (f"sum by (status) (increase(ykt_payment_batch_transitions_total[{RI}]))", "{{status}}"),
        w=8,
    )
    payment.ts(
        "Records by outcome",
        "instructed, settled, failed and blocked (already paid this period), per minute.",
        (f'sum by (outcome) (rate(ykt_records_total{{service="payment"}}[{RI}])) * 60', "{{outcome}}"),
    )
    payment.ts(
        "Amount by outcome",
        "Yuan per minute.",
        (
            f'sum by (outcome) (rate(ykt_amount_fen_total{{service="payment"}}[{RI}])) * 60 / 100',
            "{{outcome}}",
        ),
        unit="currencyCNY",
    )

    bank_gateway = service_board(
        "bank-gateway",
        consumes=True,
        produces=True,
        what="instructions to the banks and their results (steps 4 and 5); per bank on the bank adapters dashboard.",
    )
    bank_gateway.row("Banks")
    bank_gateway.ts(
        "Requests by bank and outcome",
        "See the bank adapters dashboard for latency, callbacks and failures by reason.",
        (f"sum by (bank, outcome) (rate(ykt_bank_requests_total[{RI}]))", "{{bank}} {{outcome}}"),
        unit="reqps",
    )
    bank_gateway.ts(
        "Results by outcome",
        "Bank results applied per minute.",
        (f"sum by (outcome) (rate(ykt_bank_results_total[{RI}])) * 60", "{{outcome}}"),
    )

    disclosure = service_board(
        "disclosure",
        consumes=True,
        produces=True,
        what="masked public lists of who was paid (step 6).",
    )
    disclosure.row("Publications")
    disclosure.ts(
        "Records disclosed",
        "Paid records held for publication, per minute.",
        (f'sum(rate(ykt_records_total{{service="disclosure", stage="disclosure"}}[{RI}])) * 60', "records"),
        w=8,
    )
    disclosure.ts(
        "Publications",
        "Masked lists published.",
        (f"sum(increase(ykt_disclosure_publications_total[{RI}]))", "publications"),
        w=8,
    )
    disclosure.ts(
        "Public site errors",
        "4xx and 5xx answers of the public pages and API.",
        (
            f'sum by (status) (rate(ykt_http_requests_total{{service="disclosure", status=~"[45].."}}[{RI}]))',
            "{{status}}",
        ),
        w=8,
        unit="reqps",
    )

    gateway = service_board(
        "gateway",
        consumes=False,
        produces=False,
        what="the operators' one API: logins, role checks, calls to the owning services.",
    )
    gateway.row("Access")
    gateway.ts(
        "Logins",
        "POST /api/v1/auth/token by status: 401 is a wrong password, 423 a locked account, 429 too many tries.",
        (
            f'sum by (status) (rate(ykt_http_requests_total{{service="gateway", route="/api/v1/auth/token"}}[{RI}]))',
            "{{status}}",
        ),
        w=8,
        unit="reqps",
    )
    gateway.ts(
        "Denied requests by route",
        "401 and 403 answers: no or expired token, or a role the route does not admit.",
        (
            f'sum by (route, status) (rate(ykt_http_requests_total{{service="gateway", status=~"401|403"}}[{RI}]))',
            "{{route}} {{status}}",
        ),
        w=8,
        unit="reqps",
    )
    gateway.ts(
        "Owning service unavailable",
        "503 answers: the service behind the route did not answer.",
        (
            f'sum by (route) (rate(ykt_http_requests_total{{service="gateway", status="503"}}[{RI}]))',
            "{{route}}",
        ),
        w=8,
        unit="reqps",
    )

    boards = [
        flow_overview(),
        registry,
        validation,
        payment,
        bank_gateway,
        disclosure,
        gateway,
        bank_adapters(),
    ]
    names = {
        "ykt-flow-overview": "flow-overview.json",
        "ykt-bank-adapters": "bank-adapters.json",
    }
    return {names.get(b.uid, b.uid.removeprefix("ykt-") + ".json"): b.json() for b in boards}


def render(dash: dict[str, Any]) -> str:
    return json.dumps(dash, ensure_ascii=False, indent=2) + "\n"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, dash in dashboards().items():
        (OUT / name).write_text(render(dash), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
