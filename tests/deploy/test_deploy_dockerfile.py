"""Dockerfile and .dockerignore: one image for every process, built from the lock file."""

from __future__ import annotations

from typing import Any

import ykt_deploy_checks as checks


def test_dockerfile_builds_the_locked_workspace_as_non_root() -> None:
    assert checks.dockerfile_problems(checks.DOCKERFILE.read_text(encoding="utf-8")) == []


def test_every_workspace_member_is_found() -> None:
    members = {m.as_posix() for m in checks.workspace_members()}
    assert {"libs/kit", "contracts", "tools/devstack"} <= members
    assert {s.package_dir for s in checks.APP_SERVICES} <= members


def test_the_command_of_every_process_names_a_package_in_the_image(compose: dict[str, Any]) -> None:
    for app in checks.APP_SERVICES:
        package = checks.REPO / app.package_dir / "src" / app.module
        assert (package / "__init__.py").is_file(), package
        assert compose["services"][app.name]["command"][-1] == app.module


def test_dockerignore_keeps_sources_and_lock_and_drops_local_state() -> None:
    patterns = checks.DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    kept = [
        "pyproject.toml",
        "uv.lock",
        "libs/kit/pyproject.toml",
        "libs/kit/src/ykt_kit/service.py",
        "contracts/src/ykt_contracts/topics.py",
        "services/registry/src/ykt_registry/migrations/env.py",
        "services/bank-gateway/pyproject.toml",
        "simulators/bank/src/ykt_banksim/config.py",
        "tools/devstack/src/ykt_devstack/infra.py",
    ]
    dropped = [
        ".venv/bin/python",
        ".git/HEAD",
        "services/registry/tests/test_x.py",
        "libs/kit/src/ykt_kit/__pycache__/x.cpython-311.pyc",
        ".env",
        "tests/deploy/conftest.py",
    ]
    for path in kept:
        assert not checks.dockerignore_excludes(patterns, path), f"{path} must reach the build"
    for path in dropped:
        assert checks.dockerignore_excludes(patterns, path), f"{path} must not reach the build"
