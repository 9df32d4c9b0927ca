"""Fixtures of the bank simulator's tests: the simulator and a callback receiver, both served
for real by uvicorn on free 127.0.0.1 ports in background threads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from ykt_banksim.config import Settings
from ykt_banksim.main import create_app
from ykt_banksim.testing import CallbackReceiver, callback_receiver, serve_in_thread

# Short retry delays keep the retry tests quick; the protocol is the same.
FAST = {"callback_backoff_initial": 0.01, "callback_backoff_max": 0.05}


def make_settings(**overrides: Any) -> Settings:
    return Settings(**{**FAST, **overrides})


@pytest.fixture(scope="session")
def receiver() -> Iterator[CallbackReceiver]:
    """Records every callback; each test uses its own path on it."""
    with callback_receiver() as recv:
        yield recv


@pytest.fixture(scope="session")
def banksim_url() -> Iterator[str]:
    """A simulator with the default banks and settings, shared by the session."""
    with serve_in_thread(create_app(make_settings())) as url:
        yield url


@pytest.fixture
def start_banksim() -> Iterator[Callable[..., str]]:
    """Start a dedicated simulator with settings overrides; stopped after the test."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> str:
            return stack.enter_context(serve_in_thread(create_app(make_settings(**overrides))))

        yield start


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30, trust_env=False) as client:
        yield client
