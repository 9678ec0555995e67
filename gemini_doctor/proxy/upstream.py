"""The upstream: one origin (Google's endpoint, the emulator, a gateway), reached over kept-alive connections.

Plain TCP for an http upstream, TLS (verified as httpx verifies it: certifi, or SSL_CERT_FILE / SSL_CERT_DIR)
for an https one. The proxy the environment names for the upstream (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, minus
NO_PROXY, as httpx reads them) is used: a CONNECT tunnel for https, absolute-form requests for http. Connecting
is bounded by the connect timeout; at most MAX_CONNECTIONS are open at once, MAX_IDLE kept for reuse.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections import deque
from dataclasses import dataclass
from urllib import request as urllib_request
from urllib.parse import unquote, urlsplit

from gemini_doctor.proxy.http1 import MAX_HEAD, Head, read_head
from gemini_doctor.redact import redact

MAX_CONNECTIONS = 200
MAX_IDLE = 100


class UnsupportedProxy(ValueError):
    """The environment names a proxy this proxy cannot speak through (SOCKS, or TLS to the proxy itself)."""


@dataclass(slots=True)
class Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


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
        self.slots = asyncio.BoundedSemaphore(MAX_CONNECTIONS)

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

    async def acquire(self) -> Connection:
        """A kept-alive connection, or a new one within the connect timeout; release() it after."""
        if self.slots.locked():  # all MAX_CONNECTIONS busy: wait for one, within the timeout
            async with asyncio.timeout(self.timeout):
                await self.slots.acquire()
        else:
            await self.slots.acquire()  # at once
        while self.idle:
            connection = self.idle.pop()
            if connection.usable():
                return connection
            connection.close()
        try:
            async with asyncio.timeout(self.connect_timeout):
                return await self._connect()
        except BaseException:
            self.slots.release()
            raise

    def release(self, connection: Connection, reusable: bool) -> None:
        self.slots.release()
        if reusable and connection.usable() and len(self.idle) < MAX_IDLE:
            self.idle.append(connection)
        else:
            connection.close()

    def close(self) -> None:
        while self.idle:
            self.idle.pop().close()

    async def _connect(self) -> Connection:
        if self.proxy is None:
            reader, writer = await asyncio.open_connection(
                self.host, self.port, ssl=self.tls, server_hostname=self.host if self.tls else None, limit=MAX_HEAD
            )
            return Connection(reader, writer)
        reader, writer = await asyncio.open_connection(self.proxy.host, self.proxy.port, limit=MAX_HEAD)
        connection = Connection(reader, writer)
        if self.tls is not None:
            try:
                await self._tunnel(connection)
                await writer.start_tls(self.tls, server_hostname=self.host)
            except BaseException:
                connection.close()
                raise
        return connection

    async def _tunnel(self, connection: Connection) -> None:
        authority = f"{self.host}:{self.port}".encode()
        lines = [b"CONNECT " + authority + b" HTTP/1.1", b"Host: " + authority]
        if self.proxy is not None and self.proxy.credentials is not None:
            lines.append(b"Proxy-Authorization: " + self.proxy.credentials)
        connection.writer.write(b"\r\n".join(lines) + b"\r\n\r\n")
        head: Head | None = await read_head(connection.reader)
        if head is None or not head.start[1].startswith(b"2"):
            status = head.start[1].decode("latin-1") if head else "no answer"
            raise ConnectionError(f"the proxy {self.proxy} refused the tunnel ({status})")


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
