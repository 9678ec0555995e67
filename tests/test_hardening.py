"""Hardening: network faults, hostile answers, proxies, certificates, secrets, files, and no harm under load.

Every fault is a real socket server on loopback (or the emulator's --chaos); nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gemini_doctor.diagnosis import Context
from gemini_doctor.diagnosis.evidence import read_http_answer
from gemini_doctor.diagnosis.rules import diagnose
from gemini_doctor.emulator.app import CHAOS
from gemini_doctor.emulator.scenarios import find_scenario
from gemini_doctor.emulator.server import EmulatorServer
from gemini_doctor.report import FORMATS, render
from tests.conftest import run_installed, timeout_bound

MODELS_BODY = json.dumps(
    {"models": [{"name": "models/gemini-nano-banana-2.1", "supportedGenerationMethods": ["generateContent"]}]}
).encode()


@contextmanager
def raw_server(handle: Callable[[socket.socket], None], tls: ssl.SSLContext | None = None):
    """A loopback TCP server calling `handle(conn)` per connection on its own thread; yields its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=_guarded, args=(handle, conn, tls), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def _guarded(handle: Callable[[socket.socket], None], conn: socket.socket, tls: ssl.SSLContext | None) -> None:
    """One connection on its own thread: the TLS handshake too, so a slow one never holds up the next accept."""
    conn.settimeout(10)
    try:
        if tls is not None:
            conn = tls.wrap_socket(conn, server_side=True)
        handle(conn)
    except OSError:  # ssl.SSLError included
        pass
    finally:
        conn.close()


