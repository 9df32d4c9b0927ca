"""deploy/k8s: both overlays render with kustomize, every object is valid Kubernetes, every
Deployment is probed, limited and hardened, and the manifests agree with compose.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import ykt_deploy_checks as checks
from ykt_contracts.topics import DEAD_LETTER_TOPIC, PARTITIONS, all_topics

Rendered = dict[str, list[dict[str, Any]]]
OVERLAYS = ("dev", "prod")
AUTOSCALED = {"validation", "payment", "bank-gateway"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_objects_are_valid_kubernetes(rendered: Rendered, overlay: str) -> None:
    objects = rendered[overlay]
    assert objects
    assert checks.kubernetes_schema_errors(objects) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_lives_in_namespace_ykt(rendered: Rendered, overlay: str) -> None:
    for obj in rendered[overlay]:
        if obj["kind"] == "Namespace":
            assert obj["metadata"]["name"] == "ykt"
        else:
            assert obj["metadata"].get("namespace") == "ykt", f"{obj['kind']}/{obj['metadata']['name']}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_probes_limits_and_a_hardened_pod(rendered: Rendered, overlay: str) -> None:
    deployments = checks.objects_of(rendered[overlay], "Deployment")
    assert deployments
    problems = [
        p
        for name, d in deployments.items()
        for p in checks.deployment_problems(d, checks.readiness_path(checks.BY_NAME[name]))
    ]
    jobs = checks.objects_of(rendered[overlay], "Job")
    problems += [p for j in jobs.values() for p in checks.workload_problems(j)]
    assert problems == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_is_committed_and_services_read_ykt_secrets(rendered: Rendered, overlay: str) -> None:
    objects = rendered[overlay]
    assert checks.no_committed_secret_problems(objects) == []
    deployments = checks.objects_of(objects, "Deployment")
    for name, deployment in deployments.items():
        app = checks.BY_NAME[name]
        container = checks.pod_spec(deployment)["containers"][0]
        refs = {
            e["name"]: e["valueFrom"]["secretKeyRef"]
            for e in container["env"]
            if "secretKeyRef" in (e.get("valueFrom") or {})
        }
        shared = checks.PLATFORM_SECRETS if app.kind == "service" else ()
        expected = {var: var for var in shared} | checks.PROCESS_SECRETS.get(name, {})
        assert {var: ref["key"] for var, ref in refs.items()} == expected, name
        assert {r["name"] for r in refs.values()} <= {checks.SECRET_NAME}


def test_no_secret_manifest_or_key_material_in_deploy() -> None:
    import re

    for path in checks.DEPLOY.rglob("*"):
        if not path.is_file() or path.suffix not in (".yaml", ".yml", ".json", ".sh", ".md"):
            continue
        if path.parent.name == "schemas":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^kind:\s*Secret\b", text, re.M), path
        assert not re.search(r"\b[0-9a-fA-F]{32,}\b", text), f"{path} holds something shaped like a key"
        assert "PRIVATE KEY" not in text, path


def test_every_compose_process_has_a_deployment_with_the_same_command_and_port(
    rendered: Rendered, compose: dict[str, Any]
) -> None:
    deployments = checks.objects_of(rendered["dev"], "Deployment")
    services = checks.objects_of(rendered["dev"], "Service")
    built = {name for name, svc in compose["services"].items() if "build" in svc}
    assert built == {s.name for s in checks.APP_SERVICES}
    for name in built:
        app = checks.BY_NAME[name]
        container = checks.pod_spec(deployments[name])["containers"][0]
        assert container["command"] == compose["services"][name]["command"]
        assert container["ports"][0]["containerPort"] == app.port
        env = {e["name"]: e.get("value") for e in container.get("env") or []}
        assert env[f"{app.env_prefix}HOST"] == "0.0.0.0"  # noqa: S104 - pods listen on their network
        assert services[name]["spec"]["ports"][0]["port"] == app.port
        assert services[name]["spec"]["selector"] == {"app.kubernetes.io/name": name}


def test_services_see_every_variable_compose_gives_them(rendered: Rendered, compose: dict[str, Any]) -> None:
    configmaps = checks.objects_of(rendered["dev"], "ConfigMap")
    deployments = checks.objects_of(rendered["dev"], "Deployment")
    for app in checks.APP_SERVICES:
        in_compose = set(checks.env_mapping(compose["services"][app.name]["environment"]))
        in_k8s = checks.container_env_names(deployments[app.name], configmaps)
        if app.kind == "simulator":
            in_compose.discard("OTEL_EXPORTER_OTLP_ENDPOINT")  # simulators export no traces in k8s
        assert in_compose <= in_k8s, f"{app.name} misses {sorted(in_compose - in_k8s)}"


def test_production_runs_the_platform_and_no_simulator(rendered: Rendered) -> None:
    prod = checks.objects_of(rendered["prod"], "Deployment")
    assert set(prod) == {s.name for s in checks.PLATFORM_SERVICES}
    dev = checks.objects_of(rendered["dev"], "Deployment")
    assert set(dev) == {s.name for s in checks.APP_SERVICES}


def test_overlays_set_images_replicas_and_resources(rendered: Rendered) -> None:
    def images(overlay: str) -> set[str]:
        return {
            c["image"]
            for name, d in checks.objects_of(rendered[overlay], "Deployment").items()
            for c in checks.pod_spec(d)["containers"]
        }

    assert images("dev") == {"ykt-platform:dev"}
    (prod_image,) = images("prod")
    repo, tag = prod_image.rsplit(":", 1)
    assert repo.endswith("/ykt-platform")
    assert tag not in ("latest", "dev")
    dev = checks.objects_of(rendered["dev"], "Deployment")
    prod = checks.objects_of(rendered["prod"], "Deployment")
    assert {d["spec"]["replicas"] for d in dev.values()} == {1}
    for name, d in prod.items():
        assert d["spec"]["replicas"] >= (3 if name in AUTOSCALED else 2), name

    def memory_mi(d: Mapping[str, Any]) -> int:
        value = checks.pod_spec(d)["containers"][0]["resources"]["limits"]["memory"]
        return int(value[:-2]) * (1024 if value.endswith("Gi") else 1)

    for name in prod:
        assert memory_mi(prod[name]) > memory_mi(dev[name]), name
    configs = {o: checks.objects_of(rendered[o], "ConfigMap") for o in OVERLAYS}
    ykt_config = {
        o: next(v for k, v in configs[o].items() if k.startswith("ykt-config-"))["data"] for o in OVERLAYS
    }
    assert ykt_config["dev"]["PAYMENT_TREASURY_URL"] == "http://treasury-sim:8202"
    assert ykt_config["dev"]["BANKGW_BANK_SIM_URL"] == "http://bank-sim:8201"
    assert ykt_config["prod"]["PAYMENT_TREASURY_URL"].startswith("https://")
    callbacks = checks.objects_of(rendered["prod"], "Ingress")["bank-gateway-callbacks"]
    assert ykt_config["prod"]["BANKGW_PUBLIC_URL"] == f"https://{callbacks['spec']['rules'][0]['host']}"
    assert ykt_config["dev"]["BANKGW_PUBLIC_URL"] == "http://bank-gateway:8104"
    public = checks.objects_of(rendered["prod"], "Ingress")["disclosure-public"]
    assert ykt_config["prod"]["DISCLOSURE_PUBLIC_BASE_URL"] == f"https://{public['spec']['rules'][0]['host']}"
    assert {c["YKT_ENV"] for c in ykt_config.values()} == {"production"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscaling_covers_the_batch_services_within_the_partitions(
    rendered: Rendered, overlay: str
) -> None:
    hpas = checks.objects_of(rendered[overlay], "HorizontalPodAutoscaler")
    assert set(hpas) == AUTOSCALED
    deployments = checks.objects_of(rendered[overlay], "Deployment")
    for name, hpa in hpas.items():
        ref = hpa["spec"]["scaleTargetRef"]
        assert (ref["kind"], ref["name"]) == ("Deployment", name)
        assert name in deployments
        # a consumer group uses at most one consumer per partition
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"] <= PARTITIONS


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_platform_service_has_a_disruption_budget(rendered: Rendered, overlay: str) -> None:
    pdbs = checks.objects_of(rendered[overlay], "PodDisruptionBudget")
    assert set(pdbs) == {s.name for s in checks.PLATFORM_SERVICES}
    for name, pdb in pdbs.items():
        assert pdb["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_prometheus_annotations_match_the_metrics_port(rendered: Rendered, overlay: str) -> None:
    for app in checks.PLATFORM_SERVICES:
        meta = checks.objects_of(rendered[overlay], "Deployment")[app.name]["spec"]["template"]["metadata"]
        assert meta["annotations"]["prometheus.io/scrape"] == "true"
        assert meta["annotations"]["prometheus.io/port"] == str(app.port)
        assert meta["annotations"]["prometheus.io/path"] == "/metrics"


def test_ingress_routes_the_api_host_to_gateway_public_to_disclosure_and_bank_callbacks(
    rendered: Rendered,
) -> None:
    ingresses = checks.objects_of(rendered["prod"], "Ingress")
    routes = {
        (rule["host"], path["path"]): path["backend"]["service"]
        for ing in ingresses.values()
        for rule in ing["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    backends = {(host, path): b["name"] for (host, path), b in routes.items()}
    api = [host for (host, path), name in backends.items() if name == "gateway"]
    public = [(host, path) for (host, path), name in backends.items() if name == "disclosure"]
    assert len(api) == 1
    assert api[0].startswith("api.")
    assert sorted(path for _, path in public) == ["/api/public", "/public"]  # pages and the kiosk/WeChat JSON
    assert len({host for host, _ in public}) == 1
    callbacks = [(host, path) for (host, path), name in backends.items() if name == "bank-gateway"]
    assert [path for _host, path in callbacks] == ["/bank-callbacks"]
    source_range = ingresses["bank-gateway-callbacks"]["metadata"]["annotations"]
    assert "nginx.ingress.kubernetes.io/whitelist-source-range" in source_range
    assert set(backends.values()) == {"gateway", "disclosure", "bank-gateway"}
    for ing in ingresses.values():
        assert ing["spec"]["tls"], ing["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_topic_job_creates_every_topic_with_partitions_and_retention(
    rendered: Rendered, overlay: str
) -> None:
    job = checks.objects_of(rendered[overlay], "Job")["kafka-topics"]
    container = checks.pod_spec(job)["containers"][0]
    assert container["image"].startswith("apache/kafka:")
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert int(env["TOPIC_PARTITIONS"]) == PARTITIONS
    assert int(env["TOPIC_RETENTION_MS"]) > 0
    assert int(env["DEAD_LETTER_RETENTION_MS"]) > int(env["TOPIC_RETENTION_MS"])
    rf = int(env["TOPIC_REPLICATION_FACTOR"])
    assert rf == (1 if overlay == "dev" else 3)
    assert 1 <= int(env["TOPIC_MIN_INSYNC_REPLICAS"]) <= rf
    # the script the job mounts is the repository's create-topics.sh, listing every topic
    volume = next(v for v in checks.pod_spec(job)["volumes"] if v["name"] == "script")
    script_cm = checks.objects_of(rendered[overlay], "ConfigMap")[volume["configMap"]["name"]]
    script = script_cm["data"]["create-topics.sh"]
    assert script == checks.TOPICS_SCRIPT.read_text(encoding="utf-8")
    mount = next(m for m in container["volumeMounts"] if m["name"] == "script")
    assert container["command"] == ["/bin/bash", f"{mount['mountPath']}/create-topics.sh"]
    topics, dead_letter = checks.script_topics(script)
    assert dead_letter == DEAD_LETTER_TOPIC
    assert sorted([*topics, dead_letter]) == sorted(all_topics())


def test_every_kustomization_lists_only_existing_files() -> None:
    for kustomization in checks.K8S.rglob("kustomization.yaml"):
        doc = checks.load_yaml(kustomization)
        listed = [*doc.get("resources", []), *(p["path"] for p in doc.get("patches", []) if "path" in p)]
        for gen in doc.get("configMapGenerator", []):
            listed += [f.split("=", 1)[-1] for f in gen.get("files", [])]
        for entry in listed:
            assert (kustomization.parent / entry).exists(), f"{kustomization}: {entry}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_references_between_objects_resolve(rendered: Rendered, overlay: str) -> None:
    objects = rendered[overlay]
    configmaps = checks.objects_of(objects, "ConfigMap")
    services = checks.objects_of(objects, "Service")
    workloads = [
        *checks.objects_of(objects, "Deployment").values(),
        *checks.objects_of(objects, "Job").values(),
    ]
    for w in workloads:
        spec = checks.pod_spec(w)
        for c in spec["containers"]:
            for src in c.get("envFrom") or []:
                assert src["configMapRef"]["name"] in configmaps
            for env in c.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("configMapKeyRef")
                if ref:
                    assert ref["key"] in configmaps[ref["name"]]["data"], env["name"]
        for vol in spec.get("volumes") or []:
            if "configMap" in vol:
                assert vol["configMap"]["name"] in configmaps
    pod_labels = [
        d["spec"]["template"]["metadata"]["labels"] for d in checks.objects_of(objects, "Deployment").values()
    ]
    for name, svc in services.items():
        selector = svc["spec"]["selector"]
        assert any(selector.items() <= labels.items() for labels in pod_labels), (
            f"Service/{name} selects no pod"
        )
    for pdb in checks.objects_of(objects, "PodDisruptionBudget").values():
        assert any(checks.selector_matches(pdb["spec"]["selector"], labels) for labels in pod_labels)
    for ing in checks.objects_of(objects, "Ingress").values():
        for rule in ing["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                ports = {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
                assert backend["port"]["name"] in ports


def test_pods_of_the_platform_image_run_as_the_dockerfile_user(rendered: Rendered) -> None:
    instructions = checks.parse_dockerfile(checks.DOCKERFILE.read_text(encoding="utf-8"))
    uid, _, gid = [i.args for i in instructions if i.keyword == "USER"][-1].partition(":")
    for overlay in OVERLAYS:
        for name, d in checks.objects_of(rendered[overlay], "Deployment").items():
            psc = checks.pod_spec(d)["securityContext"]
            assert (str(psc["runAsUser"]), str(psc["runAsGroup"])) == (uid, gid), name
