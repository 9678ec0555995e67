"""The emulator against Node's official SDK, @google/genai, in its default configuration (issue 11, Deliver 1 and 6).

tests/node/client.mjs drives the SDK from a JSON instruction and prints, per call, what the client saw; these tests
start emulators in-process on free loopback ports and pin, per scenario, the client-visible result: error class,
HTTP status, google.rpc status, detail types and ErrorInfo reason; finish reason, image format and pixel size.
The app's side is only what the README and the banner give it: a base URL and a key (GOOGLE_GEMINI_BASE_URL and
GEMINI_API_KEY, or the same two as constructor options). No apiVersion, so the SDK's default (v1) is what is tested.

The expectations are literal and follow Google's API, not the emulator's data: a scenario whose data drifts fails
here. Node and the pinned SDK must be installed (`npm ci --prefix tests/node`, which .ci/run does): without them
these tests fail, saying so. Every request goes to 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, NamedTuple

import pytest

from gemini_doctor.emulator.scenarios import find_scenario, scenarios
from gemini_doctor.emulator.server import EmulatorServer
from gemini_doctor.images import sniff
from tests.conftest import ROOT

NODE_DIR = ROOT / "tests" / "node"
CLIENT = NODE_DIR / "client.mjs"
INSTALL = "npm ci --prefix tests/node --no-audit --no-fund"
NODE_BOUND_S = 120  # one Node process making its calls on a loaded 2-core machine: a hang fails it, not slowness
KEY = "-".join(("fake", "node", "key", str(os.getpid())))  # obviously fake, built at run time

SDK_PACKAGE = "@google/genai"
DEFAULT_MODEL = "gemini-3-pro-image"
RPC = "type.googleapis.com/google.rpc."


# ---------------------------------------------------------------------------------------------- running Node
def pinned_version() -> str:
    return json.loads((NODE_DIR / "package.json").read_text(encoding="utf-8"))["dependencies"][SDK_PACKAGE]


def node_binary() -> str:
    """`node`, with the pinned SDK installed beside client.mjs; else the test fails saying how to install them."""
    how = (
        f"install Node.js 18 or newer with npm (Debian: `apt-get install -y nodejs npm`), then run `{INSTALL}` "
        "from the repository's top (.ci/run does both)"
    )
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"Node.js is not on PATH: {how}", pytrace=False)
    installed = NODE_DIR / "node_modules" / "@google" / "genai" / "package.json"
    if not installed.is_file():
        pytest.fail(f"{SDK_PACKAGE} is not installed in tests/node/node_modules: {how}", pytrace=False)
    version = json.loads(installed.read_text(encoding="utf-8"))["version"]
    if version != pinned_version():
        pytest.fail(
            f"tests/node/node_modules holds {SDK_PACKAGE} {version}, tests/node/package.json pins "
            f"{pinned_version()}: run `{INSTALL}`",
            pytrace=False,
        )
    return node


def run_node(calls: list[dict[str, Any]], env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Run client.mjs once for all `calls`; one dict per call, in order."""
    node = node_binary()
    result = subprocess.run(
        [node, str(CLIENT)],
        input=json.dumps({"calls": calls}),
        capture_output=True,
        text=True,
        timeout=NODE_BOUND_S,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, f"client.mjs exited {result.returncode}: {result.stderr}"
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == len(calls), f"{len(calls)} calls, {len(lines)} answers: {result.stdout!r} {result.stderr}"
    return lines


def summary(line: dict[str, Any]) -> str:
    """A failed call in one line: class, HTTP status and Google's status and message."""
    error = (line.get("body") or {}).get("error") or {}
    return f"{line['error_class']} {line['status']} {error.get('status')}: {error.get('message') or line['message']}"


def image_calls(**call: Any) -> dict[str, Any]:
    return {"model": DEFAULT_MODEL, "modalities": ["IMAGE"], **call}


def decoded(line: dict[str, Any]) -> list[tuple[str, tuple[int, int] | None, str | None]]:
    """Each image part the client saw: (real format, pixel size, mimeType), the bytes decoded here."""
    assert line["ok"], f"the call failed: {summary(line)}"
    found = []
    for image in line["images"]:
        data = base64.b64decode(image["data"])
        assert image["b64_length"] == len(image["data"])
        info = sniff(data)
        found.append((info.format, info.size, image["mime_type"]))
    return found


def error_of(line: dict[str, Any]) -> dict[str, Any]:
    """The google.rpc.Status the SDK's ApiError carries (its message is the JSON body)."""
    assert not line["ok"], f"expected an error, the call succeeded: finish {line['finish_reason']}"
    assert line["body"] is not None, f"the error's message is not Google's JSON body: {line['message']!r}"
    return line["body"]["error"]


@contextmanager
def emulators(slugs: list[str]) -> Iterator[dict[str, EmulatorServer]]:
    """One emulator per scenario, each on its own free loopback port."""
    started: dict[str, EmulatorServer] = {}
    try:
        for slug in slugs:
            scenario = find_scenario(slug)
            assert scenario is not None, f"no scenario {slug!r}"
            started[slug] = EmulatorServer(scenario).start()
        yield started
    finally:
        for server in started.values():
            server.stop()


# ============================================================================ 1. healthy, default configuration
# (model, imageSize, aspectRatio) -> (format, pixels): the sizes Google documents for each model.
HEALTHY_IMAGES = {
    "3-pro-2K-16:9": ((DEFAULT_MODEL, "2K", "16:9"), ("jpeg", (2752, 1536))),
    "2.5-flash-16:9": (("gemini-2.5-flash-image", None, "16:9"), ("png", (1344, 768))),
}
STREAM_IMAGE = ((DEFAULT_MODEL, "1K", "3:2"), ("jpeg", (1264, 848)))
MIME = {"jpeg": "image/jpeg", "png": "image/png"}


@pytest.fixture(scope="module")
def healthy_results() -> Iterator[dict[str, dict[str, Any]]]:
    with emulators(["healthy"]) as servers:
        url = servers["healthy"].url
        calls: dict[str, dict[str, Any]] = {}
        for name, ((model, size, ratio), _) in HEALTHY_IMAGES.items():
            calls[name] = image_calls(kind="generate", model=model, image_size=size, aspect_ratio=ratio)
        (model, size, ratio), _ = STREAM_IMAGE
        calls["stream"] = image_calls(kind="stream", model=model, image_size=size, aspect_ratio=ratio)
        calls["count_tokens"] = {"kind": "count_tokens", "model": DEFAULT_MODEL}
        calls["list_models"] = {"kind": "list_models"}
        calls["list_paged"] = {"kind": "list_models", "page_size": 2}
        calls["get_model"] = {"kind": "get_model", "model": DEFAULT_MODEL}
        calls["options"] = image_calls(kind="generate", base_url=url, api_key=KEY)
        lines = run_node(list(calls.values()), env={"GOOGLE_GEMINI_BASE_URL": url, "GEMINI_API_KEY": KEY})
        yield dict(zip(calls, lines, strict=True))


@pytest.mark.parametrize("name", list(HEALTHY_IMAGES))
def test_healthy_generate_content_returns_an_image_of_the_asked_size(healthy_results, name):
    _, (fmt, pixels) = HEALTHY_IMAGES[name]
    line = healthy_results[name]
    assert decoded(line) == [(fmt, pixels, MIME[fmt])]
    assert line["finish_reason"] == "STOP"


def test_healthy_with_constructor_options_and_no_image_config_returns_1k_square(healthy_results):
    line = healthy_results["options"]
    assert decoded(line) == [("jpeg", (1024, 1024), "image/jpeg")]
    assert line["finish_reason"] == "STOP"


def test_healthy_generate_content_stream(healthy_results):
    _, (fmt, pixels) = STREAM_IMAGE
    line = healthy_results["stream"]
    assert decoded(line) == [(fmt, pixels, MIME[fmt])]
    assert line["chunks"] >= 1
    assert line["finish_reason"] == "STOP"


def test_healthy_count_tokens(healthy_results):
    line = healthy_results["count_tokens"]
    assert line["ok"], summary(line)
    assert isinstance(line["total_tokens"], int)
    assert line["total_tokens"] > 0


def test_healthy_models_list_and_get(healthy_results):
    listed = healthy_results["list_models"]
    assert listed["ok"], summary(listed)
    assert not listed.get("unfinished"), "the pager never ended"
    assert f"models/{DEFAULT_MODEL}" in listed["models"]
    assert "models/gemini-2.5-flash-image" in listed["models"]
    assert len(listed["models"]) == len(set(listed["models"])), "a model listed twice across pages"
    paged = healthy_results["list_paged"]
    assert paged["ok"], summary(paged)
    assert not paged.get("unfinished"), "the pager never ended"
    assert paged["models"] == listed["models"]  # the SDK's pager follows nextPageToken through every page
    assert paged["pages"] > 1
    got = healthy_results["get_model"]
    assert got["ok"], summary(got)
    assert got["name"] == f"models/{DEFAULT_MODEL}"


# ============================================================================ 2. every other scenario, pinned
class Failure(NamedTuple):
    """What the client sees of a failing call: ApiError, its HTTP status, the google.rpc status, detail types."""

    code: int
    status: str
    details: tuple[str, ...] = ()
    reason: str | None = None  # ErrorInfo.reason
    models_list_fails: bool = False  # the error answers every Gemini call, not only generation
    message_has: str = ""


class Success(NamedTuple):
    """What the client sees of a 200: finish reason, and each image part's real format and pixel size."""

    finish_reason: str
    images: tuple[tuple[str, tuple[int, int]], ...] = ()
    has_text: bool = False
    sees_finish_message: bool = False


NO_DETAILS: tuple[str, ...] = ()
QUOTA_DETAILS = ("QuotaFailure", "RetryInfo")
ERROR_CALL = image_calls()  # any generation call fails in these scenarios
# slug -> (call, client-visible result). The calls are those of each scenario's reproducing check.
PINNED: dict[str, tuple[dict[str, Any], Failure | Success]] = {
    "billing-limit-zero": (ERROR_CALL, Failure(429, "RESOURCE_EXHAUSTED", ("Help", *QUOTA_DETAILS))),
    "ipm-exceeded": (ERROR_CALL, Failure(429, "RESOURCE_EXHAUSTED", QUOTA_DETAILS)),
    "ghost-429": (ERROR_CALL, Failure(429, "RESOURCE_EXHAUSTED", QUOTA_DETAILS)),
    "dynamic-shared-quota": (ERROR_CALL, Failure(429, "RESOURCE_EXHAUSTED", NO_DETAILS)),
    "daily-quota-exhausted": (ERROR_CALL, Failure(429, "RESOURCE_EXHAUSTED", ("QuotaFailure",))),
    "prepay-depleted": (ERROR_CALL, Failure(402, "RESOURCE_EXHAUSTED", NO_DETAILS)),
    "billing-not-enabled": (ERROR_CALL, Failure(400, "FAILED_PRECONDITION", NO_DETAILS)),
    "location-unsupported": (ERROR_CALL, Failure(400, "FAILED_PRECONDITION", NO_DETAILS)),
    "api-key-invalid": (
        ERROR_CALL,
        Failure(400, "INVALID_ARGUMENT", ("ErrorInfo", "LocalizedMessage"), "API_KEY_INVALID", True),
    ),
    "service-disabled": (
        ERROR_CALL,
        Failure(403, "PERMISSION_DENIED", ("ErrorInfo", "Help"), "SERVICE_DISABLED", True),
    ),
    "api-key-restricted": (
        ERROR_CALL,
        Failure(403, "PERMISSION_DENIED", ("ErrorInfo",), "API_KEY_SERVICE_BLOCKED", True),
    ),
    "permission-denied": (ERROR_CALL, Failure(403, "PERMISSION_DENIED", ("ErrorInfo",), "CONSUMER_SUSPENDED", True)),
    "model-overloaded": (ERROR_CALL, Failure(503, "UNAVAILABLE", NO_DETAILS)),
    "server-error": (ERROR_CALL, Failure(500, "INTERNAL", NO_DETAILS)),
    "deadline-exceeded": (ERROR_CALL, Failure(504, "DEADLINE_EXCEEDED", NO_DETAILS)),
    # The SDK's default API version is v1: this scenario keeps v1's rejection of image fields.
    "wrong-endpoint": (
        ERROR_CALL,
        Failure(400, "INVALID_ARGUMENT", ("BadRequest",), message_has='Unknown name "responseModalities"'),
    ),
    "wrong-model-name": (
        image_calls(model="gemini-2.5-flash-preview-image"),
        Failure(404, "NOT_FOUND", NO_DETAILS, message_has="is not found for API version v1,"),
    ),
    "model-deprecated": (
        image_calls(model="gemini-3-pro-image-preview"),
        Failure(404, "NOT_FOUND", NO_DETAILS, message_has="is no longer available"),
    ),
    "wrong-response-modalities": (image_calls(modalities=["TEXT"]), Success("STOP", has_text=True)),
    "image-size-case": (image_calls(image_size="2k"), Success("STOP", (("jpeg", (1024, 1024)),))),
    "image-config-stripped": (image_calls(aspect_ratio="16:9"), Success("STOP", (("jpeg", (1024, 1024)),))),
    "missing-text-modality": (image_calls(model="gemini-2.0-flash-exp-image-generation"), Success("STOP")),
    # The emulator sends Google's finishMessage here, but @google/genai 3.3.0's Developer API converter
    # (candidateFromMldev) copies no finishMessage: a Node app sees the reason alone.
    "safety-blocked": (ERROR_CALL, Success("IMAGE_SAFETY", sees_finish_message=False)),
    "no-image-returned": (ERROR_CALL, Success("NO_IMAGE")),
}
KINDS = ("generate", "stream", "list_models")


def test_every_scenario_is_pinned():
    assert sorted(PINNED) == sorted(s.slug for s in scenarios() if s.slug != "healthy" and s.backend == "gemini")


@pytest.fixture(scope="module")
def scenario_results() -> Iterator[dict[str, dict[str, dict[str, Any]]]]:
    """Each scenario's generateContent, generateContentStream and models.list, all in one Node process."""
    with emulators(list(PINNED)) as servers:
        calls, keys = [], []
        for slug, (call, _) in PINNED.items():
            for kind in KINDS:
                calls.append({**call, "kind": kind, "base_url": servers[slug].url, "api_key": KEY})
                keys.append((slug, kind))
        results: dict[str, dict[str, dict[str, Any]]] = {slug: {} for slug in PINNED}
        for (slug, kind), line in zip(keys, run_node(calls), strict=True):
            results[slug][kind] = line
        yield results


def assert_failure(line: dict[str, Any], expected: Failure) -> None:
    assert not line["ok"], f"expected an error, the call succeeded: finish {line['finish_reason']}"
    assert (line["error_class"], line["status"]) == ("ApiError", expected.code), summary(line)
    error = error_of(line)
    assert (error["code"], error["status"]) == (expected.code, expected.status)
    details = error.get("details") or []
    assert tuple(d["@type"].removeprefix(RPC) for d in details) == expected.details
    reasons = [d["reason"] for d in details if d["@type"] == RPC + "ErrorInfo"]
    assert reasons == ([expected.reason] if expected.reason else [])
    assert expected.message_has in error["message"]


def assert_success(line: dict[str, Any], expected: Success) -> None:
    assert [(fmt, size) for fmt, size, _ in decoded(line)] == list(expected.images)
    assert line["finish_reason"] == expected.finish_reason
    assert bool(line["text"]) == expected.has_text, line["text"]
    assert bool(line["finish_message"]) == expected.sees_finish_message


@pytest.mark.parametrize("slug", list(PINNED))
@pytest.mark.parametrize("kind", ["generate", "stream"])
def test_scenario_as_node_sees_it(scenario_results, slug, kind):
    _, expected = PINNED[slug]
    line = scenario_results[slug][kind]
    if isinstance(expected, Failure):
        assert_failure(line, expected)
    else:
        assert_success(line, expected)


@pytest.mark.parametrize("slug", list(PINNED))
def test_scenario_models_list_as_node_sees_it(scenario_results, slug):
    _, expected = PINNED[slug]
    line = scenario_results[slug]["list_models"]
    if isinstance(expected, Failure) and expected.models_list_fails:
        assert_failure(line, expected._replace(message_has=""))
    else:
        assert line["ok"], summary(line)
        assert line["models"]


# ============================================================================ 3. what the SDK sends by default
class Recording(BaseHTTPRequestHandler):
    """Records each request whole and answers a minimal 200 (an SSE event on a stream)."""

    seen: list[dict[str, Any]]
    ANSWER: ClassVar[dict[str, Any]] = {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}]
    }

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        self.seen.append(
            {
                "method": self.command,
                "path": path,
                "query": query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": json.loads(body) if body else None,
            }
        )
        if path.endswith(":streamGenerateContent"):
            payload, kind = f"data: {json.dumps(self.ANSWER)}\r\n\r\n".encode(), "text/event-stream"
        else:
            answer = {**self.ANSWER, "totalTokens": 2, "models": []}
            payload, kind = json.dumps(answer).encode(), "application/json"
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recording_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    handler = type("Handler", (Recording,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_what_the_sdk_sends_by_default(recording_server):
    """The contract the emulator must accept: API version v1, the key in x-goog-api-key only, camelCase fields."""
    url, seen = recording_server
    calls = [
        image_calls(kind="generate", image_size="2K", aspect_ratio="16:9"),
        image_calls(kind="stream"),
        {"kind": "count_tokens", "model": DEFAULT_MODEL},
        {"kind": "list_models"},
    ]
    lines = run_node(calls, env={"GOOGLE_GEMINI_BASE_URL": url, "GEMINI_API_KEY": KEY})
    assert all(line["ok"] for line in lines), lines
    contents = [{"parts": [{"text": "a banana"}], "role": "user"}]
    expected = [
        ("POST", f"/v1/models/{DEFAULT_MODEL}:generateContent", ""),
        ("POST", f"/v1/models/{DEFAULT_MODEL}:streamGenerateContent", "alt=sse"),
        ("POST", f"/v1/models/{DEFAULT_MODEL}:countTokens", ""),
        ("GET", "/v1/models", ""),
    ]
    assert [(r["method"], r["path"], r["query"]) for r in seen] == expected
    assert seen[0]["body"] == {
        "contents": contents,
        "generationConfig": {
            "responseModalities": ["IMAGE"],
            "imageConfig": {"aspectRatio": "16:9", "imageSize": "2K"},
        },
    }
    assert seen[1]["body"] == {"contents": contents, "generationConfig": {"responseModalities": ["IMAGE"]}}
    assert seen[2]["body"] == {"contents": contents}
    assert seen[3]["body"] is None
    for request in seen:
        headers = request["headers"]
        assert headers["x-goog-api-key"] == KEY
        assert "authorization" not in headers
        assert headers["content-type"] == "application/json"
        assert headers["user-agent"].startswith(f"google-genai-sdk/{pinned_version()} gl-node/v")
        assert headers["x-goog-api-client"] == headers["user-agent"]
        assert KEY not in request["path"] + request["query"]


# ============================================================================ 4. a missing Node fails, never skips
def test_missing_node_fails_with_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match=r"Node.js is not on PATH.*npm ci --prefix tests/node"):
        node_binary()


@pytest.mark.parametrize("installed", [None, "0.0.1"])
def test_missing_or_stale_sdk_fails_with_the_install_command(monkeypatch, tmp_path, installed):
    monkeypatch.setattr(shutil, "which", lambda name: f"/found/{name}")  # Node itself is there
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {SDK_PACKAGE: "3.3.0"}}), encoding="utf-8")
    if installed:
        package = tmp_path / "node_modules" / "@google" / "genai"
        package.mkdir(parents=True)
        (package / "package.json").write_text(json.dumps({"version": installed}), encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "NODE_DIR", tmp_path)
    with pytest.raises(pytest.fail.Exception, match=r"npm ci --prefix tests/node"):
        node_binary()
