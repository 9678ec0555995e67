"""The upstream: one origin (Google's endpoint, the emulator, a gateway), reached over kept-alive connections.

Plain TCP for an http upstream, TLS (verified as httpx verifies it: certifi, or SSL_CERT_FILE / SSL_CERT_DIR)
for an https one. The proxy the environment names for the upstream (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, minus
NO_PROXY, as httpx reads them) is used: a CONNECT tunnel for https, absolute-form requests for http. Connecting
is bounded by the connect timeout; at most MAX_CONNECTIONS are open at once, MAX_IDLE kept for reuse (for at most
MAX_IDLE_S). Each connection is an asyncio Protocol whose bytes go straight to the exchange using it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol, cast
from urllib import request as urllib_request
from urllib.parse import unquote, urlsplit

from gemini_doctor.proxy.http1 import BadMessage, Head, split_head
from gemini_doctor.redact import redact

MAX_CONNECTIONS = 200
MAX_IDLE = 100
MAX_IDLE_S = 4.0  # a kept-alive connection idle longer is not reused: below uvicorn's 5 s, the shortest common
# keep-alive, so that a request is never sent on a connection the upstream is closing at that moment


class UnsupportedProxy(ValueError):
    """The environment names a proxy this proxy cannot speak through (SOCKS, or TLS to the proxy itself)."""


class Sink(Protocol):
    """What a connection's bytes go to: the exchange using it (forward.Relay), or the CONNECT tunnel's answer."""

    def upstream_data(self, data: bytes) -> None: ...

    def upstream_closed(self, exc: BaseException | None) -> None: ...


class Connection(asyncio.Protocol):
    """One connection to the upstream; its bytes go to `sink`, straight from the loop (no reader, no task)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.sink: Sink | None = None
        self.closed = False
        self.idle_since = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are no subclass of it

    def data_received(self, data: bytes) -> None:
        if self.sink is not None:
            self.sink.upstream_data(data)
        else:  # bytes while idle: the connection is out of step, never reused
            self.close()

    def eof_received(self) -> bool:
        self._closed(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed(exc)

    def _closed(self, exc: BaseException | None) -> None:
        if not self.closed:
            self.closed = True
            if self.sink is not None:
                self.sink.upstream_closed(exc)

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def pause_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def usable(self) -> bool:
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Origin:
    def __init__(self, url: str, timeout: float, connect_timeout: float):
        parts = urlsplit(url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/").encode()
        default = self.port == (443 if self.https else 80)
        name = f"[{self.host}]" if ":" in self.host else self.host
        self.authority = (name if default else f"{name}:{self.port}").encode()
        self.base = f"{parts.scheme}://{self.authority.decode()}"
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self.proxy = environment_proxy(parts.scheme, self.host)
        self.tls = _tls_context() if self.https else None
        self.idle: deque[Connection] = deque()
        self.in_use = 0  # connections taken, at most MAX_CONNECTIONS
        self.waiters: deque[asyncio.Future[None]] = deque()

    def target(self, path: bytes) -> bytes:
        """The request target upstream: the path under the upstream's own, absolute through an http proxy."""
        if self.proxy is not None and not self.https:
            return self.base.encode() + self.prefix + path
        return self.prefix + path

    def proxy_headers(self) -> list[tuple[bytes, bytes]]:
        """Proxy-Authorization for an http upstream through a proxy with credentials."""
        if self.proxy is None or self.https or self.proxy.credentials is None:
            return []
        return [(b"Proxy-Authorization", self.proxy.credentials)]

    def take_idle(self) -> Connection | None:
        """A kept-alive connection at once, if one is free and a slot too (none is waited for); release() it."""
        if self.in_use >= MAX_CONNECTIONS or self.waiters:
            return None
        connection = self._reuse()
        if connection is not None:
            self.in_use += 1
        return connection

    async def acquire(self) -> Connection:
        """A kept-alive connection, or a new one within the connect timeout; release() it after."""
        if self.in_use >= MAX_CONNECTIONS or self.waiters:  # all busy: wait for a slot, within the timeout
            await self._slot()
        else:
            self.in_use += 1
        connection = self._reuse()
        if connection is not None:
            return connection
        try:
            async with asyncio.timeout(self.connect_timeout):
                return await self._connect()
        except BaseException:
            self._free()
            raise

    async def _slot(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            async with asyncio.timeout(self.timeout):
                await waiter  # a released slot is handed over still counted
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._free()
            else:
                self.waiters.remove(waiter)
            raise

    def _reuse(self) -> Connection | None:
        since = time.monotonic() - MAX_IDLE_S
        while self.idle:
            connection = self.idle.pop()
            if connection.usable() and connection.idle_since > since:
                return connection
            connection.close()
        return None

    def release(self, connection: Connection, reusable: bool) -> None:
        connection.sink = None
        self._free()
        if reusable and connection.usable() and len(self.idle) < MAX_IDLE:
            connection.idle_since = time.monotonic()
            self.idle.append(connection)
        else:
            connection.close()

    def _free(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes to it, still counted
                return
        self.in_use -= 1

    def close(self) -> None:
        while self.idle:
            self.idle.pop().close()

    async def _connect(self) -> Connection:
        loop = asyncio.get_running_loop()
        if self.proxy is None:
            hostname = self.host if self.tls else None
            _, connection = await loop.create_connection(
                Connection, self.host, self.port, ssl=self.tls, server_hostname=hostname
            )
            return connection
        _, connection = await loop.create_connection(Connection, self.proxy.host, self.proxy.port)
        if self.tls is not None:
            try:
                await self._tunnel(connection)
                assert connection.transport is not None
                tls = await loop.start_tls(connection.transport, connection, self.tls, server_hostname=self.host)
                connection.transport = cast(asyncio.Transport, tls)
            except BaseException:
                connection.close()
                raise
        return connection

    async def _tunnel(self, connection: Connection) -> None:
        authority = f"{self.host}:{self.port}".encode()
        lines = [b"CONNECT " + authority + b" HTTP/1.1", b"Host: " + authority]
        if self.proxy is not None and self.proxy.credentials is not None:
            lines.append(b"Proxy-Authorization: " + self.proxy.credentials)
        answer = HeadWaiter()
        connection.sink = answer
        connection.write(b"\r\n".join(lines) + b"\r\n\r\n")
        try:
            head = await answer.future
        except asyncio.IncompleteReadError:
            raise ConnectionError(f"the proxy {self.proxy} refused the tunnel (no answer)") from None
        finally:
            connection.sink = None
        if not head.start[1].startswith(b"2"):
            status = head.start[1].decode("latin-1")
            raise ConnectionError(f"the proxy {self.proxy} refused the tunnel ({status})")


class HeadWaiter:
    """A sink that waits for one head (the CONNECT answer); a proxy sends nothing after it until TLS begins."""

    def __init__(self) -> None:
        self.future: asyncio.Future[Head] = asyncio.get_running_loop().create_future()
        self.buffer = b""

    def upstream_data(self, data: bytes) -> None:
        if self.future.done():
            return
        self.buffer += data
        try:
            found = split_head(self.buffer)
        except BadMessage as exc:
            self.future.set_exception(exc)
            return
        if found is not None:
            self.future.set_result(found[0])

    def upstream_closed(self, exc: BaseException | None) -> None:
        if not self.future.done():
            self.future.set_exception(asyncio.IncompleteReadError(b"", None))


@dataclass(frozen=True, slots=True)
class EnvironmentProxy:
    host: str
    port: int
    credentials: bytes | None

    def __str__(self) -> str:
        return redact(f"http://{self.host}:{self.port}")


def environment_proxy(scheme: str, host: str) -> EnvironmentProxy | None:
    """The proxy the environment names for `scheme://host`, as httpx (trust_env) would use it."""
    proxies = urllib_request.getproxies_environment()
    url = proxies.get(scheme) or proxies.get("all")
    if not url or urllib_request.proxy_bypass_environment(host, proxies):  # type: ignore[attr-defined]
        return None
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise UnsupportedProxy(
            f"the environment's proxy for {scheme} ({redact(url)}) is not an http:// proxy, which is all "
            "`gemini-doctor proxy` can forward through; unset it or name an http:// one"
        )
    credentials = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        credentials = b"Basic " + base64.b64encode(pair)
    return EnvironmentProxy(parts.hostname, parts.port or 80, credentials)


def _tls_context() -> ssl.SSLContext:
    import httpx  # its context, so that certificates are trusted exactly as by the doctor's own probes

    context = httpx.create_ssl_context(trust_env=True)
    with contextlib.suppress(NotImplementedError):
        context.set_alpn_protocols(["http/1.1"])
    return context
