"""compose.yaml: valid against the Compose specification, healthy by construction, no secret in
the file, and wired the way the services, the topics and the observability stack expect."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
import ykt_deploy_checks as checks
from ykt_contracts.topics import DEAD_LETTER_TOPIC, PARTITIONS, all_topics


def test_compose_validates_against_the_compose_specification(compose: dict[str, Any]) -> None:
    assert "draft-07" in checks.compose_schema()["$schema"]
    assert checks.compose_schema_errors(compose) == []


def test_vendored_compose_schema_carries_its_licence_note() -> None:
    notes = (checks.DEPLOY / "schemas" / "README.md").read_text(encoding="utf-8")
    assert "compose-spec/compose-spec" in notes
    assert "Apache-2.0" in notes or "Apache License" in notes
    assert "Apache License" in (checks.DEPLOY / "schemas" / "LICENSE-compose-spec.txt").read_text(
        encoding="utf-8"
    )


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    assert checks.compose_healthcheck_problems(compose) == []
    assert checks.one_shot_services(compose) == {"kafka-init"}


def test_no_secret_value_is_literal(compose: dict[str, Any], compose_text: str) -> None:
    assert checks.compose_secret_problems(compose, compose_text) == []


def test_required_variables_are_exactly_the_documented_secrets(compose_text: str) -> None:
    required = checks.compose_required_variables(compose_text)
    assert required == {
        "POSTGRES_PASSWORD",
        "YKT_SERVICE_SECRET",
        "YKT_PII_ENC_KEY",
        "YKT_PII_INDEX_KEY",
        "BANK_CALLBACK_SECRET",
        "GRAFANA_ADMIN_PASSWORD",
    }
    operations = checks.OPERATIONS_DOC.read_text(encoding="utf-8")
    for name in required:
        assert name in operations, f"{name} is not documented in docs/operations.md"


@pytest.mark.parametrize("app", checks.APP_SERVICES, ids=lambda s: s.name)
def test_each_process_is_built_from_the_dockerfile_with_its_command_and_port(
    compose: dict[str, Any], app: checks.AppService
) -> None:
    svc = compose["services"][app.name]
    assert svc["build"]["dockerfile"] == "Dockerfile"
    assert svc["build"]["context"] == "."
    assert svc["command"] == ["python", "-m", app.module]
    env = checks.env_mapping(svc.get("environment"))
    assert env[f"{app.env_prefix}HOST"] == "0.0.0.0"  # noqa: S104 - containers listen on their network
    published = {str(p).rsplit(":", 1)[-1] for p in svc.get("ports", [])} | {
        str(p) for p in svc.get("expose", [])
    }
    assert str(app.port) in published
    url = urlparse(checks.healthcheck_url(svc) or "")
    assert (url.hostname, url.port, url.path) == ("127.0.0.1", app.port, checks.readiness_path(app))
    assert url.path in checks.served_health_paths(app)
    assert svc["read_only"] is True
    assert "ALL" in svc["cap_drop"]


@pytest.mark.parametrize("app", checks.PLATFORM_SERVICES, ids=lambda s: s.name)
def test_platform_services_get_the_shared_settings_and_wait_for_infrastructure(
    compose: dict[str, Any], app: checks.AppService
) -> None:
    svc = compose["services"][app.name]
    env = checks.env_mapping(svc["environment"])
    assert (
        env["DATABASE_URL"]
        == "postgresql://ykt:${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}@postgres:5432/ykt"
    )
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["YKT_ENV"] == "production"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    for secret in ("YKT_SERVICE_SECRET", "YKT_PII_ENC_KEY", "YKT_PII_INDEX_KEY"):
        assert env[secret].startswith(f"${{{secret}:?"), secret
    deps = checks.depends_on(svc)
    assert deps["postgres"] == "service_healthy"
    assert deps["redis"] == "service_healthy"
    assert deps["kafka-init"] == "service_completed_successfully"


def test_service_addresses_point_at_the_right_containers(compose: dict[str, Any]) -> None:
    services = compose["services"]
    payment = checks.env_mapping(services["payment"]["environment"])
    bankgw = checks.env_mapping(services["bank-gateway"]["environment"])
    gateway = checks.env_mapping(services["gateway"]["environment"])
    assert payment["PAYMENT_TREASURY_URL"] == "http://treasury-sim:8202"
    assert bankgw["BANKGW_BANK_SIM_URL"] == "http://bank-sim:8201"
    assert bankgw["BANKGW_PUBLIC_URL"] == "http://bank-gateway:8104"
    # the bank simulator signs callbacks with the key the bank-gateway verifies
    banksim = checks.env_mapping(services["bank-sim"]["environment"])
    assert bankgw["BANKGW_CALLBACK_SECRET"] == banksim["BANKSIM_CALLBACK_SECRET"]
    for target in ("registry", "validation", "payment", "bank-gateway", "disclosure"):
        url = urlparse(gateway[f"GATEWAY_{target.upper().replace('-', '_')}_URL"])
        assert (url.hostname, url.port) == (target, checks.BY_NAME[target].port)
        assert checks.depends_on(services["gateway"])[target] == "service_healthy"
    assert checks.depends_on(services["payment"])["treasury-sim"] == "service_healthy"
    assert checks.depends_on(services["bank-gateway"])["bank-sim"] == "service_healthy"


def test_platform_services_readiness_checks_database_and_broker() -> None:
    for app in checks.PLATFORM_SERVICES:
        assert checks.readiness_path(app) == "/health/ready", app.name
        main = checks.REPO / app.package_dir / "src" / app.module / "main.py"
        if main.is_file():  # written in parallel: where it exists, it uses the kit's app factory
            assert "create_service_app" in main.read_text(encoding="utf-8"), main


def test_settings_prefixes_and_ports_match_the_packages_config() -> None:
    """Where a package's config.py exists, its env_prefix and default port are the ones deployed."""
    declared = checks.settings_declarations()
    assert "registry" in declared  # at least one package declares its settings already
    for name, info in declared.items():
        app = checks.BY_NAME[name]
        if "env_prefix" in info:
            assert info["env_prefix"] == app.env_prefix, info["path"]
        if "port" in info:
            assert info["port"] == app.port, info["path"]


