"""The proxy's forwarding path on the wire: framing, streaming, keep-alive, caps and timeouts, against a scripted
upstream on loopback (each path of it answers in one way a real server may: SSE, chunked, gzip, HEAD, hanging)."""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from gemini_doctor.proxy import forward
from gemini_doctor.proxy.exchange import Exchange
from gemini_doctor.proxy.session import ProxyServer, Session
from gemini_doctor.proxy.watch import Watcher

KEY = "AIza" + "W1reTestKey" + "y" * 24
ERROR = json.dumps({"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}})


class Upstream:
    """A scripted HTTP/1.1 server: each request is read whole and recorded, then answered by `handler`, which
    writes raw bytes and says whether the connection stays open."""

    def __init__(self, handler: Callable[[socket.socket, bytes, bytes], bool], tls: ssl.SSLContext | None = None):
        self.handler = handler
        self.tls = tls
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.requests: list[tuple[bytes, bytes]] = []
        self.connections = 0
        self.release = threading.Event()  # what a scripted answer waits for before it goes on
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        if self.tls is not None:  # the handshake on the connection's own thread
            try:
                connection = self.tls.wrap_socket(connection, server_side=True)
            except OSError:
                return
        stream = connection.makefile("rb")
        with connection, stream:
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = stream.readline()
                    if not line:
                        return
                    head += line
                length = next(
                    (int(x.split(b":")[1]) for x in head.lower().split(b"\r\n") if x.startswith(b"content-length:")), 0
                )
                body = stream.read(length)
                self.requests.append((head, body))
                if not self.handler(connection, head, body):
                    return


def answer(status: str, headers: list[str], body: bytes) -> bytes:
    return ("\r\n".join([f"HTTP/1.1 {status}", *headers]) + "\r\n\r\n").encode() + body


def scripted(connection: socket.socket, head: bytes, body: bytes) -> bool:
    path = head.split(b" ")[1].decode()
    if path.startswith("/sse"):
        connection.sendall(answer("200 OK", ["Content-Type: text/event-stream", "Transfer-Encoding: chunked"], b""))
        event = b'data: {"candidates": [{"content": {"parts": [{"text": "one"}]}}]}\r\n\r\n'
        connection.sendall(b"%x\r\n%s\r\n" % (len(event), event))
        UPSTREAM.release.wait(10)  # the second event only once the app has read the first, through the proxy
        connection.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(event), event.replace(b"one", b"two")))
    elif path.startswith("/chunked"):
        pieces = [ERROR[:20], ERROR[20:50], ERROR[50:]]
        chunks = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p.encode()) for p in pieces) + b"0\r\nX-Trailer: t\r\n\r\n"
        connection.sendall(
            answer("429 Too Many Requests", ["Content-Type: application/json", "Transfer-Encoding: chunked"], chunks)
        )
    elif path.startswith("/gzip"):
        packed = gzip.compress(ERROR.encode())
        headers = ["Content-Encoding: gzip", "Content-Type: application/json", f"Content-Length: {len(packed)}"]
        connection.sendall(answer("429 Too Many Requests", headers, packed))
    elif path.startswith("/hang"):
        UPSTREAM.release.wait(10)  # answers nothing until the test lets it go
        return False
    elif path.startswith("/close"):
        connection.sendall(answer("200 OK", ["Content-Type: text/plain"], b"until the end"))
        return False
    else:  # HEAD, GET, POST: echo what arrived, with a Content-Length (none sent after HEAD)
        echoed = json.dumps({"method": head.split(b" ")[0].decode(), "body": len(body)}).encode()
        method = head.split(b" ")[0]
        connection.sendall(
            answer(
                "200 OK",
                ["Content-Type: application/json", f"Content-Length: {len(echoed)}"],
                b"" if method == b"HEAD" else echoed,
            )
        )
    return True


UPSTREAM: Upstream


@pytest.fixture(scope="module")
def proxy() -> Iterator[tuple[str, Session]]:
    global UPSTREAM
    UPSTREAM = Upstream(scripted)
    session = Session(UPSTREAM.url)
    server = ProxyServer(UPSTREAM.url, Watcher(upstream=UPSTREAM.url), session, timeout=30).start()
    yield server.url, session
    UPSTREAM.release.set()
    server.stop()
    UPSTREAM.listener.close()


@pytest.fixture(autouse=True)
def fresh_release() -> None:
    if "UPSTREAM" in globals():
        UPSTREAM.release.clear()


