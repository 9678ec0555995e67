"""Serving the emulator with uvicorn: in the foreground (`gemini-doctor emulate`) or on a thread (tests, `check`).

The socket listens before the URL is printed (see gemini_doctor.serving).
"""

from __future__ import annotations

from gemini_doctor.emulator.app import Recorder, create_app
from gemini_doctor.emulator.scenarios import Scenario
from gemini_doctor.serving import BACKLOG, LOOPBACK, SocketServer

__all__ = ["BACKLOG", "LOOPBACK", "EmulatorServer"]


class EmulatorServer(SocketServer):
    """One emulator on one socket. Use as a context manager to run it on a background thread."""

    name = "emulator"

    def __init__(
        self,
        scenario: Scenario,
        host: str = LOOPBACK,
        port: int = 0,
        latency_ms: int = 0,
        chaos: str | None = None,
        per_minute: int | None = None,
    ):
        super().__init__(host, port)
        self.scenario = scenario
        self.recorder = Recorder()
        app = create_app(scenario, latency_ms=latency_ms, recorder=self.recorder, chaos=chaos, per_minute=per_minute)
        self.serve_app(
            app,
            log_level="critical" if chaos else "warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=5,
        )
