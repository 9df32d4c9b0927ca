"""Fixtures of the deployment checks: the parsed files and the rendered Kubernetes overlays."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

# the validators live beside the tests (ykt_deploy_checks.py); --import-mode=importlib does not
# put this folder on sys.path by itself
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ykt_deploy_checks as checks  # noqa: E402


@pytest.fixture(scope="session")
def compose_text() -> str:
    return checks.COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def compose(compose_text: str) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(compose_text)


@pytest.fixture(scope="session")
def exported() -> checks.ExportedMetrics:
    return checks.exported_metrics()


@pytest.fixture(scope="session")
def dashboard() -> dict[str, Any]:
    return json.loads((checks.GRAFANA_DIR / "dashboards" / "flow-overview.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def datasource_uids() -> set[str]:
    doc = checks.load_yaml(checks.GRAFANA_DIR / "provisioning" / "datasources" / "datasources.yaml")
    return {d["uid"] for d in doc["datasources"]}


@pytest.fixture(scope="session")
def alert_rules() -> dict[str, Any]:
    return checks.load_yaml(checks.PROMETHEUS_DIR / "alerts.yml")


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """Each overlay rendered once by kustomize: {"dev": [...], "prod": [...]}."""
    return {name: checks.render_kustomization(checks.K8S / "overlays" / name) for name in ("dev", "prod")}
