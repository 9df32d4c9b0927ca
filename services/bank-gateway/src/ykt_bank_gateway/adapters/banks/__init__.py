"""Bank adapters and the registry that picks one per bank from configuration.

Adding a protocol = one class implementing ``domain.ports.BankAdapter`` plus one entry in
``FACTORIES`` (and a setting that lists the banks it serves, see ``config.Settings.bank_adapters``).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ...config import Settings
from ...domain.ports import AccountVerifier, BankAdapter
from .json_api import JsonApiAdapter

AdapterFactory = Callable[[Settings, httpx.AsyncClient], BankAdapter]

FACTORIES: dict[str, AdapterFactory] = {
    JsonApiAdapter.name: lambda settings, client: JsonApiAdapter(
        base_url=settings.bank_sim_url,
        callback_url=settings.callback_url,
        client=client,
        secret=settings.callback_secret,
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


def build_verifiers(
    settings: Settings, client: httpx.AsyncClient, adapters: dict[str, BankAdapter] | None = None
) -> dict[str, AccountVerifier | None]:
    """Who verifies accounts of each configured bank: the bank's own adapter when its protocol
    can (`AccountVerifier`); else the JSON API when the bank is listed in `verify_via_json_api`;
    else nobody (None: its items are answered `unsupported`)."""
    adapters = adapters if adapters is not None else build_adapters(settings, client)
    via_json = settings.verify_via_json_api_banks()
    fallback: AccountVerifier | None = None
    out: dict[str, AccountVerifier | None] = {}
    for bank, adapter in adapters.items():
        if isinstance(adapter, AccountVerifier):
            out[bank] = adapter
        elif bank in via_json:
            if fallback is None:
                fallback = JsonApiAdapter(
                    base_url=settings.bank_sim_url,
                    callback_url=settings.callback_url,
                    client=client,
                    secret=settings.callback_secret,
                )
            out[bank] = fallback
        else:
            out[bank] = None
    return out
