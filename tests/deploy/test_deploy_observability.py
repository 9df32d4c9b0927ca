"""Dashboards and alert rules: valid, and built only on metrics the platform really exports."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from typing import Any

import ykt_deploy_checks as checks
from ykt_contracts import EVENTS
from ykt_contracts.topics import all_topics

FLOW_METRICS = {
    "ykt_records_total",
    "ykt_amount_fen_total",
    "ykt_events_consumed_total",
    "ykt_outbox_backlog",
    "ykt_dead_letters_total",
}


def test_exported_metric_names_come_from_the_kit_and_the_services(exported: checks.ExportedMetrics) -> None:
    for name in FLOW_METRICS | {"ykt_events_published_total", "ykt_event_handle_seconds_bucket"}:
        assert name in exported.series, name
    assert exported.labels("ykt_events_consumed_total") == ("service", "topic", "outcome")
    assert exported.labels("ykt_event_handle_seconds_bucket") == ("service", "topic", "le")
    _defs, unreadable = checks.service_metric_defs()
    assert unreadable == [], "metric names must be string literals so these checks can see them"


def test_every_dashboard_is_valid_and_uses_exported_metrics(
    exported: checks.ExportedMetrics, datasource_uids: set[str]
) -> None:
    dashboards = sorted((checks.GRAFANA_DIR / "dashboards").glob("*.json"))
    assert dashboards
    uids = set()
    for path in dashboards:
        dash = json.loads(path.read_text(encoding="utf-8"))
        assert checks.dashboard_problems(dash, exported, datasource_uids) == [], path.name
        assert dash["uid"] not in uids
        uids.add(dash["uid"])


def test_flow_overview_shows_records_money_events_outbox_and_dead_letters(dashboard: dict[str, Any]) -> None:
    used = {sel.metric for _where, q in checks.dashboard_queries(dashboard) for sel in checks.selectors_of(q)}
    assert FLOW_METRICS <= used


def test_alert_rules_are_well_formed_and_use_exported_metrics(
    alert_rules: dict[str, Any], exported: checks.ExportedMetrics
) -> None:
    assert checks.alert_rules_problems(alert_rules, exported, all_topics()) == []


def test_the_required_alerts_are_there(alert_rules: dict[str, Any]) -> None:
    rules = [r for g in alert_rules["groups"] for r in g["rules"]]

    def using(metric: str) -> list[dict[str, Any]]:
        return [r for r in rules if any(s.metric == metric for s in checks.selectors_of(r["expr"]))]

    assert using("ykt_dead_letters_total")
    backlog = using("ykt_outbox_backlog")
    assert backlog
    assert all(r["for"] == "10m" for r in backlog)
    dead_lettered = [
        r
        for r in using("ykt_events_consumed_total")
        if ("outcome", "=", "dead_lettered")
        in (m for s in checks.selectors_of(r["expr"]) for m in s.matchers)
    ]
    assert dead_lettered
    bank = using("ykt_bank_requests_total")
    assert bank
    assert any(("outcome", "!=", "ok") in s.matchers for r in bank for s in checks.selectors_of(r["expr"]))
    assert any("Stuck" in r["alert"] for r in rules)


def test_runbook_links_point_at_headings_of_the_operations_guide(alert_rules: dict[str, Any]) -> None:
    anchors = checks.markdown_anchors(checks.OPERATIONS_DOC.read_text(encoding="utf-8"))
    for group in alert_rules["groups"]:
        for rule in group["rules"]:
            url = rule["annotations"]["runbook_url"]
            doc, _, anchor = url.partition("#")
            assert doc == "docs/operations.md", f"{rule['alert']}: {url}"
            assert anchor in anchors, f"{rule['alert']}: {url}"


def test_promtool_accepts_config_rules_and_rule_tests_where_installed(
    alert_rules: dict[str, Any], exported: checks.ExportedMetrics
) -> None:
    """The Python checks always run; promtool adds the full PromQL grammar and the rule unit tests
    (deploy/prometheus/alerts.test.yml). YKT_REQUIRE_PROMTOOL=1 (CI) makes promtool mandatory."""
    assert checks.alert_rules_problems(alert_rules, exported, all_topics()) == []
    tests = checks.load_yaml(checks.PROMETHEUS_DIR / "alerts.test.yml")
    assert tests["rule_files"] == ["alerts.yml"]
    assert tests["tests"]
    tested = {t["alertname"] for case in tests["tests"] for t in case.get("alert_rule_test", [])}
    assert tested == {r["alert"] for g in alert_rules["groups"] for r in g["rules"]}
    if checks.promtool() is None:
        assert os.environ.get("YKT_REQUIRE_PROMTOOL") != "1", (
            "promtool is required here (apt-get install prometheus)"
        )
        return
    for args in (
        ("check", "config", "prometheus.yml"),
        ("check", "rules", "alerts.yml"),
        ("test", "rules", "alerts.test.yml"),
    ):
        proc = checks.run_promtool(*args)
        assert proc.returncode == 0, f"promtool {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"


# ------------------------------------------------------------------ dashboards as code

SERVICE_DASHBOARDS = {f"service-{s.name}.json": s.name for s in checks.PLATFORM_SERVICES}


def _dashboards() -> dict[str, dict[str, Any]]:
    return {
        p.name: json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((checks.GRAFANA_DIR / "dashboards").glob("*.json"))
    }


def _metrics_of(dash: dict[str, Any]) -> set[str]:
    return {sel.metric for _where, q in checks.dashboard_queries(dash) for sel in checks.selectors_of(q)}


def test_the_dashboards_are_what_the_generator_writes() -> None:
    """deploy/grafana/generate_dashboards.py is the source; run it after editing it."""
    spec = importlib.util.spec_from_file_location(
        "generate_dashboards", checks.GRAFANA_DIR / "generate_dashboards.py"
    )
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = gen  # its dataclasses look their module up while being defined
    spec.loader.exec_module(gen)
    written = {name: gen.render(dash) for name, dash in gen.dashboards().items()}
    on_disk = {
        p.name: p.read_text(encoding="utf-8") for p in (checks.GRAFANA_DIR / "dashboards").glob("*.json")
    }
    assert sorted(written) == sorted(on_disk)
    for name, text in written.items():
        assert on_disk[name] == text, f"{name} differs: run deploy/grafana/generate_dashboards.py"


def test_one_dashboard_per_service_and_one_for_the_bank_adapters() -> None:
    dashboards = _dashboards()
    assert set(SERVICE_DASHBOARDS) | {"flow-overview.json", "bank-adapters.json"} == set(dashboards)
    for name, service in SERVICE_DASHBOARDS.items():
        queries = [q for _where, q in checks.dashboard_queries(dashboards[name])]
        # every service dashboard shows that service's HTTP routes; consumers their lag and dead letters
        assert any(f'service="{service}"' in q and "ykt_http_requests_total" in q for q in queries), name
        if any(service in spec.consumers for spec in EVENTS.values()):
            for metric in ("ykt_consumer_lag", "ykt_events_consumed_total", "ykt_dead_letters_total"):
                assert any(f'service="{service}"' in q and metric in q for q in queries), (name, metric)
    banks = _metrics_of(dashboards["bank-adapters.json"])
    assert {
        "ykt_bank_requests_total",
        "ykt_bank_request_seconds_bucket",
        "ykt_bank_callbacks_total",
        "ykt_bank_results_total",
        "ykt_bank_failures_total",
    } <= banks
    timeouts = [
        q for _w, q in checks.dashboard_queries(dashboards["bank-adapters.json"]) if 'outcome="timeout"' in q
    ]
    assert timeouts


def test_flow_overview_shows_batches_per_stage_throughput_and_failures_by_reason(
    dashboard: dict[str, Any],
) -> None:
    used = _metrics_of(dashboard)
    assert {
        "ykt_batches",
        "ykt_batch_oldest_seconds",
        "ykt_validation_rejections_total",
        "ykt_bank_failures_total",
        "ykt_consumer_lag",
        "ykt_event_delivery_seconds_bucket",
    } <= used
    titles = {p.get("title") for p in dashboard["panels"]}
    assert {"Batches per stage", "Throughput", "Failures by reason"} <= titles


def test_every_metric_the_platform_exports_is_on_a_dashboard(exported: checks.ExportedMetrics) -> None:
    shown = set().union(*(_metrics_of(d) for d in _dashboards().values()))
    families = set()
    for name in exported.series:
        if name.endswith("_created") or name.endswith(("_sum", "_count")):
            continue
        families.add(name)
    missing = sorted(families - shown)
    assert missing == [], f"exported but on no dashboard: {missing}"


def test_alerts_cover_stuck_batches_consumer_lag_and_a_stalled_outbox(alert_rules: dict[str, Any]) -> None:
    rules = {r["alert"]: r for g in alert_rules["groups"] for r in g["rules"]}

    def metrics(alert: str) -> set[str]:
        return {s.metric for s in checks.selectors_of(rules[alert]["expr"])}

    assert "ykt_batch_oldest_seconds" in metrics("YktBatchStuck")
    assert "ykt_batch_oldest_seconds" in metrics("YktBatchWaitingForBank")
    assert "ykt_consumer_lag" in metrics("YktConsumerLag")
    assert {"ykt_consumer_lag", "ykt_events_consumed_total"} <= metrics("YktConsumerStalled")
    assert {"ykt_outbox_backlog", "ykt_events_published_total"} <= metrics("YktOutboxStalled")
    # the stuck-batch alerts name only statuses the services really have
    from ykt_payment.domain.model import BatchStatus as PaymentStatus
    from ykt_registry.domain.model import BatchStatus as RegistryStatus

    known = {"registry": {s.value for s in RegistryStatus}, "payment": {s.value for s in PaymentStatus}}
    for alert in ("YktBatchStuck", "YktBatchWaitingForBank", "YktBatchWaitingForOperators"):
        for sel in checks.selectors_of(rules[alert]["expr"]):
            m = {label: value for label, _op, value in sel.matchers}
            assert m.get("service") in known, alert
            for status in m["status"].split("|"):
                assert status in known[m["service"]], (alert, status)
