"""Promises kept under attack on the network (issue 9, points 2 to 6 and 8).

Every hostile server is a real socket on loopback, answering the real CLI over real HTTP; nothing leaves
127.0.0.1. Time is bounded against the configured timeout with a wide margin (the machine is shared), memory by the
doctor's own peak resident size, read from the kernel by a wrapper process. Tests about what the doctor says (not
its memory, nor when its process ends) run the entry point's main() in the test's process.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import socket
import string
import struct
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass

import pytest

from tests.conftest import doctor_command, doctor_env
from tests.test_hardening import MODELS_BODY, raw_server, read_request, reply

TIMEOUT = 2.0
MAX_RSS_MB = 600  # 1 GiB answers, capped at 32 MiB: the 7.4 GB of issue 9 is far above
GIB = 1 << 30


HANG_S = 120  # how long a hostile server holds a connection: far above any bound() below


def bound(timeout: float = TIMEOUT) -> float:
    """How long a run bounded by `timeout` may take on a loaded machine: start-up included, generously (a doctor
    starting on 2 cores shared with a dozen busy processes took 22 s to end a 2 s run), and still far below HANG_S:
    a run that waits for the hostile server fails."""
    return timeout * 3 + 40


# ------------------------------------------------------------------------------------------------ running it

# Runs the doctor as a child and reports its peak resident size (ru_maxrss of RUSAGE_CHILDREN: only that child).
WRAPPER = """
import json, resource, subprocess, sys, time
start = time.monotonic()
done = subprocess.run(json.loads(sys.argv[1]), capture_output=True, timeout=float(sys.argv[2]))
print(json.dumps({
    "code": done.returncode,
    "out": done.stdout.decode("utf-8", "replace"),
    "err": done.stderr.decode("utf-8", "replace"),
    "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    "elapsed": time.monotonic() - start,
}))
"""


@dataclass
class Run:
    code: int
    out: str
    err: str
    rss_mb: float
    elapsed: float

    @property
    def document(self) -> dict:
        return json.loads(self.out)

    def check(self, check_id: str) -> dict:
        return next(c for c in self.document["checks"] if c["id"] == check_id)


def doctor(*args: str, env: dict[str, str] | None = None, limit: float = 120, run_main=None) -> Run:
    """The installed script under the wrapper; with `run_main` (tests/conftest.py), the entry point's main() in this
    process instead, for a test that reads what the doctor says rather than its peak memory or its process's end
    (the Google Cloud calls run on daemon threads: when the process ends is a subprocess's to show). In-process runs
    have no resident size of their own (nan)."""
    if run_main is not None:
        start = time.monotonic()
        code, out, err = run_main(*args, env=env)
        run = Run(code, out, err, float("nan"), time.monotonic() - start)
        assert "Traceback" not in run.err, run.err
        return run
    command = [*doctor_command(), *args]
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, json.dumps(command), str(limit)],
        capture_output=True,
        timeout=limit + 30,
        env=doctor_env(env),
    )
    run = Run(**json.loads(done.stdout))
    assert "Traceback" not in run.err, run.err
    return run


def gcp_check(port: int, *extra: str, timeout: float = TIMEOUT, run_main=None) -> Run:
    return doctor(
        "check",
        "--gcp-endpoint",
        f"http://127.0.0.1:{port}",
        "--project",
        "p",
        "--only",
        "billing",
        "--only",
        "quota",
        "--timeout",
        f"{timeout:g}",
        "--format",
        "json",
        *extra,
        run_main=run_main,
    )


def gemini_check(
    port: int, *extra: str, timeout: float = TIMEOUT, fmt: str = "json", env: dict | None = None, run_main=None
) -> Run:
    return doctor(
        "check",
        "--base-url",
        f"http://127.0.0.1:{port}",
        "--api-key",
        "k",
        "--timeout",
        f"{timeout:g}",
        "--format",
        fmt,
        *extra,
        env=env,
        run_main=run_main,
    )


# ------------------------------------------------------------------------------------------------ hostile answers


@functools.lru_cache(maxsize=1)
def gzip_bomb() -> bytes:
    """gzip of gzip of 1 GiB of zeros, a few KB on the wire. Built without compressing 1 GiB: after a full flush,
    every 1 MiB of zeros deflates to the same bytes; the trailer carries the real CRC and length."""
    block = bytes(1 << 20)
    deflater = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = deflater.compress(block) + deflater.flush(zlib.Z_FULL_FLUSH)
    steady = deflater.compress(block) + deflater.flush(zlib.Z_FULL_FLUSH)
    tail = deflater.flush()[:-8]
    crc = functools.reduce(lambda value, _: zlib.crc32(block, value), range(GIB >> 20), 0)
    inner = head + steady * ((GIB >> 20) - 1) + tail + struct.pack("<II", crc, GIB & 0xFFFFFFFF)
    return gzip.compress(inner, 9)


def bomb(conn: socket.socket) -> None:
    read_request(conn)
    payload = gzip_bomb()
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip, gzip\r\n"
        + f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
        + payload
    )


def gibibyte(conn: socket.socket) -> None:
    """1 GiB of zeros, streamed until the client hangs up."""
    read_request(conn)
    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {GIB}\r\n\r\n".encode())
    chunk = bytes(1 << 20)
    for _ in range(GIB >> 20):
        conn.sendall(chunk)


def drip(head: bytes, conn: socket.socket) -> None:
    """`head`, then one more byte every quarter second for HANG_S: each read ends well within any socket timeout,
    so only a deadline over the whole call ends it."""
    read_request(conn)
    conn.sendall(head)
    for _ in range(HANG_S * 4):
        conn.sendall(b"a")
        time.sleep(0.25)


header_drip = functools.partial(drip, b"HTTP/1.1 200 OK\r\nX-Slow: ")  # the client's thread blocks in the headers
body_drip = functools.partial(
    drip, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
)


def hang(conn: socket.socket) -> None:
    read_request(conn)
    time.sleep(HANG_S)


class Counting:
    """A handler that counts the requests it answers."""

    def __init__(self, handle):
        self.handle = handle
        self.hits = 0
        self.lock = threading.Lock()

    def __call__(self, conn: socket.socket) -> None:
        with self.lock:
            self.hits += 1
        self.handle(conn)


# ------------------------------------------------------------------------------------------------ 2. linear redaction


def test_a_server_answering_header_names_and_runs_of_spaces_cannot_stall_the_check(run_main):
    """600 KB of `Authorization:`, spaces and `$` made redaction quadratic, holding check far past its timeout."""
    body = "".join(f"{name}{' ' * 60_000}$" for name in ("Authorization:", "x-goog-api-key:") * 5).encode()

    def answer(conn: socket.socket) -> None:
        read_request(conn)
        reply(conn, "400 Bad Request", body, content_type="text/plain")

    with raw_server(answer) as port:
        run = gemini_check(port, "--only", "endpoint", "--only", "model", run_main=run_main)
    assert run.check("endpoint")["status"] == "fail"
    assert run.elapsed < TIMEOUT * 3 + 15, run.elapsed  # in this process: no start-up in it, the old tighter bound


# ------------------------------------------------------------------------------------------------ 3. decoded bodies


def test_a_gzip_of_gzip_bomb_is_capped_as_it_is_decoded_on_the_gemini_path():
    gzip_bomb()  # built before the doctor starts (seconds on a loaded machine): the server's time is not the doctor's
    with raw_server(bomb) as port:
        run = gemini_check(port, "--only", "endpoint", "--only", "model", timeout=10)  # see the Google Cloud case
    assert run.check("endpoint")["status"] == "fail"
    assert "larger than 32 MiB" in " ".join(run.check("endpoint")["evidence"])
    assert run.rss_mb < MAX_RSS_MB, run.rss_mb
    assert run.elapsed < bound(10), run.elapsed


@pytest.mark.parametrize(
    "encoding,encode",
    [
        ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send it
        ("gzip, deflate", lambda data: zlib.compress(gzip.compress(data))),
        ("identity", lambda data: data),
        ("br", lambda data: data),  # unknown to the decoder: passed through, as httpx does
    ],
)
def test_every_encoding_stack_decodes_within_the_cap(encoding, encode):
    from gemini_doctor.probes.limits import BodyDecoder

    data = b'{"ok": true}' * 1000
    decoder = BodyDecoder(encoding)
    encoded = encode(data)
    for start in range(0, len(encoded), 100):
        assert decoder.feed(encoded[start : start + 100])
    assert decoder.body() == data and not decoder.truncated

    small = BodyDecoder(encoding, cap=5000)
    results = [small.feed(encoded[start : start + 100]) for start in range(0, len(encoded), 100)]
    assert small.truncated and results[-1] is False and len(small.body()) <= 5000
    assert all(stage.produced <= 5001 for stage in small.stages)


def test_a_bomb_never_makes_a_stage_hold_more_than_the_cap():
    from gemini_doctor.probes.limits import BodyDecoder

    decoder = BodyDecoder("gzip, gzip", cap=1 << 20)
    assert decoder.feed(gzip_bomb()) is False
    assert decoder.truncated and len(decoder.body()) == 1 << 20
    assert all(stage.produced <= (1 << 20) + 1 for stage in decoder.stages)


def test_a_corrupt_encoding_is_a_named_error():
    from gemini_doctor.probes.limits import BodyDecoder, DecodingError

    with pytest.raises(DecodingError, match="gzip encoding is corrupt"):
        BodyDecoder("gzip").feed(b"this is not gzip at all")


# ------------------------------------------------------------------------------------------------ 4. Google Cloud


@pytest.mark.parametrize(
    "handler,said",
    [
        (body_drip, "timed out"),
        (header_drip, "timed out"),
        (hang, "timed out"),
    ],
    ids=["body drip", "header drip", "hang"],
)
def test_a_slow_google_cloud_server_cannot_keep_the_run_past_its_timeout(handler, said):
    with raw_server(handler) as port:
        run = gcp_check(port)
    assert run.elapsed < bound(), run.elapsed
    for check_id in ("billing", "quota"):
        assert run.check(check_id)["status"] == "skip"
        assert said in run.check(check_id)["summary"], run.check(check_id)


@pytest.mark.parametrize("handler", [gibibyte, bomb], ids=["1 GiB", "gzip of gzip"])
def test_a_huge_google_cloud_answer_is_capped(handler):
    # 32 MiB to read or inflate before the cap is met: on a loaded machine that outlasted a 2 s timeout (the summary
    # then said "timed out", true but not what is tested here), so these get the default 10 s
    gzip_bomb()  # built before the doctor starts (seconds on a loaded machine): the server's time is not the doctor's
    with raw_server(handler) as port:
        run = gcp_check(port, timeout=10)
    assert run.rss_mb < MAX_RSS_MB, run.rss_mb
    assert run.elapsed < bound(10), run.elapsed
    assert "larger than 32 MiB" in run.check("billing")["summary"]


def test_a_google_cloud_redirect_loop_is_not_followed(run_main):
    def redirect(conn: socket.socket) -> None:
        read_request(conn)
        reply(conn, "302 Found", b"", extra=f"Location: http://127.0.0.1:{port}/again\r\n")

    counting = Counting(redirect)
    with raw_server(counting) as port:
        run = gcp_check(port, run_main=run_main)
    assert 1 <= counting.hits <= 3 and run.document["requests_sent"]["gcp"] == counting.hits
    assert "follows no redirect" in run.check("billing")["summary"]


def cloud_api(conn: socket.socket) -> None:
    """Billing on, the API enabled, and a Cloud Quotas list that always has another page."""
    request = read_request(conn).decode("latin-1")
    path = request.split(" ", 2)[1]
    if "billingInfo" in path:
        body = {"name": "projects/p/billingInfo", "billingEnabled": True, "billingAccountName": "billingAccounts/1"}
    elif "quotaInfos" in path:
        info = {
            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
            "metric": "generativelanguage.googleapis.com/generate_requests_per_model",
            "refreshInterval": "minute",
            "dimensionsInfos": [{"dimensions": {"model": "gemini-nano-banana-2.1"}, "details": {"value": "10"}}],
        }
        body = {"quotaInfos": [info], "nextPageToken": "another-page"}
    else:
        body = {"name": "projects/p/services/generativelanguage.googleapis.com", "state": "ENABLED"}
    reply(conn, "200 OK", json.dumps(body).encode())


def test_quota_paging_stays_within_the_request_budget(run_main):
    counting = Counting(cloud_api)
    with raw_server(counting) as port:
        run = gcp_check(port, run_main=run_main)
    assert counting.hits == run.document["requests_sent"]["gcp"] <= 3
    quota = run.check("quota")
    assert quota["status"] == "pass" and "first page of Cloud Quotas only" in quota["summary"]
    assert any("more pages" in line for line in quota["evidence"])


def test_a_metadata_server_that_never_answers_costs_at_most_the_timeout(tmp_path):
    counting = Counting(hang)
    with raw_server(counting) as port:
        run = doctor(
            "check",
            "--gcp-endpoint",
            "https://127.0.0.1:9",  # not the emulator, so Application Default Credentials are looked for
            "--project",
            "p",
            "--only",
            "billing",
            "--timeout",
            "1",
            "--format",
            "json",
            env={
                "GCE_METADATA_IP": f"127.0.0.1:{port}",
                "GCE_METADATA_HOST": f"127.0.0.1:{port}",
                "HOME": str(tmp_path),
                "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
            },
        )
    assert counting.hits >= 1  # the metadata server was asked, and did not answer
    assert run.elapsed < bound(1), run.elapsed
    billing = run.check("billing")
    assert billing["status"] == "skip" and "within the 1 s timeout" in billing["summary"], billing


def test_off_google_cloud_the_metadata_server_is_not_asked(tmp_path, monkeypatch):
    from gemini_doctor.probes import gcp_http
    from gemini_doctor.probes.limits import Budget, Deadline

    monkeypatch.setattr(gcp_http, "PRODUCT_NAME", str(tmp_path / "no-such-file"))
    for name in ("GCE_METADATA_HOST", "GCE_METADATA_IP", "GCE_METADATA_ROOT"):
        monkeypatch.delenv(name, raising=False)
    request = gcp_http.BoundedRequest(Deadline(5), Budget(3, "x"), metadata_allowed=gcp_http.metadata_allowed())
    with pytest.raises(gcp_http.NotOnGoogleCloud):
        request("http://169.254.169.254/computeMetadata/v1/")


# ------------------------------------------------------------------------------------------------ 5. terminals

EVIL = "\x1b[2J\x1b[H[OK] all checks passed\x1b]0;pwned\x07\x9b31m\r\x08\x08\u202edesrever\u2066\x00\x7f"
MARKDOWN_EVIL = "</details><!-- | a | b |"
UNSAFE = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))] + ["\u202e", "\u2066"]


def evil_429() -> bytes:
    return json.dumps(
        {
            "error": {
                "code": 429,
                "message": f"Quota exceeded for quota metric {EVIL} {MARKDOWN_EVIL}",
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                        "violations": [
                            {
                                "quotaMetric": f"generativelanguage.googleapis.com/generate_content_{EVIL}",
                                "quotaId": f"GenerateRequestsPerDayPerProjectPerModel-FreeTier{EVIL}",
                                "quotaDimensions": {"model": f"gemini-nano-banana-2.1{EVIL}"},
                                "quotaValue": "0",
                            }
                        ],
                    },
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": f"RATE_LIMIT_EXCEEDED{EVIL}",
                        "domain": "googleapis.com",
                        "metadata": {"service": f"generativelanguage.googleapis.com{EVIL}"},
                    },
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "20s"},
                ],
            }
        }
    ).encode()


def evil_gemini(conn: socket.socket) -> None:
    request = read_request(conn)
    if request.startswith(b"GET") and b"/models/" in request.split(b"\r\n", 1)[0]:
        model = {"name": "models/gemini-nano-banana-2.1", "supportedGenerationMethods": ["generateContent"]}
        reply(conn, "200 OK", json.dumps(model).encode())
    elif request.startswith(b"GET"):
        reply(conn, "200 OK", MODELS_BODY)
    else:
        reply(conn, "429 Too Many Requests", evil_429())


def unsafe_in(text: str) -> list[str]:
    return sorted({repr(c) for c in text if c in UNSAFE})


@pytest.mark.parametrize("fmt", ["rich", "markdown", "json"])
def test_escape_sequences_from_a_server_never_reach_the_terminal(run_main, fmt, tmp_path):
    summary = tmp_path / "summary.md"
    summary.touch()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    with raw_server(evil_gemini) as port:
        run = gemini_check(port, "--generate", fmt=fmt, timeout=5, env=env, run_main=run_main)
    assert run.code == 1
    assert "quota" in run.out.lower()  # the 429 was read and reported, not lost
    written = summary.read_text(encoding="utf-8")
    for name, text in (("stdout", run.out), ("stderr", run.err), ("step summary", written)):
        assert not unsafe_in(text), (name, unsafe_in(text))
    for markdown in (written, run.out if fmt == "markdown" else ""):
        assert "</details>" not in markdown and "<!--" not in markdown


@pytest.mark.parametrize("fmt", ["rich", "markdown", "json"])
def test_escape_sequences_in_a_pasted_error_never_reach_the_terminal(run_main, fmt, tmp_path):
    pasted = tmp_path / "error.json"
    pasted.write_bytes(evil_429())
    run = doctor("explain", str(pasted), "--format", fmt, run_main=run_main)
    assert run.code == 1 and not unsafe_in(run.out + run.err), unsafe_in(run.out + run.err)


def test_neutralise_keeps_layout_and_shows_what_was_there():
    from gemini_doctor.redact import neutralise

    assert neutralise("line one\n\tline two") == "line one\n\tline two"
    assert neutralise("\x1b[2J\x07\x9b\u202e") == "\\x1b[2J\\x07\\x9b\\u202e"


# ------------------------------------------------------------------------------------------------ 6. disguised keys


def fake_key() -> str:
    import secrets

    return "AIza" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(35))


def pieces(secret: str) -> set[str]:
    """Every 10-character piece of the secret and of its base64 forms."""
    forms = {secret}
    for pad in (b"", b"x", b"ab"):
        encoded = pad + secret.encode()
        forms |= {base64.b64encode(encoded).decode(), base64.urlsafe_b64encode(encoded).decode()}
    return {form[i : i + 10] for form in forms for i in range(4, len(form) - 10)}


def test_a_google_cloud_error_is_redacted_before_it_is_cut():
    from gemini_doctor.probes.gcp import describe_gcp_error

    key = fake_key()
    for cut_after in range(4, 20):  # a 300-character cut once left AIzaSyQ7ab: AIza and 6 more, too short a shape
        error = PermissionError("x" * (300 - len("PermissionError: ") - cut_after) + key + " was used")
        line = describe_gcp_error(error)
        assert key[:cut_after] not in line and len(line) <= 300, line


def test_a_google_cloud_error_echoing_a_key_is_redacted_end_to_end(run_main):
    key = fake_key()

    def forbidden(conn: socket.socket) -> None:
        read_request(conn)
        message = "Permission denied on resource project p. " + "x" * 200 + f" {key}" * 6  # keys around the cut
        body = {"error": {"code": 403, "message": message, "status": "PERMISSION_DENIED"}}
        reply(conn, "403 Forbidden", json.dumps(body).encode())

    with raw_server(forbidden) as port:
        run = gcp_check(port, run_main=run_main)
    assert "403" in run.check("billing")["summary"]
    assert key[:6] not in run.out, run.check("billing")["summary"]


def disguises(secret: str) -> dict[str, str]:
    """The secret echoed the ways issue 9 saw keys leak: escaped in broken JSON, split, base64, percent-encoded."""
    return {
        "escaped": "".join(f"\\u{ord(c):04x}" for c in secret),
        "split by a newline": secret[:9] + "\n" + secret[9:],
        "invisible characters": secret[:5] + "\u200b" + secret[5:12] + "\u00ad" + secret[12:],
        "base64": base64.b64encode(secret.encode()).decode(),
        "url-safe base64, offset": base64.urlsafe_b64encode(b"{" + secret.encode()).decode(),
        "percent-encoded": "".join(f"%{ord(c):02X}" for c in secret),
    }


def shown(run: Run, fmt: str) -> str:
    """What a reader sees: the rendered text, or every string of the JSON document; a backslash doubled by a
    repr counted once (`\\\\u0074` shows the same key as `\\u0074`)."""
    if fmt != "json":
        return run.out.replace("\\\\", "\\")

    def strings(value: object) -> list[str]:
        if isinstance(value, dict):
            return [s for k, v in value.items() for s in (str(k), *strings(v))]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return [str(value)]

    return "\n".join(strings(run.document)).replace("\\\\", "\\")


@pytest.mark.parametrize(
    "form,fmt",
    [(form, "json") for form in disguises("x")] + [("escaped", "rich"), ("escaped", "markdown")],
)
def test_the_users_key_echoed_in_disguise_never_appears(run_main, form, fmt):
    import secrets

    key = "test-" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(30))  # no known key shape
    echoed = disguises(key)[form]

    def echo(conn: socket.socket) -> None:
        read_request(conn)
        message = f'API key not valid. Please pass a valid API key. {{"got": "{echoed}'  # broken JSON
        body = {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}
        reply(conn, "400 Bad Request", json.dumps(body).encode())

    with raw_server(echo) as port:
        base = f"http://127.0.0.1:{port}"
        args = ("check", "--base-url", base, "--timeout", "5", "--format", fmt)
        run = doctor(*args, env={"GEMINI_API_KEY": key}, run_main=run_main)
    text = shown(run, fmt)
    assert run.code == 1 and "API key not valid" in text
    leaked = {p for p in pieces(key) if p in text} | {
        echoed[i : i + 12] for i in range(len(echoed) - 12) if echoed[i : i + 12] in text
    }
    assert not leaked, (form, leaked)


# ------------------------------------------------------------------------------------------------ 8. one deadline


def test_an_endpoint_whose_shape_probe_times_out_does_not_pass():
    def lists_then_hangs(conn: socket.socket) -> None:
        request = read_request(conn)
        if request.startswith(b"GET"):
            reply(conn, "200 OK", MODELS_BODY)
        else:
            time.sleep(HANG_S)

    with raw_server(lists_then_hangs) as port:
        run = gemini_check(port, "--only", "endpoint")
    endpoint = run.check("endpoint")
    assert endpoint["status"] == "fail", endpoint
    assert "takes image fields" not in endpoint["summary"]
    assert "timed out" in json.dumps(endpoint["evidence"])
    assert run.elapsed < bound(), run.elapsed


def test_the_paid_image_is_not_sent_when_the_free_checks_used_most_of_the_timeout():
    timeout = 3.0
    posts: list[bytes] = []

    def slow_reads(conn: socket.socket) -> None:
        request = read_request(conn)
        if request.startswith(b"GET"):
            time.sleep(timeout * 0.7)
            gemini_model_or_list(conn, request)
        else:
            posts.append(request)
            body = b'{"error": {"code": 400, "message": "contents is not specified", "status": "INVALID_ARGUMENT"}}'
            reply(conn, "400 Bad Request", body)

    with raw_server(slow_reads) as port:
        run = gemini_check(port, "--generate", timeout=timeout)
    assert len(posts) == 1  # the free shape probe only: the paid generateContent was never sent
    parameters = run.check("parameters")
    assert parameters["status"] == "warn" and "no image requested" in parameters["summary"], parameters
    assert run.elapsed < bound(timeout), run.elapsed


def gemini_model_or_list(conn: socket.socket, request: bytes) -> None:
    if b"/models/" in request.split(b"\r\n", 1)[0]:
        model = {"name": "models/gemini-nano-banana-2.1", "supportedGenerationMethods": ["generateContent"]}
        reply(conn, "200 OK", json.dumps(model).encode())
    else:
        reply(conn, "200 OK", MODELS_BODY)


def test_a_request_after_the_deadline_is_not_sent():
    import asyncio

    from gemini_doctor.probes.gemini import GeminiProbe, NetworkFailure
    from gemini_doctor.probes.limits import Deadline
    from gemini_doctor.settings import Settings

    async def late() -> tuple[object, int]:
        probe = GeminiProbe(Settings(base_url="http://127.0.0.1:9", timeout=1), Deadline(0))
        try:
            return await probe.get("models"), probe.sent
        finally:
            await probe.close()

    answer, sent = asyncio.run(late())
    assert isinstance(answer, NetworkFailure) and "timed out" in str(answer.error) and sent == 0


def test_the_wrapper_measures_the_doctor_itself():
    run = doctor("--version")
    assert run.code == 0 and 10 < run.rss_mb < MAX_RSS_MB


def test_a_check_that_ignores_the_deadline_is_given_up_on():
    import asyncio

    from gemini_doctor.engine import CheckResult, run_checks
    from gemini_doctor.probes.limits import Deadline
    from gemini_doctor.settings import Settings

    class Stuck:
        id = "stuck"
        title = "A plugin that never looks at the clock"
        order = 1
        needs = ()
        depends_on = ()

        async def run(self, ctx) -> CheckResult:
            await asyncio.sleep(30)
            return CheckResult("pass", "woke up")

    [(_check, result)] = asyncio.run(run_checks([Stuck()], Settings(timeout=0.5), {}, None, Deadline(0.5)))
    assert result.status == "error" and "did not end within the 0.5 s timeout" in result.summary
