"""`python -m ykt_banksim` runs the simulator as its own process, configured from BANKSIM_*."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_python_m_ykt_banksim_serves_the_configured_banks() -> None:
    port = free_port()
    env = {**os.environ, "BANKSIM_PORT": str(port), "BANKSIM_BANKS": "CQRCB,ICBC"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ykt_banksim"], env=env, stderr=subprocess.PIPE, text=True, encoding="utf-8"
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)  # the process closed its stderr: it has ended

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        seen: list[str] = []
        while True:
            line = lines.get(timeout=60)
            assert line is not None, "the simulator exited:\n" + "".join(seen)
            seen.append(line)
            if "Application startup complete" in line:
                break
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=10) as http:
            assert http.get("/health/live").json() == {"status": "ok"}
            assert set(http.get("/admin/stats").json()) == {"CQRCB", "ICBC"}
            assert http.get("/banks/CCB/admin/credits").status_code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        reader.join(timeout=30)  # reads to the end of the pipe, which the exit closed
        assert proc.stderr is not None
        proc.stderr.close()
