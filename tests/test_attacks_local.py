"""Promises held under attack, on loopback only (issue 9, points 1, 7, 9 and 10).

- A cloned repository's config file cannot send the user's key, or a local credentials file, anywhere.
- `-o` never replaces a device, a named pipe or a symlink with a regular file, and never blocks on a pipe.
- The emulator caps what it reads, answers every hostile body in Google's error shape and never logs a traceback.

What could hang (a named pipe, /dev/zero, a credentials path that is no file) runs the installed script as a
subprocess with a timeout; the rest runs the entry point's main() in the test's process (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import select
import signal
import socket
import stat
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES, doctor_command
from tests.test_bad_input import assert_clean_failure

EXPLAINED = str(FIXTURES / "explain" / "billing-limit-zero.json")  # any error the doctor names: exit 1


def fake_key() -> str:
    return "AIza" + "x" * 35  # obviously fake, built at run time


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without Gemini/Google settings or proxies, plus `extra`."""
    dropped = ("GEMINI_", "GOOGLE_")
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped) and k.lower() not in proxies}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def doctor(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, str, str]:
    """The installed CLI in `cwd`; a hang fails the test through `timeout` (far above the doctor's own 10 s)."""
    result = subprocess.run(
        [*doctor_command(), *args], cwd=cwd, env=env or clean_env(), capture_output=True, timeout=timeout
    )
    return result.returncode, result.stdout.decode(), result.stderr.decode()


# ------------------------------------------------------------------------------------------- the attacker


