"""Test helpers, for this package and for services that talk to the bank simulator: serve an
ASGI app for real on a free 127.0.0.1 port in a background thread, and receive callbacks."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from .callbacks import SIGNATURE_HEADER, sign


@contextmanager
def serve_in_thread(app: ASGIApp, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Run `app` under uvicorn in a thread and yield its base URL.

    The socket is bound and listening before the thread starts, so a client may connect at
    once: the kernel queues the connection until uvicorn has run the lifespan and accepts it.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(512)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@dataclass(frozen=True)
class ReceivedCallback:
    """One HTTP request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class CallbackReceiver:
    """An ASGI app that records every request; answers 500 while a path has failures left to give."""

    base_url: str = ""
    requests: list[ReceivedCallback] = field(default_factory=list)
    _fail: dict[str, int] = field(default_factory=dict)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def url(self, path: str) -> str:
        """Absolute URL of a path on this receiver (once served)."""
        return self.base_url + path

    def fail_next(self, path: str, times: int) -> None:
        """Answer the next `times` requests to `path` with 500."""
        with self._changed:
            self._fail[path] = times

    def to(self, path: str) -> list[ReceivedCallback]:
        """The requests received on one path, in arrival order."""
        with self._changed:
            return [r for r in self.requests if r.path == path]

    def accepted(self, path: str) -> list[ReceivedCallback]:
        """The requests on one path that were answered 2xx."""
        return [r for r in self.to(path) if r.status < 300]

    def wait_for(
        self, predicate: Callable[[CallbackReceiver], bool], *, timeout: float = 30.0, what: str = "callbacks"
    ) -> None:
        """Block until `predicate(self)` holds (re-checked on every request) or fail after `timeout`."""
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self), timeout=timeout):
                raise AssertionError(f"timed out waiting for {what}; received {len(self.requests)} requests")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        path = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        with self._changed:
            left = self._fail.get(path, 0)
            status = 500 if left > 0 else 200
            if left > 0:
                self._fail[path] = left - 1
        answer = b'{"received":true}' if status == 200 else b'{"error":"try again"}'
        with self._changed:
            self.requests.append(ReceivedCallback(path, headers, b"".join(chunks), status))
            self._changed.notify_all()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": answer})


@contextmanager
def callback_receiver() -> Iterator[CallbackReceiver]:
    """A CallbackReceiver served in a background thread, its base_url set."""
    receiver = CallbackReceiver()
    with serve_in_thread(receiver) as url:
        receiver.base_url = url
        yield receiver


def signed_json(payload: Any, secret: str) -> tuple[bytes, dict[str, str]]:
    """A JSON body and the headers that sign it, as the bank's signed endpoints expect."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    return body, {"content-type": "application/json", SIGNATURE_HEADER: sign(secret, body)}
