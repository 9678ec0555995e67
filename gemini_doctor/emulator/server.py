"""Serving the emulator with uvicorn: in the foreground (`gemini-doctor emulate`) or on a thread (tests, `check`).

The socket is bound and listening before serving: the URL (and a free port, with port 0) is known at once, and a
client that connects the moment the URL is printed is queued by the kernel until uvicorn accepts it, never refused.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from gemini_doctor.emulator.app import Recorder, create_app
from gemini_doctor.emulator.scenarios import Scenario

LOOPBACK = "127.0.0.1"
BACKLOG = 2048  # uvicorn's default


class EmulatorServer:
    """One emulator on one socket. Use as a context manager to run it on a background thread."""

    def __init__(
        self, scenario: Scenario, host: str = LOOPBACK, port: int = 0, latency_ms: int = 0, chaos: str | None = None
    ):
        self.scenario = scenario
        self.recorder = Recorder()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: without it a keep-alive client waits out the peer's delayed ACK
        # (about 40 ms on Linux) on every answer that uvicorn writes in two pieces.
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.socket.bind((host, port))
            self.socket.listen(BACKLOG)  # from here on connections queue; uvicorn's own listen() only resizes it
        except OSError:
            self.socket.close()
            raise
        self.host, self.port = self.socket.getsockname()[:2]
        app = create_app(scenario, latency_ms=latency_ms, recorder=self.recorder, chaos=chaos)
        config = uvicorn.Config(
            app,
            log_level="critical" if chaos else "warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=5,
            backlog=BACKLOG,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (uvicorn handles SIGINT/SIGTERM)."""
        self.server.run(sockets=[self.socket])

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.socket]},
            name=f"emulator-{self.scenario.slug}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.socket.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