def read_request(conn: socket.socket) -> bytes:
    """The request's head and its body (per Content-Length): closing with unread bytes would reset the connection
    before the client read the answer."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        0,
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def reply(
    conn: socket.socket, status: str, body: bytes, content_type: str = "application/json", extra: str = ""
) -> None:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n{extra}"
        "Connection: close\r\n\r\n"
    )
    conn.sendall(head.encode() + body)


def gemini_like(conn: socket.socket) -> None:
    """Answers the model list and model get like the API; anything else 400 (enough for the endpoint check)."""
    request = read_request(conn)
    if request.startswith(b"GET"):
        reply(conn, "200 OK", MODELS_BODY)
    else:
        reply(
            conn,
            "400 Bad Request",
            b'{"error": {"code": 400, "message": "contents is not specified", "status": "INVALID_ARGUMENT"}}',
        )


def check_installed(*args: str, timeout: float = 60, env: dict | None = None) -> tuple[int, dict, str, float]:
    """The installed CLI, as a subprocess: (exit code, JSON report, stderr, seconds it took)."""
    start = time.monotonic()
    code, out, err = run_installed("check", *args, "--format", "json", timeout=timeout, env=env)
    assert "Traceback" not in err, err
    return code, json.loads(out), err, time.monotonic() - start


def check(runner, *args: str, env: dict | None = None) -> tuple[int, dict, str, float]:
    """`check` in this process, through tests/conftest.py's `run_main` (the entry point's main()) or `run_cli`:
    the same as `check_installed` without an interpreter to start, for tests about what the check does rather than
    about the process. An exception fails the test outright."""
    start = time.monotonic()
    code, out, err = runner("check", *args, "--format", "json", **({"env": env} if env is not None else {}))
    assert "Traceback" not in err, err
    return code, json.loads(out), err, time.monotonic() - start


def first(document: dict) -> dict:
    return document["diagnosis"][0]


# ------------------------------------------------------------------------------------------------ network faults


def hang(conn: socket.socket) -> None:
    read_request(conn)
    time.sleep(8)


def close_mid_body(conn: socket.socket) -> None:
    read_request(conn)
    conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"models": [')


def drip(conn: socket.socket) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n")
    for _ in range(40):
        conn.sendall(b" ")
        time.sleep(0.25)


@pytest.mark.parametrize(
    "handler,kind", [(hang, "timed out"), (drip, "timed out"), (close_mid_body, "closed before a full answer")]
)
def test_broken_servers_are_named_and_time_is_bounded(run_main, handler, kind):
    with raw_server(handler) as port:
        code, document, _, wall = check(
            run_main, "--base-url", f"http://127.0.0.1:{port}", "--api-key", "k", "--timeout", "1", "--generate"
        )
    assert code == 1
    assert first(document)["slug"] == "network-unreachable"
    assert kind in " ".join(first(document)["evidence"])
    # every call is bounded by --timeout: the run ends within it (a wide margin for a loaded machine; speed is bench/'s)
    assert wall < timeout_bound(1), wall


def test_connection_refused_is_named(run_main):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        code, document, _, _ = check(
            run_main, "--base-url", f"http://127.0.0.1:{port}", "--api-key", "k", "--timeout", "2"
        )
    assert code == 1 and "refused" in " ".join(first(document)["evidence"])


def test_dns_failure_is_named(run_cli, monkeypatch):
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "gemini.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    code, out, _ = run_cli(
        "check", "--base-url", "http://gemini.invalid", "--api-key", "k", "--timeout", "2", "--format", "json"
    )
    document = json.loads(out)
    assert code == 1 and first(document)["slug"] == "network-unreachable"
    assert "DNS" in " ".join(first(document)["evidence"])


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    trustme = pytest.importorskip("trustme")  # in the test extra; never missing in CI
    authority = trustme.CA()
    leaf = authority.issue_cert("127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    ca_file = tmp_path_factory.mktemp("ca") / "proxy-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    return context, ca_file


def test_an_untrusted_certificate_names_the_proxy_ca_remedy(run_main, certificates):
    context, _ = certificates
    with raw_server(gemini_like, tls=context) as port:
        code, document, _, _ = check(
            run_main, "--base-url", f"https://127.0.0.1:{port}", "--api-key", "k", "--timeout", "3"
        )
    assert code == 1 and first(document)["slug"] == "network-unreachable"
    fix = " ".join(first(document)["fix"])
    assert "SSL_CERT_FILE" in fix and "REQUESTS_CA_BUNDLE" in fix and "truststore" in fix


def test_trusting_the_ca_through_ssl_cert_file_fixes_it(certificates):
    context, ca_file = certificates
    with raw_server(gemini_like, tls=context) as port:
        code, document, _, _ = check_installed(
            "--base-url",
            f"https://127.0.0.1:{port}",
            "--api-key",
            "k",
            "--timeout",
            "3",
            "--only",
            "endpoint",
            env={"SSL_CERT_FILE": str(ca_file)},
        )
    assert document["checks"][0]["status"] == "pass", document
    assert code == 0


def proxy_407(conn: socket.socket) -> None:
    read_request(conn)
    reply(
        conn,
        "407 Proxy Authentication Required",
        b"<html><title>Proxy login</title></html>",
        "text/html",
        'Proxy-Authenticate: Basic realm="corp"\r\n',
    )


def proxy_html_error(conn: socket.socket) -> None:
    read_request(conn)
    reply(
        conn,
        "502 Bad Gateway",
        b"<html><head><title>Upstream unreachable</title></head><body>x</body></html>",
        "text/html",
    )


def check_through_proxy(
    handler: Callable[[socket.socket], None], credentials: str = "", run_main=None
) -> tuple[int, dict]:
    """`check` against an unreachable host, with the environment's proxy being `handler` on loopback: the installed
    script, or main() in this process when `run_main` is given."""
    with raw_server(handler) as port:
        proxy = f"http://{credentials}127.0.0.1:{port}"
        args = ("--base-url", "http://gemini.example", "--api-key", "k", "--timeout", "3")
        env = {"HTTP_PROXY": proxy, "HTTPS_PROXY": proxy, "NO_PROXY": ""}
        runner = check_installed if run_main is None else functools.partial(check, run_main)
        code, document, _, _ = runner(*args, env=env)
    return code, document


def test_a_proxy_from_the_environment_is_honoured_reported_and_407_named():
    code, document = check_through_proxy(proxy_407, credentials="user:hunter2@")
    endpoint = next(c for c in document["checks"] if c["id"] == "endpoint")
    assert any("proxy in use" in line for line in endpoint["evidence"])
    assert "hunter2" not in json.dumps(document)  # proxy credentials are not echoed
    assert code == 1 and first(document)["slug"] == "network-unreachable"
    assert "407" in " ".join(first(document)["evidence"] + first(document)["fix"])


def test_a_proxy_answering_an_html_page_is_named(run_main):
    code, document = check_through_proxy(proxy_html_error, run_main=run_main)
    assert code == 1 and first(document)["slug"] == "network-unreachable"
    assert "Upstream unreachable" in " ".join(first(document)["evidence"])


def test_no_proxy_bypasses_the_proxy(run_main, emulator):
    server = emulator("healthy")
    with raw_server(proxy_407) as port:
        code, document, _, _ = check(
            run_main,
            "--base-url",
            server.url,
            "--api-key",
            "k",
            "--only",
            "endpoint",
            env={"HTTP_PROXY": f"http://127.0.0.1:{port}", "NO_PROXY": "127.0.0.1"},
        )
    assert code == 0 and document["checks"][0]["status"] == "pass"


# ------------------------------------------------------------------------------------------------ hostile answers


@pytest.mark.parametrize("chaos", sorted(CHAOS))
def test_every_chaos_answer_ends_in_a_report(run_cli, chaos):
    # 40 MiB answers the free shape probe too: on a loaded machine reading it to the cap used most of a 2 s timeout,
    # so the paid image was (rightly) not sent and the huge answer never reached the report; it gets the default 10 s
    timeout = 10 if chaos == "huge-body" else 2
    with EmulatorServer(find_scenario("healthy"), chaos=chaos) as server:
        code, document, _, wall = check(
            run_cli,
            "--base-url",
            server.url,
            "--gcp-endpoint",
            server.url,
            "--project",
            "p",
            "--api-key",
            "k",
            "--generate",
            "--timeout",
            str(timeout),
        )
    assert code == 1, document
    assert document["diagnosis"], document
    assert not any("the check itself failed" in c["summary"] for c in document["checks"]), document["checks"]
    assert wall < timeout_bound(timeout), wall


def test_huge_retry_delay_is_reported_not_waited_for(run_cli):
    with EmulatorServer(find_scenario("healthy"), chaos="huge-retry-delay") as server:
        _code, document, _, wall = check(run_cli, "--base-url", server.url, "--api-key", "k", "--generate")
        generate_calls = server.recorder.count(":generateContent")
    assert first(document)["slug"] == "ipm-exceeded"
    assert any("86400s" in line for line in first(document)["evidence"])
    assert generate_calls == 2  # the free shape probe and one generate: the 429 is not retried
    assert wall < timeout_bound(10)  # the default --timeout; the one-day retryDelay was not waited for


def test_a_non_image_image_part_is_named(run_cli):
    with EmulatorServer(find_scenario("healthy"), chaos="bad-image") as server:
        _code, document, _, _ = check(
            run_cli, "--base-url", server.url, "--api-key", "k", "--generate", "--skip", "billing", "--skip", "quota"
        )
    assert first(document)["slug"] == "no-image-returned"
    assert "not a valid image" in " ".join(first(document)["evidence"])


def test_a_huge_body_is_read_with_a_cap(run_main):
    with EmulatorServer(find_scenario("healthy"), chaos="huge-body") as server:
        code, document, _, _ = check(
            run_main,
            "--base-url",
            server.url,
            "--api-key",
            "k",
            "--generate",
            "--only",
            "endpoint",
            "--only",
            "model",
            "--only",
            "parameters",
        )
    assert code == 1 and "larger than 32 MiB" in json.dumps(document)


statuses = st.sampled_from([200, 400, 403, 404, 429, 500, 502, 503, 504]) | st.integers(100, 599)
bodies = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda c: (
            st.lists(c, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "error",
                        "candidates",
                        "content",
                        "parts",
                        "inlineData",
                        "data",
                        "details",
                        "code",
                        "status",
                        "message",
                        "finishReason",
                        "promptFeedback",
                        "@type",
                        "violations",
                    ]
                ),
                c,
                max_size=4,
            )
        ),
        max_leaves=15,
    ).map(json.dumps),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statuses, bodies)
def test_any_answer_to_a_probe_becomes_a_report(status, body):
    evidence = read_http_answer(status, body, "http://127.0.0.1/v1beta/models/m:generateContent")
    document = {
        "command": "check",
        "checks": [],
        "diagnosis": [
            d.to_dict()
            for d in diagnose(
                evidence,
                Context(
                    model="gemini-3-pro-image", request={"generationConfig": {"imageConfig": {"aspectRatio": "16:9"}}}
                ),
            )
        ],
        "exit_code": 1,
    }
    for fmt in FORMATS:
        assert render(document, fmt)


@pytest.mark.parametrize(
    "status,body",
    [
        (200, b"\x00\xff garbage"),
        (200, b"[1, 2, 3]"),
        (429, b'{"error": "x"}'),
        (500, b""),
        (200, b'{"candidates": [{"content": {"parts": [{"inlineData": {"data": 5}}]}}]}'),
    ],
)
def test_corrupted_answers_through_the_whole_check(run_main, status, body):
    """A few corrupted answers end to end: real server, the CLI's main() (the property test covers the rest)."""

    def handler(conn: socket.socket) -> None:
        request = read_request(conn)
        if request.startswith(b"GET"):
            reply(conn, "200 OK", MODELS_BODY)
        else:
            reply(conn, f"{status} X", body)

    with raw_server(handler) as port:
        code, document, _, _ = check(
            run_main,
            "--base-url",
            f"http://127.0.0.1:{port}",
            "--api-key",
            "k",
            "--generate",
            "--model",
            "gemini-nano-banana-2.1",
            "--timeout",
            "3",
        )
    assert code in (0, 1) and document["checks"], (status, body)
    assert not any("the check itself failed" in c["summary"] for c in document["checks"]), (status, body)