def recorded(session: Session, path: str) -> Exchange:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [e for e in list(session.recent) if e.path.startswith(path)]
        if found:
            return found[-1]
        time.sleep(0.01)
    raise AssertionError(f"no exchange for {path} was recorded")


def raw_exchange(url: str, request: bytes, until: bytes = b"", sock: socket.socket | None = None) -> bytes:
    """Send raw bytes to the proxy; read until `until` is in the answer (or the connection closes)."""
    own = sock is None
    sock = sock or socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=20)
    try:
        sock.sendall(request)
        received = b""
        while not (until and until in received):
            data = sock.recv(65536)
            if not data:
                break
            received += data
        return received
    finally:
        if own:
            sock.close()


def test_sse_passes_event_by_event_not_buffered(proxy):
    url, session = proxy
    sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=20)
    with sock:
        path = "/sse/v1beta/models/m:streamGenerateContent?alt=sse"
        first = raw_exchange(
            url, f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{{}}".encode(), b"one", sock
        )
        assert b"text/event-stream" in first and b"one" in first and b"two" not in first
        UPSTREAM.release.set()  # only now does the upstream send the second event
        rest = raw_exchange(url, b"", b"0\r\n\r\n", sock)
    assert b"two" in rest and rest.endswith(b"0\r\n\r\n")
    assert recorded(session, "/sse").status == 200


def test_chunked_answers_pass_as_framed_and_the_tap_reads_their_payload(proxy):
    url, session = proxy
    request = b"GET /chunked/v1beta/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    through = raw_exchange(url, request)
    head, _, body = through.partition(b"\r\n\r\n")
    assert (
        b"transfer-encoding: chunked" in head.lower() and b";ext=1" in body and body.endswith(b"X-Trailer: t\r\n\r\n")
    )
    exchange = recorded(session, "/chunked")
    assert exchange.status == 429 and "Resource has been exhausted" in (exchange.error_text or "")


def test_an_http_1_0_app_gets_a_chunked_answer_unframed_then_the_connection_closes(proxy):
    url, _ = proxy
    through = raw_exchange(url, b"GET /chunked/x HTTP/1.0\r\nHost: x\r\n\r\n")
    head, _, body = through.partition(b"\r\n\r\n")
    assert b"transfer-encoding" not in head.lower() and b"connection: close" in head.lower()
    assert json.loads(body) == json.loads(ERROR)


def test_gzip_answers_pass_as_sent_while_the_tap_decodes_them(proxy):
    url, session = proxy
    through = raw_exchange(url, b"GET /gzip/v1beta/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = through.partition(b"\r\n\r\n")
    assert b"content-encoding: gzip" in head.lower() and gzip.decompress(body) == ERROR.encode()
    assert httpx.get(url + "/gzip/again").json() == json.loads(ERROR)  # a client that decodes it
    assert "Resource has been exhausted" in (recorded(session, "/gzip/v1beta").error_text or "")


def test_keep_alive_serves_several_requests_on_one_connection_each_way(proxy):
    url, _ = proxy
    before, seen = UPSTREAM.connections, len(UPSTREAM.requests)
    request = b"POST /echo HTTP/1.1\r\nHost: x\r\nx-goog-api-key: k\r\nContent-Length: 3\r\n\r\nabc"
    sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=20)
    with sock:
        answers = [raw_exchange(url, request, b'"body": 3}', sock) for _ in range(3)]
    assert all(a.startswith(b"HTTP/1.1 200") for a in answers)
    assert len(UPSTREAM.requests) - seen == 3 and UPSTREAM.connections - before <= 1


def test_pipelined_requests_are_answered_in_turn_on_one_connection(proxy):
    url, _ = proxy
    one = b"POST /echo/one HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"
    two = b"POST /echo/two HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    through = raw_exchange(url, one + two + b"GET /echo/three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert through.count(b"HTTP/1.1 200") == 3
    bodies = [json.loads(part.split(b"\r\n\r\n", 1)[1]) for part in through.split(b"HTTP/1.1 200")[1:]]
    assert bodies == [{"method": "POST", "body": 2}, {"method": "POST", "body": 3}, {"method": "GET", "body": 0}]


