"""Each validator rejects a broken copy of the file it guards: the checks above would notice."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import ykt_deploy_checks as checks
from ykt_contracts.topics import all_topics
from ykt_deploy_checks import NetworkPolicyModel, Pod


def test_compose_schema_rejects_an_invalid_key(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["registry"]["healthcheck"]["intervall"] = "10s"
    errors = checks.compose_schema_errors(broken)
    assert any("services/registry/healthcheck" in e and "intervall" in e for e in errors), errors


def test_compose_schema_rejects_a_wrong_type_and_an_unknown_top_level_key(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["payment"]["depends_on"]["postgres"]["condition"] = "service_ready"
    broken["servicez"] = {}
    errors = checks.compose_schema_errors(broken)
    assert any("servicez" in e for e in errors), errors
    assert any("services/payment/depends_on" in e for e in errors), errors


def test_healthcheck_check_rejects_a_service_without_one(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    del broken["services"]["validation"]["healthcheck"]
    problems = checks.compose_healthcheck_problems(broken)
    assert "validation: no healthcheck" in problems
    # and gateway waits for validation to be healthy, which can no longer happen
    assert any(p.startswith("gateway: waits for validation") for p in problems)


def test_secret_check_rejects_literals_defaults_and_passwords_in_urls(
    compose: dict[str, Any], compose_text: str
) -> None:
    broken = copy.deepcopy(compose)
    env = broken["services"]["registry"]["environment"]
    env["YKT_SERVICE_SECRET"] = "not-so-secret"  # noqa: S105 - the broken copy under test
    env["DATABASE_URL"] = "postgresql://ykt:hunter2@postgres:5432/ykt"
    text = compose_text + "\n# ${GRAFANA_ADMIN_PASSWORD:-admin}\n"
    problems = checks.compose_secret_problems(broken, text)
    assert "registry: YKT_SERVICE_SECRET is not a required ${VAR:?...} reference" in problems
    assert "registry: DATABASE_URL carries a literal password" in problems
    assert any("GRAFANA_ADMIN_PASSWORD" in p and "default" in p for p in problems)


def test_dockerfile_check_rejects_root_an_unpinned_uv_and_a_missing_member() -> None:
    text = checks.DOCKERFILE.read_text(encoding="utf-8")
    broken = text.replace("USER 10001:10001", "USER root").replace('"uv==${UV_VERSION}"', "uv")
    broken = broken.replace("COPY services/payment/pyproject.toml services/payment/pyproject.toml\n", "")
    broken = broken.replace("--no-dev --no-editable", "--no-editable")
    problems = checks.dockerfile_problems(broken)
    assert "the runtime stage runs as root" in problems
    assert any("uv is not installed from PyPI" in p for p in problems)
    assert "services/payment/pyproject.toml is not copied for the dependency layer" in problems
    assert "every uv sync must use --no-dev" in problems


def test_kubernetes_validation_rejects_unknown_fields_and_wrong_types(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    good = checks.objects_of(rendered["prod"], "Deployment")["payment"]
    unknown_field = copy.deepcopy(good)
    unknown_field["spec"]["replicaz"] = 3
    wrong_type = copy.deepcopy(good)
    wrong_type["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "eight thousand"
    misspelt_probe = copy.deepcopy(good)
    misspelt_probe["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    errors = checks.kubernetes_schema_errors([unknown_field, wrong_type, misspelt_probe], versions=("1.31",))
    assert len(errors) == 3, errors
    assert "'replicaz' was unexpected" in errors[0]
    assert "containerPort: 'eight thousand' is not of type 'integer'" in errors[1]
    assert "'httpGett' was unexpected" in errors[2]
    unknown_kind = {"apiVersion": "example.com/v1", "kind": "KafkaTopic", "metadata": {"name": "x"}}
    assert checks.kubernetes_schema_errors([unknown_kind], versions=("1.31",))


def test_deployment_check_rejects_missing_probes_limits_and_hardening(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    deployment = copy.deepcopy(checks.objects_of(rendered["prod"], "Deployment")["registry"])
    spec = deployment["spec"]["template"]["spec"]
    container = spec["containers"][0]
    del container["readinessProbe"]
    container["livenessProbe"]["httpGet"]["path"] = "/"
    del container["resources"]["limits"]
    container["securityContext"]["allowPrivilegeEscalation"] = True
    spec["enableServiceLinks"] = True
    container["env"].append({"name": "YKT_PII_ENC_KEY", "value": "committed-by-mistake"})
    problems = checks.deployment_problems(deployment)
    expected = [
        "Deployment/registry[registry]: no readinessProbe",
        "Deployment/registry[registry]: livenessProbe does not GET /health/live",
        "Deployment/registry[registry]: no limits.cpu",
        "Deployment/registry[registry]: no limits.memory",
        "Deployment/registry[registry]: allowPrivilegeEscalation is not false",
        "Deployment/registry[registry]: YKT_PII_ENC_KEY must come from a secretKeyRef",
    ]
    for p in expected:
        assert p in problems, problems
    assert any("enableServiceLinks" in p for p in problems)


def test_secret_check_rejects_a_rendered_secret() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "ykt-secrets"},
        "stringData": {"A": "b"},
    }
    assert checks.no_committed_secret_problems([secret])


def test_network_policy_model_notices_a_missing_policy(rendered: dict[str, list[dict[str, Any]]]) -> None:
    namespaces: dict[str, dict[str, str]] = {"ykt": {}, "default": {}}
    stranger = Pod("curl", "default", {"run": "curl"})
    objects = rendered["prod"]
    pods = checks.pods_of(objects, "ykt")
    assert not NetworkPolicyModel(objects, "ykt", namespaces).allows(stranger, pods["registry"], 8101)
    assert NetworkPolicyModel(objects, "ykt", namespaces).allows(pods["gateway"], pods["registry"], 8101)
    # without the default deny and the policies that select registry for ingress, nothing guards it
    unguarded = [
        o
        for o in objects
        if o["metadata"]["name"]
        not in ("default-deny-all", "services-ingress-from-gateway", "services-ingress-monitoring")
    ]
    assert NetworkPolicyModel(unguarded, "ykt", namespaces).allows(stranger, pods["registry"], 8101)
    # without the gateway's own policy, its egress to registry is denied by default
    no_gateway = [
        o for o in objects if not (o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "gateway")
    ]
    assert not NetworkPolicyModel(no_gateway, "ykt", namespaces).allows(
        pods["gateway"], pods["registry"], 8101
    )


def test_dashboard_check_rejects_an_unknown_metric_and_a_broken_layout(
    dashboard: dict[str, Any], exported: checks.ExportedMetrics, datasource_uids: set[str]
) -> None:
    broken = copy.deepcopy(dashboard)
    panel = next(p for p in broken["panels"] if p["type"] == "timeseries")
    panel["targets"][0]["expr"] = "sum(rate(ykt_records_totl[5m]))"
    broken["panels"][2]["id"] = broken["panels"][1]["id"]
    broken["panels"][3]["datasource"] = {"type": "prometheus", "uid": "nope"}
    problems = checks.dashboard_problems(broken, exported, datasource_uids)
    assert any("ykt_records_totl is not a metric the platform exports" in p for p in problems), problems
    assert any("is used twice" in p for p in problems)
    assert any("data source nope" in p for p in problems)
    assert checks.dashboard_problems([], exported, datasource_uids) == ["the dashboard is not a JSON object"]


def test_dashboard_check_rejects_an_unknown_label_and_an_unknown_function(
    dashboard: dict[str, Any], exported: checks.ExportedMetrics, datasource_uids: set[str]
) -> None:
    broken = copy.deepcopy(dashboard)
    panel = next(p for p in broken["panels"] if p["type"] == "timeseries")
    panel["targets"][0]["expr"] = 'rates(ykt_outbox_backlog{servcie="payment"}[5m])'
    problems = checks.dashboard_problems(broken, exported, datasource_uids)
    assert any("unknown function rates" in p for p in problems), problems
    assert any("has no label servcie" in p for p in problems), problems


def test_alert_check_rejects_unknown_metrics_topics_and_bad_structure(
    alert_rules: dict[str, Any], exported: checks.ExportedMetrics
) -> None:
    broken = copy.deepcopy(alert_rules)
    rules = broken["groups"][0]["rules"]
    rules[0]["expr"] = "increase(ykt_dead_letter_total[5m]) > 0"
    rules[1]["for"] = "ten minutes"
    del rules[2]["labels"]
    rules.append(
        {
            "alert": "YktNoExpr",
            "labels": {"severity": "warning"},
            "annotations": {"summary": "s", "description": "d"},
        }
    )
    rules.append(
        {
            "alert": "YktWrongTopic",
            "expr": 'sum(increase(ykt_events_published_total{topic="ykt.payment.setled"}[1h])) > 0',
            "labels": {"severity": "info"},
            "annotations": {"summary": "s", "description": "d"},
            "severity": "info",
        }
    )
    problems = checks.alert_rules_problems(broken, exported, all_topics())
    assert any("ykt_dead_letter_total is not a metric the platform exports" in p for p in problems), problems
    assert any("bad duration for: ten minutes" in p for p in problems)
    assert any("labels.severity" in p for p in problems)
    assert any("YktNoExpr: no expr" in p for p in problems)
    assert any("topic ykt.payment.setled is not a platform topic" in p for p in problems)
    assert any("unknown keys ['severity']" in p for p in problems)
    assert checks.alert_rules_problems({"groups": []}, exported) == [
        "the file must have a non-empty list `groups`"
    ]


def test_a_promised_metric_is_accepted_only_until_its_service_defines_metrics(tmp_path: Path) -> None:
    bank = tmp_path / "services" / "bank-gateway" / "src" / "ykt_bank_gateway"
    bank.mkdir(parents=True)
    assert "ykt_bank_requests_total" in checks.exported_metrics(tmp_path)
    (bank / "metrics.py").write_text(
        'from prometheus_client import Counter\nX = Counter("ykt_bank_calls_total", "d", ["bank"])\n',
        encoding="utf-8",
    )
    exported = checks.exported_metrics(tmp_path)
    assert "ykt_bank_requests_total" not in exported
    assert exported.labels("ykt_bank_calls_total") == ("bank",)


def test_metric_scan_ignores_collections_counter_and_reads_aliases() -> None:
    source = (
        "import collections\nfrom collections import Counter\nimport prometheus_client as pc\n"
        "from prometheus_client import Histogram as H\n"
        'a = Counter("not_a_metric")\nb = collections.Counter()\n'
        'c = pc.Gauge("ykt_x", "d", labelnames=("k",))\nd = H("ykt_y_seconds", "d", namespace="n")\n'
    )
    defs, unreadable = checks.source_metric_defs(source, "m.py")
    assert [(d.name, d.type, d.labels) for d in defs] == [
        ("ykt_x", "gauge", ("k",)),
        ("n_ykt_y_seconds", "histogram", ()),
    ]
    assert unreadable == []
    exposed = checks.exposition_names(defs[1])
    assert {"n_ykt_y_seconds_bucket", "n_ykt_y_seconds_sum", "n_ykt_y_seconds_count"} <= set(exposed)


def test_promtool_rejects_broken_rules_where_installed(tmp_path: Path) -> None:
    broken = tmp_path / "alerts.yml"
    broken.write_text(
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(rate(ykt_records_total[5m])\n",
        encoding="utf-8",
    )
    if checks.promtool() is None:
        _selectors, syntax = checks.parse_promql("sum(rate(ykt_records_total[5m])")
        assert syntax
        return
    proc = checks.run_promtool("check", "rules", str(broken), cwd=tmp_path)
    assert proc.returncode != 0
