"""Dashboards and alert rules: valid, and built only on metrics the platform really exports."""

from __future__ import annotations

import json
import os
from typing import Any

import ykt_deploy_checks as checks
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