def test_head_and_get_carry_no_body_and_the_connection_goes_on(proxy):
    url, _ = proxy
    sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=20)
    with sock:
        head = raw_exchange(url, b"HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n", b"\r\n\r\n", sock)
        got = raw_exchange(url, b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", b'"body": 0}', sock)
    assert head.startswith(b"HTTP/1.1 200") and head.endswith(b"\r\n\r\n") and b"content-length" in head.lower()
    assert got.startswith(b"HTTP/1.1 200") and b'"method": "GET"' in got
    upstream_head = next(h for h, _ in reversed(UPSTREAM.requests) if h.startswith(b"GET /echo"))
    assert b"content-length" not in upstream_head.lower() and b"transfer-encoding" not in upstream_head.lower()


def test_hop_by_hop_headers_stay_behind_and_the_key_goes_on(proxy):
    url, _ = proxy
    headers = {"x-goog-api-key": KEY, "Connection": "keep-alive, x-private", "x-private": "1",
               "Proxy-Authorization": "Basic c2VjcmV0", "TE": "trailers"}  # fmt: skip
    assert httpx.post(url + "/echo/hop", headers=headers, content=b"{}").status_code == 200
    upstream_head = next(h for h, _ in reversed(UPSTREAM.requests) if h.startswith(b"POST /echo/hop")).lower()
    assert KEY.lower().encode() in upstream_head and b"host: 127.0.0.1:" in upstream_head
    for name in (b"x-private", b"proxy-authorization", b"te:", b"connection"):
        assert name not in upstream_head


def test_a_body_over_the_cap_is_refused_and_never_forwarded(proxy, monkeypatch):
    url, _ = proxy
    monkeypatch.setattr(forward, "MAX_REQUEST_BYTES", 1000)
    seen = len(UPSTREAM.requests)
    declared = httpx.post(url + "/echo/big", content=b"x" * 1001)
    chunked = httpx.post(url + "/echo/big", content=iter([b"x" * 600, b"x" * 600]))  # no length: sent chunked
    fits = httpx.post(url + "/echo/small", content=iter([b"x" * 500, b"x" * 500]))
    assert declared.status_code == chunked.status_code == 413 and declared.json()["error"]["code"] == 413
    assert fits.status_code == 200 and fits.json()["body"] == 1000
    assert [h.split(b" ")[1] for h, _ in UPSTREAM.requests[seen:]] == [b"/echo/small"]


def test_request_smuggling_shapes_are_refused(proxy):
    url, _ = proxy
    both = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    twice = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"
    folded = b"GET /echo HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n"
    for request in (both, twice, folded):
        assert raw_exchange(url, request).startswith(b"HTTP/1.1 400"), request


def test_an_answer_until_close_passes_whole_and_closes(proxy):
    url, _ = proxy
    through = raw_exchange(url, b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n")
    assert through.endswith(b"\r\n\r\nuntil the end") and b"connection: close" in through.lower()


def test_an_upstream_that_never_answers_is_bounded_by_the_timeout():
    hanging = Upstream(lambda connection, head, body: bool(time.sleep(30)))
    session = Session(hanging.url)
    with ProxyServer(hanging.url, Watcher(upstream=hanging.url), session, timeout=0.3) as server:
        reply = httpx.post(server.url + "/v1beta/models/m:generateContent", content=b"{}", timeout=20)
        exchange = recorded(session, "/v1beta")
    hanging.listener.close()
    assert reply.status_code == 502 and reply.json()["error"]["status"] == "UNAVAILABLE"
    assert exchange.status == 502 and "timed out" in (exchange.note or "")


def test_an_upstream_that_goes_away_is_a_502_not_a_hang():
    closed = socket.create_server(("127.0.0.1", 0))
    upstream = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()  # nothing listens there now: connection refused
    session = Session(upstream)
    with ProxyServer(upstream, Watcher(upstream=upstream), session, timeout=5) as server:
        reply = httpx.get(server.url + "/v1beta/models", timeout=20)
        exchange = recorded(session, "/v1beta")
    assert reply.status_code == 502 and "ConnectionRefusedError" in (exchange.note or "")


def test_an_http_proxy_in_the_environment_is_used_for_an_http_upstream(monkeypatch):
    via = Upstream(scripted)
    monkeypatch.setenv("HTTP_PROXY", "http://user:pa%3Ass@" + via.url.removeprefix("http://"))
    upstream = "http://upstream.invalid:8080"
    with ProxyServer(upstream, Watcher(upstream=upstream), Session(upstream), timeout=5) as server:
        assert httpx.get(server.url + "/v1beta/models", trust_env=False).status_code == 200
    via.listener.close()
    head = via.requests[-1][0]
    assert head.startswith(b"GET http://upstream.invalid:8080/v1beta/models HTTP/1.1")
    assert b"Proxy-Authorization: Basic dXNlcjpwYTpzcw==" in head  # user:pa:ss


def tunnel(connection: socket.socket, head: bytes, body: bytes) -> bool:
    """An HTTP proxy's CONNECT: the bytes piped both ways to the host and port asked for."""
    host, port = head.split(b" ")[1].decode().rsplit(":", 1)
    far = socket.create_connection((host, int(port)), timeout=20)
    connection.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()

    threading.Thread(target=pipe, args=(far, connection), daemon=True).start()
    pipe(connection, far)
    return False


@pytest.fixture(scope="module")
def tls_upstream(tmp_path_factory):
    trustme = pytest.importorskip("trustme")  # in the test extra
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path_factory.mktemp("ca") / "upstream-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    upstream = Upstream(scripted, tls=context)
    yield upstream.url.replace("http://", "https://"), upstream, ca_file
    upstream.listener.close()


def test_an_https_upstream_is_verified_with_the_certificates_httpx_trusts(tls_upstream, monkeypatch):
    url, upstream, ca_file = tls_upstream
    with ProxyServer(url, Watcher(upstream=url), Session(url), timeout=5) as server:
        untrusted = httpx.get(server.url + "/v1beta/models")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with ProxyServer(url, Watcher(upstream=url), Session(url), timeout=5) as server:
        trusted = httpx.get(server.url + "/v1beta/models", trust_env=False)
    assert untrusted.status_code == 502 and "SSLCertVerificationError" in untrusted.json()["error"]["message"]
    assert trusted.status_code == 200 and upstream.requests[-1][0].startswith(b"GET /v1beta/models HTTP/1.1")


def test_an_https_upstream_is_reached_through_the_environments_proxy_by_connect(tls_upstream, monkeypatch):
    url, upstream, ca_file = tls_upstream
    via = Upstream(tunnel)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    monkeypatch.setenv("HTTPS_PROXY", via.url)
    with ProxyServer(url, Watcher(upstream=url), Session(url), timeout=5) as server:
        reply = httpx.post(server.url + "/v1beta/tunnelled", content=b"{}", trust_env=False)
    via.listener.close()
    authority = url.removeprefix("https://").encode()
    assert reply.status_code == 200 and reply.json() == {"method": "POST", "body": 2}
    assert via.requests[-1][0].startswith(b"CONNECT " + authority + b" HTTP/1.1")
    assert upstream.requests[-1][0].startswith(b"POST /v1beta/tunnelled HTTP/1.1")


def test_past_the_diagnosis_bound_an_exchange_is_still_recorded_redacted_and_says_so(proxy, monkeypatch):
    from gemini_doctor.proxy import record

    url, session = proxy
    monkeypatch.setattr(record, "PENDING", 0)
    assert httpx.get(url + f"/echo/bound?key={KEY}").status_code == 200
    exchange = recorded(session, "/echo/bound")
    assert exchange.note == record.BUSY and KEY not in exchange.path and exchange.diagnosis == []
    document = session.document(Watcher())
    assert document["totals"]["undiagnosed"] >= 1 and "recorded undiagnosed" in document["input"]["notes"][-1]


def test_an_image_in_the_tap_is_cut_to_the_prefix_that_tells_its_size():
    import base64
    import struct
    import zlib

    from gemini_doctor.proxy.exchange import shrink_images

    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 1376, 768, 8, 2, 0, 0, 0)
    png = header + zlib.compress(bytes(300_000))
    text = json.dumps({"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png).decode()}})
    shrunk = json.loads(shrink_images(text))["inlineData"]["data"]
    assert len(shrunk) == 64 and base64.b64decode(shrunk)[16:24] == struct.pack(">II", 1376, 768)


def test_a_target_with_a_key_is_redacted_every_time_and_never_remembered():
    from gemini_doctor.proxy import record

    clean, secret = "/v1beta/models/m:generateContent", f"/v1beta/models/m:generateContent?key={KEY}"
    assert record._redacted(clean) == clean and clean in record._CLEAN
    assert KEY not in record._redacted(secret) and KEY not in record._redacted(secret)
    assert not any(KEY in target for target in record._CLEAN)
