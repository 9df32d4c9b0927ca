"""Dependencies of the routes: the service and the database of the running app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from ykt_kit.db import Database

from ...service import PaymentService


def _service(request: Request) -> PaymentService:
    return request.app.state.payment


def _db(request: Request) -> Database:
    return request.app.state.db


def notify_relay(request: Request) -> None:
    """Wake the outbox relay after a request's transaction committed events."""
    request.app.state.bus.relay.notify()


Service = Annotated[PaymentService, Depends(_service)]
Db = Annotated[Database, Depends(_db)]
