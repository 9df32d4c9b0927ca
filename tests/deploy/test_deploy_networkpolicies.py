"""The rendered NetworkPolicies, evaluated: the connections the platform needs are open, and the
ones it does not need are closed."""

from __future__ import annotations

from typing import Any

import pytest
import ykt_deploy_checks as checks
from ykt_deploy_checks import External, NetworkPolicyModel, Pod

Rendered = dict[str, list[dict[str, Any]]]

NAMESPACES: dict[str, dict[str, str]] = {
    "ykt": {},
    "ingress-nginx": {},
    "monitoring": {},
    "kube-system": {},
    "data": {},
    "default": {},
}
INGRESS_CONTROLLER = Pod(
    "ingress-nginx-controller", "ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}
)
PROMETHEUS = Pod("prometheus", "monitoring", {"app.kubernetes.io/name": "prometheus"})
COLLECTOR = Pod(
    "otel-collector", "monitoring", {"app.kubernetes.io/name": "otel-collector"}, {"otlp-http": 4318}
)
KUBE_DNS = Pod("coredns", "kube-system", {"k8s-app": "kube-dns"})
POSTGRES = Pod("postgres", "data", {"app.kubernetes.io/name": "postgres"})
REDIS = Pod("redis", "data", {"app.kubernetes.io/name": "redis"})
KAFKA = Pod("kafka", "data", {"app.kubernetes.io/name": "kafka"})
STRANGER = Pod("curl", "default", {"run": "curl"})
OUTSIDE = External("203.0.113.10")  # a bank or the treasury (TEST-NET-3)
PRIVATE = External("10.20.30.40")  # something else on the private network


def model(objects: list[dict[str, Any]]) -> tuple[NetworkPolicyModel, dict[str, Pod]]:
    return NetworkPolicyModel(objects, "ykt", NAMESPACES), checks.pods_of(objects, "ykt")


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_default_deny_and_dns_cover_every_pod(rendered: Rendered, overlay: str) -> None:
    net, pods = model(rendered[overlay])
    policies = checks.objects_of(rendered[overlay], "NetworkPolicy")
    deny = policies["default-deny-all"]["spec"]
    assert deny["podSelector"] == {}
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny
    assert "egress" not in deny
    for pod in pods.values():
        assert net.allows(pod, KUBE_DNS, 53, "UDP"), pod.name
        assert not net.allows(STRANGER, pod, pod.ports.get("http", 80)), pod.name
        assert not net.allows(pod, PRIVATE, 443), pod.name


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_the_ingress_controller_reaches_gateway_disclosure_and_bank_callbacks_only(
    rendered: Rendered, overlay: str
) -> None:
    net, pods = model(rendered[overlay])
    assert net.allows(INGRESS_CONTROLLER, pods["gateway"], 8000)
    assert net.allows(INGRESS_CONTROLLER, pods["disclosure"], 8105)
    assert net.allows(INGRESS_CONTROLLER, pods["bank-gateway"], 8104)  # /bank-callbacks
    for name in ("registry", "validation", "payment"):
        assert not net.allows(INGRESS_CONTROLLER, pods[name], checks.BY_NAME[name].port), name


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_gateway_calls_the_services_behind_it_and_nothing_else_does(rendered: Rendered, overlay: str) -> None:
    net, pods = model(rendered[overlay])
    behind = ["registry", "validation", "payment", "bank-gateway", "disclosure"]
    for name in behind:
        port = checks.BY_NAME[name].port
        assert net.allows(pods["gateway"], pods[name], port), name
        assert not net.allows(pods["gateway"], pods[name], 5432), f"{name} on a wrong port"
        for other in behind:
            if other != name:
                assert not net.allows(pods[other], pods[name], port), f"{other} -> {name}"
        assert not net.allows(pods[name], pods["gateway"], 8000), f"{name} -> gateway"


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_services_reach_their_infrastructure_and_are_scraped(rendered: Rendered, overlay: str) -> None:
    net, pods = model(rendered[overlay])
    for app in checks.PLATFORM_SERVICES:
        pod = pods[app.name]
        assert net.allows(pod, POSTGRES, 5432), app.name
        assert net.allows(pod, REDIS, 6379), app.name
        assert net.allows(pod, KAFKA, 9092), app.name
        assert net.allows(pod, COLLECTOR, 4318), app.name
        assert net.allows(PROMETHEUS, pod, app.port), app.name
        assert not net.allows(pod, POSTGRES, 22), app.name
    topics_job = pods["kafka-topics"]
    assert net.allows(topics_job, KAFKA, 9092)
    assert not net.allows(topics_job, POSTGRES, 5432)


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_only_payment_and_bank_gateway_leave_the_cluster(rendered: Rendered, overlay: str) -> None:
    net, pods = model(rendered[overlay])
    assert net.allows(pods["payment"], OUTSIDE, 443)
    assert net.allows(pods["bank-gateway"], OUTSIDE, 443)
    assert not net.allows(pods["payment"], OUTSIDE, 80)
    for name in ("gateway", "registry", "validation", "disclosure", "kafka-topics"):
        assert not net.allows(pods[name], OUTSIDE, 443), name


def test_development_simulators_are_reached_by_their_callers_only(rendered: Rendered) -> None:
    net, pods = model(rendered["dev"])
    assert net.allows(pods["payment"], pods["treasury-sim"], 8202)
    assert net.allows(pods["bank-gateway"], pods["bank-sim"], 8201)
    assert net.allows(pods["bank-sim"], pods["bank-gateway"], 8104)  # signed result callbacks
    assert not net.allows(pods["registry"], pods["bank-sim"], 8201)
    assert not net.allows(pods["gateway"], pods["treasury-sim"], 8202)
    assert not net.allows(pods["bank-sim"], pods["payment"], 8103)
    assert not net.allows(pods["treasury-sim"], POSTGRES, 5432)
    assert not net.allows(pods["bank-sim"], OUTSIDE, 443)
