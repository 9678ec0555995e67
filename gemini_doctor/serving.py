"""Serving an ASGI app with uvicorn on a socket that listens before anything is printed (the emulator, the proxy).

The socket is bound and listening at once: the URL (and a free port, with port 0) is known, and a client that
connects the moment the URL is printed is queued by the kernel until uvicorn accepts it, never refused.
TCP_NODELAY is set on it (accepted connections inherit it): without it a keep-alive client waits out the peer's
delayed ACK, about 40 ms on Linux, on every answer uvicorn writes in two pieces.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

LOOPBACK = "127.0.0.1"
BACKLOG = 2048  # uvicorn's default


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)  # from here on connections queue; uvicorn's own listen() only resizes it
    except OSError:
        sock.close()
        raise
    return sock


class SocketServer:
    """An ASGI app on one listening socket; a context manager runs it on a background thread."""

    name = "server"

    def __init__(self, host: str = LOOPBACK, port: int = 0):
        self.socket = listening_socket(host, port)
        self.host, self.port = self.socket.getsockname()[:2]
        self.server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def serve_app(self, app: Any, **config: Any) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, access_log=False, backlog=BACKLOG, **config))

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (uvicorn handles SIGINT/SIGTERM)."""
        assert self.server is not None
        self.server.run(sockets=[self.socket])

    def start(self) -> Any:
        assert self.server is not None
        self._thread = threading.Thread(target=self.serve_forever, name=self.name, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.socket.close()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
