"""The whole platform as processes (every service, both simulators, a real broker), once per session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ykt_devstack.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    run_dir: Path = tmp_path_factory.mktemp("stack")
    s = Stack(run_dir)
    try:
        s.start(database=f"ykt_e2e_{uuid.uuid4().hex[:8]}", fixed_ports=False)
    except BaseException:
        s.stop()
        for log in sorted(s.log_dir.glob("*.log")):
            tail = log.read_text(errors="replace")[-3000:]
            print(f"----- {log.name}\n{tail}")  # noqa: T201 - the reason start-up failed
        raise
    yield s
    s.stop()