def test_kafka_runs_in_kraft_mode_from_the_official_image(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = checks.env_mapping(kafka["environment"])
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "CONTROLLER" in env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "KAFKA_ZOOKEEPER_CONNECT" not in env
    assert "kafka-broker-api-versions.sh" in " ".join(kafka["healthcheck"]["test"])


def test_topic_job_creates_every_contract_topic_with_the_contract_partitions(compose: dict[str, Any]) -> None:
    job = compose["services"]["kafka-init"]
    assert job["image"] == compose["services"]["kafka"]["image"]
    assert checks.depends_on(job) == {"kafka": "service_healthy"}
    env = checks.env_mapping(job["environment"])
    assert int(env["TOPIC_PARTITIONS"]) == PARTITIONS == 6
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    mounts = dict(checks.bind_mounts(job))
    script_target = mounts["./deploy/k8s/base/kafka-topics/create-topics.sh"]
    assert job["entrypoint"] == ["/bin/bash", script_target]
    topics, dead_letter = checks.script_topics(checks.TOPICS_SCRIPT.read_text(encoding="utf-8"))
    assert dead_letter == DEAD_LETTER_TOPIC == "ykt.dead-letter"
    assert sorted([*topics, dead_letter]) == sorted(all_topics())
    assert len(set(topics)) == len(topics)


def test_topic_script_is_valid_bash() -> None:
    import subprocess

    proc = subprocess.run(
        ["bash", "-n", str(checks.TOPICS_SCRIPT)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    script = checks.TOPICS_SCRIPT.read_text(encoding="utf-8")
    assert "--if-not-exists" in script
    assert "retention.ms=" in script


def test_bind_mounts_exist_in_the_repository(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        for source, _target in checks.bind_mounts(svc):
            assert (checks.REPO / source).exists(), f"{name} mounts missing {source}"


def test_prometheus_scrapes_every_platform_service(compose: dict[str, Any]) -> None:
    config = checks.load_yaml(checks.PROMETHEUS_DIR / "prometheus.yml")
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    for app in checks.PLATFORM_SERVICES:
        job = jobs[app.name]
        assert job.get("metrics_path", "/metrics") == "/metrics"
        targets = [t for sc in job["static_configs"] for t in sc["targets"]]
        assert targets == [f"{app.name}:{app.port}"]
        assert app.name in compose["services"]
    assert config["rule_files"] == ["alerts.yml"]
    prom = compose["services"]["prometheus"]
    assert ("./deploy/prometheus", "/etc/prometheus") in checks.bind_mounts(prom)
    assert "--config.file=/etc/prometheus/prometheus.yml" in prom["command"]


def test_grafana_provisioning_is_mounted_where_it_points(
    compose: dict[str, Any], datasource_uids: set[str]
) -> None:
    grafana = compose["services"]["grafana"]
    mounts = dict(checks.bind_mounts(grafana))
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    providers = checks.load_yaml(checks.GRAFANA_DIR / "provisioning" / "dashboards" / "dashboards.yaml")[
        "providers"
    ]
    assert [p["options"]["path"] for p in providers] == [mounts["./deploy/grafana/dashboards"]]
    sources = checks.load_yaml(checks.GRAFANA_DIR / "provisioning" / "datasources" / "datasources.yaml")
    for ds in sources["datasources"]:
        assert urlparse(ds["url"]).hostname in compose["services"], ds["name"]
    assert {"prometheus", "jaeger"} <= datasource_uids
    assert sum(1 for ds in sources["datasources"] if ds.get("isDefault")) == 1


def test_collector_receives_what_services_send_and_exports_to_jaeger(compose: dict[str, Any]) -> None:
    config = checks.load_yaml(checks.OTEL_CONFIG)
    collector = compose["services"]["otel-collector"]
    assert collector["image"].startswith("otel/opentelemetry-collector-contrib:")
    mounts = dict(checks.bind_mounts(collector))
    assert any(a == f"--config={mounts['./deploy/otel/collector.yaml']}" for a in collector["command"])
    # every pipeline component is defined, and every defined component is used
    pipelines = config["service"]["pipelines"]
    for section in ("receivers", "processors", "exporters"):
        used = {c for p in pipelines.values() for c in p.get(section, [])}
        assert used == set(config.get(section) or {}), section
    assert set(config["service"].get("extensions", [])) == set(config.get("extensions") or {})
    assert "traces" in pipelines
    # the services' OTLP/HTTP endpoint is the collector's http receiver
    sent_to = urlparse(
        checks.env_mapping(compose["services"]["registry"]["environment"])["OTEL_EXPORTER_OTLP_ENDPOINT"]
    )
    http_endpoint = config["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    assert sent_to.hostname == "otel-collector"
    assert sent_to.port == int(http_endpoint.rsplit(":", 1)[1])
    # the exporter reaches Jaeger's OTLP port
    exporter = config["exporters"]["otlp/jaeger"]["endpoint"]
    host, port = exporter.rsplit(":", 1)
    jaeger = compose["services"][host]
    assert jaeger["image"].startswith("jaegertracing/all-in-one:")
    assert port in [str(p) for p in jaeger.get("expose", [])]
    assert checks.env_mapping(jaeger["environment"])["COLLECTOR_OTLP_ENABLED"] == "true"


def test_postgres_and_redis_are_the_expected_majors(compose: dict[str, Any]) -> None:
    assert compose["services"]["postgres"]["image"].startswith("postgres:16")
    assert compose["services"]["redis"]["image"].startswith("redis:7")
    env = checks.env_mapping(compose["services"]["postgres"]["environment"])
    assert (env["POSTGRES_USER"], env["POSTGRES_DB"]) == ("ykt", "ykt")