class Attacker:
    """A loopback HTTP server that records every request it gets (method, path, headers, body) and answers {}."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = min(int(self.headers.get("content-length") or 0), 1 << 20)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                owner.received.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = _record

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def attacker() -> Iterator[Attacker]:
    server = Attacker()
    yield server
    server.close()


def assert_refused(result: tuple[int, str, str], attacker: Attacker, *words: str) -> None:
    code, out, err = result
    assert_clean_failure(code, out, err, *words)
    assert attacker.received == [], attacker.received
    assert fake_key() not in out + err


# --------------------------------------------------------------- 1. a config file cannot move credentials


@pytest.mark.parametrize("config", ["pyproject.toml", "gemini-doctor.toml"])
@pytest.mark.parametrize("setting", ["base_url", "gcp_endpoint"])
def test_a_cloned_repositorys_config_cannot_send_the_key_to_its_host(run_main, tmp_path, attacker, config, setting):
    line = f'{setting} = "{attacker.url}"\n'
    (tmp_path / config).write_text("[tool.gemini-doctor]\n" + line if config == "pyproject.toml" else line)
    env = {"GEMINI_API_KEY": fake_key()}
    if setting == "gcp_endpoint":  # the Gemini API on loopback too: even a regression reaches nothing outside
        env.update(GOOGLE_CLOUD_PROJECT="my-project", GOOGLE_GEMINI_BASE_URL=attacker.url)
    result = run_main("check", "--generate", cwd=tmp_path, env=env)
    flag = "--base-url" if setting == "base_url" else "--gcp-endpoint"
    assert_refused(result, attacker, config, setting, "not a Google host", flag)


def test_the_same_host_from_a_flag_or_the_environment_is_used(run_main, tmp_path, attacker):
    """The control: the attacker server does see requests (and the key) when the user names it himself."""
    (tmp_path / "pyproject.toml").write_text('[tool.gemini-doctor]\nbase_url = "http://127.0.0.1:1"\n')
    env = {"GEMINI_API_KEY": fake_key()}
    code, _out, err = run_main("check", "--only", "model", "--base-url", attacker.url, cwd=tmp_path, env=env)
    assert code in (0, 1) and "Traceback" not in err, err
    assert attacker.received and attacker.received[0]["headers"].get("x-goog-api-key") == fake_key()
    attacker.received.clear()
    code, _out, err = run_main(
        "check", "--only", "model", cwd=tmp_path, env={**env, "GOOGLE_GEMINI_BASE_URL": attacker.url}
    )
    assert code in (0, 1) and attacker.received, err


def adc_file(path: Path) -> Path:
    """An authorized_user ADC file as `gcloud auth application-default login` writes it (fake values)."""
    values = {"client_id": "1-x.apps.googleusercontent.com", "type": "authorized_user"}
    values["client_secret"], values["refresh_token"] = "d-" + "s" * 22, "1//" + "r" * 40
    path.write_text(json.dumps(values))
    return path


@pytest.mark.parametrize("where", ["absolute", "dot-dot", "symlink-out", "inside-but-credentials"])
def test_a_config_request_cannot_post_a_local_credentials_file(run_main, tmp_path, attacker, where):
    repo, home = tmp_path / "repo", tmp_path / "home"
    repo.mkdir()
    home.mkdir()
    adc = adc_file(home / "application_default_credentials.json")
    value = {
        "absolute": str(adc),
        "dot-dot": "../home/application_default_credentials.json",
        "symlink-out": "body.json",
        "inside-but-credentials": "adc-copy.json",
    }[where]
    (repo / "body.json").symlink_to(adc)
    adc_file(repo / "adc-copy.json")
    (repo / "pyproject.toml").write_text(f'[tool.gemini-doctor]\nrequest = "{value}"\n')
    env = {"GEMINI_API_KEY": fake_key(), "GOOGLE_GEMINI_BASE_URL": attacker.url}  # the user's own endpoint
    words = ("looks like credentials",) if where == "inside-but-credentials" else ("outside the folder", "--request")
    assert_refused(run_main("check", "--generate", cwd=repo, env=env), attacker, *words)


def test_a_credentials_file_is_never_sent_even_when_named_on_the_command_line(run_main, tmp_path, attacker):
    adc = adc_file(tmp_path / "adc.json")
    env = {"GEMINI_API_KEY": fake_key()}
    result = run_main("check", "--generate", "--base-url", attacker.url, "--request", str(adc), cwd=tmp_path, env=env)
    assert_refused(result, attacker, "looks like credentials")
    service_account = tmp_path / "sa.json"
    service_account.write_text(json.dumps({"type": "service_account", "project_id": "p", "client_email": "a@b"}))
    args = ("check", "--generate", "--base-url", attacker.url, "--request", str(service_account))
    result = run_main(*args, cwd=tmp_path, env=env)
    assert_refused(result, attacker, "service_account")


@pytest.mark.parametrize("name", ["https_proxy", "proxy", "ssl_cert_file", "ca_bundle", "headers"])
def test_a_config_cannot_set_a_proxy_a_ca_file_or_headers(run_main, tmp_path, attacker, name):
    (tmp_path / "gemini-doctor.toml").write_text(f'{name} = "{attacker.url}"\n')
    env = {"GEMINI_API_KEY": fake_key()}
    result = run_main("check", "--base-url", attacker.url, cwd=tmp_path, env=env)
    assert_refused(result, attacker, "unknown setting")


# ------------------------------------------------------------------------- 7. -o and what is not a file


def char_device(tmp_path: Path) -> Path:
    """A character device to write to: as root a clone of /dev/null in tmp_path (so a regression cannot replace
    the machine's own), else /dev/null itself (which a non-root process could not replace anyway)."""
    if os.geteuid() == 0:
        clone = tmp_path / "null"
        try:
            os.mknod(clone, stat.S_IFCHR | 0o666, os.makedev(1, 3))
            return clone
        except OSError:
            pass
    return Path("/dev/null")


def test_output_to_a_device_writes_through_it_and_leaves_it_a_device(run_main, tmp_path):
    device = char_device(tmp_path)
    before = set(os.listdir(device.parent))
    code, out, err = run_main("explain", EXPLAINED, "-o", str(device), cwd=tmp_path)
    assert code == 1 and out == "" and "error" not in err, err
    assert stat.S_ISCHR(os.stat(device).st_mode) and os.stat(device).st_rdev == os.makedev(1, 3)
    assert set(os.listdir(device.parent)) == before  # no temp file left beside it


def test_output_to_a_fifo_with_no_reader_is_one_line_not_a_hang(tmp_path):
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    code, out, err = doctor("explain", EXPLAINED, "-o", str(fifo), cwd=tmp_path)
    assert_clean_failure(code, out, err, "named pipe", "nothing reads")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_output_to_a_fifo_with_a_reader_goes_through_the_pipe(tmp_path):
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the reader is there before the doctor starts
    read: list[bytes] = []
    reader = threading.Thread(target=_read_until_the_writer_closes, args=(fd, read), daemon=True)
    reader.start()
    try:
        code, _out, err = doctor("explain", EXPLAINED, "-o", str(fifo), "--format", "json", cwd=tmp_path)
        reader.join(timeout=30)
    finally:
        os.close(fd)
    assert code == 1, err
    assert json.loads(b"".join(read))["diagnosis"] and stat.S_ISFIFO(os.stat(fifo).st_mode)


def _read_until_the_writer_closes(fd: int, read: list[bytes]) -> None:
    select.select([fd], [], [], 30)  # until a writer has written (no writer yet is not an end of file here)
    os.set_blocking(fd, True)
    while chunk := os.read(fd, 65536):
        read.append(chunk)


def test_output_through_a_symlink_writes_the_target_and_keeps_the_link(run_main, tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "real.md").write_text("old report")
    os.chmod(reports / "real.md", 0o640)
    link = tmp_path / "latest.md"
    link.symlink_to(reports / "real.md")
    code, _out, err = run_main("explain", EXPLAINED, "-o", str(link), "--format", "markdown", cwd=tmp_path)
    assert code == 1, err
    assert link.is_symlink() and os.readlink(link) == str(reports / "real.md")
    assert "old report" not in (reports / "real.md").read_text() and "GD" in (reports / "real.md").read_text()
    assert stat.S_IMODE(os.stat(reports / "real.md").st_mode) == 0o640  # the report keeps its permissions
    assert sorted(p.name for p in reports.iterdir()) == ["real.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.md", "reports"]


def test_output_to_a_dangling_symlink_creates_its_target(run_main, tmp_path):
    link = tmp_path / "latest.md"
    link.symlink_to(tmp_path / "new.md")
    code, _out, err = run_main("explain", EXPLAINED, "-o", str(link), cwd=tmp_path)
    assert code == 1 and link.is_symlink() and (tmp_path / "new.md").is_file(), err


def test_output_to_a_folder_is_one_line(run_main, tmp_path):
    assert_clean_failure(*run_main("explain", EXPLAINED, "-o", str(tmp_path), cwd=tmp_path), "directory")


# ----------------------------------------------------------- 9. bad input: one line and exit 2, never 3 or a hang


def test_explain_on_a_fifo_with_no_writer_is_one_line_not_a_hang(tmp_path):
    fifo = tmp_path / "error.pipe"
    os.mkfifo(fifo)
    assert_clean_failure(*doctor("explain", str(fifo), cwd=tmp_path), "named pipe", "nothing writes")


def test_explain_reads_a_fifo_that_has_a_writer(tmp_path):
    fifo = tmp_path / "error.pipe"
    os.mkfifo(fifo)
    text = Path(EXPLAINED).read_bytes()
    writer = threading.Thread(target=lambda: fifo.write_bytes(text), daemon=True)  # blocks until a reader opens
    writer.start()
    code, out, err = doctor("explain", str(fifo), "--format", "json", cwd=tmp_path)
    writer.join(timeout=30)
    assert code == 1 and json.loads(out)["diagnosis"], err


@pytest.mark.parametrize("key", ["\ufeff" + fake_key(), "ключ", fake_key()[:20] + "\u200b" + fake_key()[20:]])
def test_a_key_a_header_cannot_carry_is_one_line_and_nothing_is_sent(run_main, tmp_path, attacker, key):
    env = {"GEMINI_API_KEY": key, "GOOGLE_GEMINI_BASE_URL": attacker.url}
    code, out, err = run_main("check", cwd=tmp_path, env=env)
    assert_refused((code, out, err), attacker, "GEMINI_API_KEY", "cannot be sent")
    assert key not in out + err and key.strip("\ufeff") not in out + err


@pytest.mark.parametrize("target", ["folder", "/dev/zero", "fifo"])
def test_google_application_credentials_that_is_no_file_is_one_line_not_a_hang(tmp_path, attacker, target):
    if target == "fifo":
        os.mkfifo(tmp_path / "adc.pipe")
    path = {"folder": str(tmp_path), "/dev/zero": "/dev/zero", "fifo": str(tmp_path / "adc.pipe")}[target]
    env = clean_env(GEMINI_API_KEY=fake_key(), GOOGLE_GEMINI_BASE_URL=attacker.url, GOOGLE_APPLICATION_CREDENTIALS=path)
    result = doctor("check", "--project", "my-project", cwd=tmp_path, env=env)
    assert_refused(result, attacker, "GOOGLE_APPLICATION_CREDENTIALS")


@pytest.mark.parametrize(
    "args,words",
    [
        (("--only", "model", "--skip", "model"), "both name model"),
        (tuple(a for c in ("billing", "quota", "endpoint", "model", "parameters") for a in ("--skip", c)), "no check"),
        (("--timeout", "0"), "timeout"),
        (("--timeout", "nan"), "timeout"),
        (("--timeout", "1e309"), "timeout"),
        (("--timeout", "inf"), "timeout"),
        (("--timeout", "-1"), "timeout"),
    ],
    ids=["only-and-skip", "skip-all", "timeout-0", "timeout-nan", "timeout-1e309", "timeout-inf", "timeout-neg"],
)
def test_settings_that_would_run_nothing_or_never_end_are_usage_errors(run_main, tmp_path, args, words):
    assert_clean_failure(*run_main("check", "--emulator", "healthy", *args, cwd=tmp_path), words)


def _request_file(tmp_path: Path, kind: str) -> str:
    path = tmp_path / f"request-{kind}"
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "huge":
        path.write_bytes(b'{"contents": "' + b"x" * (2 * 1024 * 1024) + b'"}')
    elif kind == "deep":
        path.write_bytes(b"[" * 100_000)
    elif kind == "long-integer":
        path.write_bytes(b'{"contents": ' + b"1" * 5000 + b"}")
    return {"dev-zero": "/dev/zero"}.get(kind, str(path))


@pytest.mark.parametrize(
    "kind,words",
    [
        ("folder", "directory"),
        ("dev-zero", "larger than"),
        ("fifo", "named pipe"),
        ("huge", "larger than"),
        ("deep", "nests deeper"),
        ("long-integer", "not usable JSON"),
    ],
)
def test_request_files_that_are_no_json_body_are_one_line(run_main, tmp_path, kind, words):
    """A named pipe or /dev/zero could hang or fill memory: those run the installed script, a subprocess with a
    timeout; the others the entry point's main() in this process."""
    request = _request_file(tmp_path, kind)
    args = ("check", "--emulator", "healthy", "--request", request)
    result = doctor(*args, cwd=tmp_path) if kind in ("fifo", "dev-zero") else run_main(*args, cwd=tmp_path)
    assert_clean_failure(*result, words)


@pytest.mark.parametrize(
    "content,words",
    [
        (b'[tool]\ngemini-doctor = "x"\n', "must be a table"),
        (b"[tool.gemini-doctor\n", "not valid TOML"),
        (b"\x00\x01\x02binary", "binary"),
        (b"# " + b"x" * (2 * 1024 * 1024), "larger than"),
        (b"a = " + b"[" * 100_000, "nests deeper"),
    ],
    ids=["not-a-table", "invalid", "binary", "huge", "deep"],
)
def test_broken_pyproject_is_one_line(run_main, tmp_path, content, words):
    (tmp_path / "pyproject.toml").write_bytes(content)
    assert_clean_failure(*run_main("check", "--emulator", "healthy", cwd=tmp_path), "pyproject.toml", words)


def test_a_pyproject_that_is_a_folder_is_no_config(run_main, tmp_path):
    (tmp_path / "pyproject.toml").mkdir()
    code, _out, err = run_main("check", "--emulator", "healthy", "--only", "model", cwd=tmp_path)
    assert code == 0 and "Traceback" not in err, err


# ------------------------------------------------------------------------------ 10. the emulator's guard


def _read_answer(sock: socket.socket) -> tuple[int, dict]:
    """One HTTP/1.1 answer with a Content-Length, read whole from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, body
        body += chunk
    return int(head.split()[1]), json.loads(body)


def assert_google_error(status: int, body: dict, code: int) -> None:
    assert status == code, body
    error = body["error"]
    assert error["code"] == code and isinstance(error["message"], str) and isinstance(error["status"], str), body
    assert "Traceback" not in error["message"]


GENERATE = "/v1beta/models/gemini-3-pro-image:generateContent"


def test_a_body_declared_over_20_mib_is_refused_unread(emulator):
    server = emulator("healthy")
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        head = f"POST {GENERATE} HTTP/1.1\r\nhost: x\r\nx-goog-api-key: k\r\ncontent-length: {1 << 30}\r\n\r\n{{"
        sock.sendall(head.encode())
        status, body = _read_answer(sock)
    assert_google_error(status, body, 400)
    assert "payload size exceeds the limit: 20971520 bytes" in body["error"]["message"]


def test_a_streamed_body_is_read_only_up_to_the_cap():
    """1 GiB offered in 1 MiB chunks without a length: the emulator stops reading at 20 MiB and answers 400."""
    from gemini_doctor.emulator.app import MAX_BODY_BYTES, create_app
    from gemini_doctor.emulator.scenarios import find_scenario

    app = create_app(find_scenario("healthy"))
    chunk, offered, sent = b" " * (1 << 20), 1024, []

    async def receive() -> dict:
        if len(sent) >= offered:
            return {"type": "http.request", "body": b"", "more_body": False}
        sent.append(len(chunk))
        return {"type": "http.request", "body": chunk, "more_body": True}

    answer: list[dict] = []

    async def send(message: dict) -> None:
        answer.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": GENERATE,
        "raw_path": GENERATE.encode(),
        "query_string": b"",
        "headers": [(b"x-goog-api-key", b"k"), (b"transfer-encoding", b"chunked")],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 1),
        "client": ("127.0.0.1", 2),
        "root_path": "",
    }
    asyncio.run(app(scope, receive, send))
    assert sum(sent) <= MAX_BODY_BYTES + len(chunk) < offered * len(chunk)
    body = b"".join(m.get("body", b"") for m in answer if m["type"] == "http.response.body")
    assert_google_error(answer[0]["status"], json.loads(body), 400)


def _config(config: object) -> bytes:
    return json.dumps({"contents": [{"parts": [{"text": "x"}]}], "generationConfig": config}).encode()


HOSTILE_BODIES = {
    "deep-array": b"[" * 100_000,
    "deep-object": b'{"a":' * 100_000,
    "modalities-number": _config({"responseModalities": 5}),
    "modalities-object": _config({"responseModalities": {"a": 1}}),
    "image-config-number": _config({"imageConfig": 5}),
    "config-list": _config([1]),
    "contents-number": b'{"contents": 5}',
    "long-integer": b'{"contents": ' + b"1" * 5000 + b"}",
    "not-utf8": b'{"contents": "\xff\xfe"}',
    "array": b"[1, 2]",
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_hostile_bodies_get_googles_400_not_a_500(emulator, body):
    server = emulator("healthy")
    with httpx.Client(base_url=server.url, headers={"x-goog-api-key": "k"}, timeout=30, trust_env=False) as client:
        answer = client.post(GENERATE, content=body)
    assert_google_error(answer.status_code, answer.json(), 400)


def test_an_emulator_bug_is_googles_500_without_a_traceback(emulator, monkeypatch):
    from gemini_doctor.emulator.app import Emulator

    def broken(self, query):
        raise RuntimeError("an internal detail that must not be served")

    monkeypatch.setattr(Emulator, "list_models", broken)
    server = emulator("healthy")
    with httpx.Client(base_url=server.url, headers={"x-goog-api-key": "k"}, timeout=30, trust_env=False) as client:
        answer = client.get("/v1beta/models")
    assert_google_error(answer.status_code, answer.json(), 500)
    assert answer.json()["error"]["status"] == "INTERNAL" and "internal detail" not in answer.text


def _start_emulate(log: list[str]) -> tuple[subprocess.Popen, str, threading.Thread]:
    """`gemini-doctor emulate --port 0`, its URL from the banner; stderr is gathered into `log` as it comes."""
    process = subprocess.Popen(
        [*doctor_command(), "emulate", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    gather = threading.Thread(target=lambda: log.extend(process.stderr), daemon=True)
    gather.start()
    while True:
        line = lines.get(timeout=30)
        if found := re.search(r"listening on (http://\S+)", line):
            return process, found.group(1), gather


def _connect(url: str) -> socket.socket:
    """Connect, waiting out the moment between the banner and the socket listening (another issue's fix)."""
    parsed = httpx.URL(url)
    for _ in range(200):
        try:
            return socket.create_connection((parsed.host, parsed.port), timeout=30)
        except ConnectionRefusedError:
            time.sleep(0.05)
    return socket.create_connection((parsed.host, parsed.port), timeout=30)


def test_client_disconnects_leave_no_traceback_in_the_emulators_log():
    log: list[str] = []
    process, url, gather = _start_emulate(log)
    half = f"POST {GENERATE} HTTP/1.1\r\nhost: x\r\nx-goog-api-key: k\r\ncontent-length: 1000\r\n\r\n{{".encode()
    try:
        for reset in (False, False, True):  # a client that promises 1000 bytes, sends one and goes away
            with _connect(url) as sock:
                if reset:  # with a reset rather than a close
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.sendall(half)
                time.sleep(0.2)  # not a measurement: lets the server start reading before the client leaves
        with httpx.Client(base_url=url, headers={"x-goog-api-key": "k"}, timeout=30, trust_env=False) as client:
            assert client.get("/v1beta/models").status_code == 200  # still serving
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        gather.join(timeout=30)
    err = "".join(log)
    assert "Traceback" not in err and "Exception in ASGI" not in err, err


def test_the_recorder_is_bounded_and_its_counts_stay_exact():
    from gemini_doctor.emulator.app import COUNTED_PATHS, RECENT_REQUESTS, Recorded, Recorder

    recorder = Recorder()
    total = RECENT_REQUESTS * 3 + 7
    for index in range(total):
        path = GENERATE if index % 3 == 0 else "/v1beta/models"
        recorder.add(Recorded("POST", path + "x" * 5000, "q" * 5000, True, False))
    assert len(recorder.requests) == RECENT_REQUESTS and recorder.count() == total
    assert recorder.count(":generateContent") == len(range(0, total, 3))
    assert all(len(r.path) <= 1024 and len(r.query) <= 1024 for r in recorder.requests)
    for index in range(COUNTED_PATHS + 10):  # a fuzzer's distinct paths: the total stays exact, memory bounded
        recorder.add(Recorded("GET", f"/random/{index}", "", False, False))
    assert recorder.count() == total + COUNTED_PATHS + 10 and len(recorder.per_path) == COUNTED_PATHS


# ------------------------------------------------------------------- random bodies at generateContent

LEAF = (
    st.none()
    | st.booleans()
    | st.integers(-3, 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["IMAGE", "TEXT", "image", "AUDIO", "1K", "2k", "4K", "512", "16:9", "1:1", "21:9", "9:16"])
)
KEYS = st.sampled_from(["contents", "parts", "text", "generationConfig", "imageConfig", "role", "aspectRatio"])
ANY = st.recursive(
    LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS | st.text(max_size=8), inner, max_size=4)
)
MODALITY = st.sampled_from(["IMAGE", "TEXT", "image", "AUDIO", "VIDEO"])
MODALITIES = st.one_of(st.lists(MODALITY | ANY, max_size=3), st.lists(MODALITY, max_size=3), LEAF, ANY)
IMAGE_CONFIG = st.one_of(
    st.dictionaries(
        st.sampled_from(["aspectRatio", "imageSize", "aspect_ratio", "image_size", "numberOfImages"]),
        LEAF | ANY,
        max_size=3,
    ),
    LEAF,
    ANY,
)
SHAPED_CONFIG = st.fixed_dictionaries(
    {},
    optional={
        "responseModalities": MODALITIES,
        "imageConfig": IMAGE_CONFIG,
        "candidateCount": LEAF | ANY,
        "temperature": ANY,
        "response_modalities": MODALITIES,
    },
)
CONTENTS = st.just([{"parts": [{"text": "a banana"}]}])
STRUCTURED = st.fixed_dictionaries(
    {"contents": st.one_of(CONTENTS, CONTENTS, ANY)},
    optional={"generationConfig": st.one_of(SHAPED_CONFIG, SHAPED_CONFIG, ANY), "safetySettings": ANY},
)
# Mostly shaped like a request, so the checks deep inside generateContent are reached, with wrong types there.
BODIES = st.one_of(STRUCTURED, STRUCTURED, STRUCTURED, ANY)


def assert_google_shaped(answer: httpx.Response) -> None:
    body = answer.json()
    assert answer.status_code != 500, body
    if answer.status_code == 200:
        assert isinstance(body.get("candidates"), list), body
    else:
        assert_google_error(answer.status_code, body, answer.status_code)


def test_random_json_bodies_always_get_a_response_or_googles_error_shape():
    from gemini_doctor.emulator.scenarios import find_scenario
    from gemini_doctor.emulator.server import EmulatorServer

    with (
        EmulatorServer(find_scenario("healthy")) as server,
        httpx.Client(base_url=server.url, headers={"x-goog-api-key": "k"}, timeout=60, trust_env=False) as client,
    ):

        @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(body=BODIES, model=st.sampled_from(["gemini-3-pro-image", "gemini-2.5-flash-image", "no-such-model"]))
        def post(body: object, model: str) -> None:
            assert_google_shaped(client.post(f"/v1beta/models/{model}:generateContent", json=body))

        post()
