"""Bank adapters and the registry that picks one per bank from configuration.

Adding a protocol = one class implementing ``domain.ports.BankAdapter`` plus one entry in
``FACTORIES`` (and a setting that lists the banks it serves, see ``config.Settings.bank_adapters``).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ...config import Settings
from ...domain.ports import BankAdapter
from .json_api import JsonApiAdapter

AdapterFactory = Callable[[Settings, httpx.AsyncClient], BankAdapter]

FACTORIES: dict[str, AdapterFactory] = {
    JsonApiAdapter.name: lambda settings, client: JsonApiAdapter(
        base_url=settings.bank_sim_url, callback_url=settings.callback_url, client=client
    ),
}


def build_adapters(settings: Settings, client: httpx.AsyncClient) -> dict[str, BankAdapter]:
    """The adapter for every configured bank code (one instance per protocol, shared)."""
    routes = settings.bank_adapters()
    unknown = sorted({name for name in routes.values() if name not in FACTORIES})
    if unknown:
        raise ValueError(f"unknown bank adapters configured: {unknown}")
    instances = {name: FACTORIES[name](settings, client) for name in set(routes.values())}
    return {bank: instances[name] for bank, name in routes.items()}
