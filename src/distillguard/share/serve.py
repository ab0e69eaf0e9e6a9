"""Run the TAXII server with uvicorn in the foreground or in a background thread (tests, demos)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from distillguard.share.server import ServerConfig, create_app
from distillguard.share.store import Store


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(store: Store, config: ServerConfig, host: str, port: int, log_level: str = "warning") -> None:
    """Serve until interrupted; uvicorn finishes in-flight requests on SIGINT/SIGTERM before exiting."""
    store.migrate()
    uvicorn.run(create_app(store, config), host=host, port=port, log_level=log_level)
    store.close()


@contextmanager
def running(store: Store, config: ServerConfig, port: int | None = None) -> Iterator[str]:
    """A server on 127.0.0.1 in a background thread; yields its base URL and stops it on exit."""
    store.migrate()
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(store, config), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"TAXII server did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