# ------------------------------------------------------------------------------------------------ secrets


def _key_sweep_sources(tmp_path: Path, key: str) -> list[tuple[str, ...]]:
    """explain on a paste full of the key, lint on source holding it, errors: every format of each."""
    pasted = tmp_path / "pasted.txt"
    pasted.write_text(
        f"POST https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?key={key}\n"
        f"x-goog-api-key: {key}\n400 INVALID_ARGUMENT. {{'error': {{'code': 400, 'message': "
        f"'API key not valid: {key}', 'status': 'INVALID_ARGUMENT'}}}}"
    )
    source = tmp_path / "app.py"
    source.write_text(
        f'client = genai.Client(api_key="{key}")\n'
        f'URL = "https://generativelanguage.googleapis.com/v1beta/openai/images/generations?key={key}"\n'
        'config = {"imageConfig": {"imageSize": "2k"}}\n'
    )
    launches: list[tuple[str, ...]] = [("explain", str(pasted), "--format", fmt) for fmt in FORMATS]
    launches += [("lint", str(source), "--format", fmt) for fmt in ("rich", "json", "sarif", "github", "markdown")]
    return [*launches, ("errors",)]


@pytest.mark.parametrize("part", ["check", "check against a server echoing the key", "explain, lint, errors"])
def test_a_key_never_appears_in_any_output(run_main, tmp_path, part):
    """Every command, every format, every output path, the key from the environment and from the flag, against a
    server that echoes it. Three parts, so they run side by side. Within a part the first launch is the installed
    script (a process: all it prints, read whole afterwards); the others run the entry point's main() in this
    process, what reaches the file descriptors 1 and 2 directly counted too."""
    key = "AIzaSyDOCTOR" + "x7Q9" * 6 + "zz1"  # distinctive, built at run time, never a real key
    summary = tmp_path / "summary.md"
    env = {"GEMINI_API_KEY": key, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    files: list[Path] = []
    with contextlib.ExitStack() as stack:
        server = None
        if part.startswith("check"):
            chaos = "echo-key" if "echoing" in part else None
            server = stack.enter_context(EmulatorServer(find_scenario("healthy"), chaos=chaos))
            base = ("check", "--base-url", server.url, "--gcp-endpoint", server.url, "--project", "p", "--generate")
            launches = []
            for fmt in FORMATS:  # the key from the environment into a file, from the flag to stdout; all evidence
                files.append(tmp_path / f"out-{fmt}")
                launches.append((*base, "--format", fmt, "--verbose", "--output", str(files[-1])))
                launches.append((*base, "--api-key", key, "--format", fmt, "--verbose"))
        else:
            launches = _key_sweep_sources(tmp_path, key)
        runs = [run_installed(*launches[0], env=env), *(run_main(*args, env=env) for args in launches[1:])]
        if server is not None:
            for entry in server.recorder.requests:
                assert not entry.key_in_query, entry.path
                assert key not in entry.query
            gemini_calls = [r for r in server.recorder.requests if "/models" in r.path]
            assert gemini_calls and all(r.key_in_header for r in gemini_calls)
    runs += [("file", target.read_text(), "") for target in files]
    for _, out, err in runs:
        assert key not in out and key not in err
        assert key[4:24] not in out and key[4:24] not in err
    assert summary.exists() and key not in summary.read_text()  # check and lint --format github write it
    if part != "check":
        assert any("[REDACTED]" in out for _, out, _ in runs)  # the key was there, and was masked


# ------------------------------------------------------------------------------------------------ files


def test_output_into_a_missing_folder_is_a_clear_error_and_leaves_nothing(tmp_path):
    target = tmp_path / "no" / "such" / "report.json"
    code, _out, err = run_installed("check", "--emulator", "healthy", "--output", str(target))
    assert code == 2 and "cannot write" in err and "Traceback" not in err
    assert not (tmp_path / "no").exists()


def test_output_replaces_a_file_atomically(run_main, tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old report")
    code, _, _ = run_main("check", "--emulator", "healthy", "--format", "markdown", "--output", str(target))
    assert code == 0 and "## gemini-doctor check" in target.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


@pytest.mark.parametrize("flag", ["--request", "--error"])
def test_binary_and_oversized_input_files_are_refused(run_main, tmp_path, flag):
    binary = tmp_path / "body.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    code, _, err = run_main("check", "--emulator", "healthy", flag, str(binary))
    assert code == 2 and "binary" in err and "Traceback" not in err
    huge = tmp_path / "huge.json"
    huge.write_bytes(b"{" + b" " * (11 * 1024 * 1024) + b"}")
    code, _, err = run_main("check", "--emulator", "healthy", flag, str(huge))
    assert code == 2 and "larger than" in err


def test_a_binary_config_file_is_a_clear_error(run_main, tmp_path):
    (tmp_path / "gemini-doctor.toml").write_bytes(b"\x00\x01\x02binary")
    code, _out, err = run_main("check", "--emulator", "healthy", cwd=tmp_path)
    assert code == 2 and "gemini-doctor.toml" in err and "Traceback" not in err


# ------------------------------------------------------------------------------------------------ no harm


@pytest.mark.parametrize(
    "args,gemini,gcp",
    [
        ([], 2, 3),  # the model list and the shape probe: the model is read from the list
        (["--generate"], 3, 3),
        (["--skip", "billing", "--skip", "quota"], 2, 0),
        (["--only", "parameters"], 0, 0),
    ],
)
def test_request_counts_are_pinned(run_main, emulator, args, gemini, gcp):
    server = emulator("healthy")
    _code, document, _, _ = check(
        run_main, "--base-url", server.url, "--gcp-endpoint", server.url, "--project", "p", "--api-key", "k", *args
    )
    assert document["requests_sent"] == {"gemini": gemini, "gcp": gcp}
    assert len(server.recorder.requests) == gemini + gcp


@pytest.mark.parametrize("slug", ["ipm-exceeded", "dynamic-shared-quota", "model-overloaded"])
def test_retryable_errors_are_never_retried(run_cli, emulator, slug):
    server = emulator(slug)
    code, _document, _, _ = check(run_cli, "--base-url", server.url, "--api-key", "k", "--generate")
    assert server.recorder.count(":generateContent") == 2  # the free shape probe and the one image request
    assert code == 1


class Mutable:
    """The answer a loopback server gives to generateContent, changed per hypothesis example."""

    status = 200
    body = b"{}"


@pytest.fixture(scope="module")
def mutable_server():
    def handler(conn: socket.socket) -> None:
        request = read_request(conn)
        if request.startswith(b"GET"):
            reply(conn, "200 OK", MODELS_BODY)
        else:
            reply(conn, f"{Mutable.status} X", Mutable.body)

    with raw_server(handler) as port:
        yield f"http://127.0.0.1:{port}"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(status=statuses, body=bodies)
def test_corrupted_answers_through_the_checks_in_process(run_cli, mutable_server, status, body):
    Mutable.status, Mutable.body = status, body.encode("utf-8", "replace")
    code, out, _err = run_cli(
        "check",
        "--base-url",
        mutable_server,
        "--api-key",
        "k",
        "--generate",
        "--timeout",
        "3",
        "--model",
        "gemini-nano-banana-2.1",
        "--format",
        "json",
    )
    document = json.loads(out)
    assert code in (0, 1) and len(document["checks"]) == 5
    assert all(c["status"] in ("pass", "warn", "fail", "skip", "error") for c in document["checks"])
    assert not any("the check itself failed" in c["summary"] for c in document["checks"]), document["checks"]


def gcp_unavailable(conn: socket.socket) -> None:
    read_request(conn)
    reply(conn, "503 Service Unavailable", b'{"error": {"code": 503, "message": "x", "status": "UNAVAILABLE"}}')


def test_google_cloud_calls_are_not_retried():
    hits: list[int] = []

    def counting(conn: socket.socket) -> None:
        hits.append(1)
        gcp_unavailable(conn)

    with raw_server(counting) as port:
        _code, document, _, wall = check_installed(
            "--gcp-endpoint",
            f"http://127.0.0.1:{port}",
            "--project",
            "p",
            "--timeout",
            "3",
            "--only",
            "billing",
            "--only",
            "quota",
        )
    assert len(hits) == 3 == document["requests_sent"]["gcp"]  # the clients' default retry would send dozens
    assert wall < timeout_bound(3)  # retries with backoff would outlast the timeout
