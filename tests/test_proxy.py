"""`gemini-doctor proxy` (issue 12): real clients through the real proxy to the emulator, all on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import httpx
import pytest
from conftest import doctor_command

from gemini_doctor.proxy.exchange import shrink_images, summarise_request
from gemini_doctor.proxy.session import ProxyServer, Session
from gemini_doctor.proxy.watch import Expectation, Watcher

KEY = "AIza" + "Pr0xyTestKey" + "x" * 23  # shaped like a real key, built at run time: it must never be written


@pytest.fixture
def proxied(emulator):
    """An emulator scenario with the proxy in front of it: (proxy url, session, watcher)."""
    started = []

    def start(slug: str = "healthy", expect: list[str] | None = None):
        upstream = emulator(slug)
        watcher = Watcher(Expectation.parse(expect or []), upstream=upstream.url)
        session = Session(upstream.url)
        server = ProxyServer(upstream.url, watcher, session).start()
        started.append(server)
        return server.url, session, watcher

    yield start
    for server in started:
        server.stop()


def genai_client(url: str):
    from google import genai
    from google.genai import types

    return genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=url, api_version="v1beta")), types


def wait_for(session: Session, count: int) -> None:
    deadline = time.monotonic() + 30
    while session.total < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert session.total >= count, f"the proxy recorded {session.total} exchanges, expected {count}"


def test_google_genai_through_the_proxy_to_healthy_has_no_finding(proxied):
    url, session, watcher = proxied("healthy", expect=["aspect-ratio=16:9"])
    client, types = genai_client(url)
    config = types.GenerateContentConfig(
        response_modalities=["IMAGE"], image_config=types.ImageConfig(aspect_ratio="16:9")
    )
    answer = client.models.generate_content(model="gemini-3.1-flash-image", contents="a cat", config=config)
    assert any(part.inline_data for part in answer.candidates[0].content.parts)
    wait_for(session, 1)
    document = session.document(watcher)
    assert document["diagnosis"] == [] and document["exit_code"] == 0
    exchange = document["exchanges"][0]
    assert exchange["status"] == 200 and exchange["images"][0].endswith("1376x768")
    assert "base64" not in json.dumps(exchange["request"]) or "characters" in json.dumps(exchange["request"])


def test_a_missing_image_config_is_proven_from_the_wire(proxied):
    url, session, watcher = proxied("healthy", expect=["aspect-ratio=16:9", "image-size=2K"])
    client, types = genai_client(url)
    config = types.GenerateContentConfig(response_modalities=["IMAGE"])  # the app forgot imageConfig
    client.models.generate_content(model="gemini-3.1-flash-image", contents="a cat", config=config)
    wait_for(session, 1)
    found = session.document(watcher)["diagnosis"]
    assert found[0]["slug"] == "image-config-stripped" and found[0]["confidence"] == "certain"
    assert any("no generationConfig.imageConfig.aspectRatio; expected 16:9" in line for line in found[0]["evidence"])


def test_ghost_429_is_not_the_per_minute_quota_by_the_window_count(proxied):
    url, session, _watcher = proxied("ghost-429")
    client, _ = genai_client(url)
    with pytest.raises(Exception, match="429"):
        client.models.generate_content(model="gemini-3.1-flash-image", contents="a cat")
    wait_for(session, 1)
    exchange = session.recent[-1]
    slugs = [d["slug"] for d in exchange.diagnosis]
    assert "ipm-exceeded" not in slugs
    assert any("not a per-minute limit" in line for d in exchange.diagnosis for line in d["evidence"])


def test_a_429_after_several_images_in_the_window_is_the_per_minute_quota():
    watcher = Watcher(upstream="http://127.0.0.1:1")
    from gemini_doctor.proxy.exchange import Exchange

    now = time.monotonic()
    watcher.images["gemini-3.1-flash-image"] = __import__("collections").deque([now - 30, now - 20, now - 10])
    exchange = Exchange(1, now, "POST", "/v1beta/models/gemini-3.1-flash-image:generateContent",
                        "gemini-3.1-flash-image", None, "d")  # fmt: skip
    exchange.status = 429
    body = json.dumps(
        {
            "error": {
                "code": 429,
                "message": "Resource has been exhausted (e.g. check quota).",
                "status": "RESOURCE_EXHAUSTED",
            }
        }
    )
    found = watcher.finished(exchange, body, "http://127.0.0.1:1/x")
    assert found[0].error.slug == "ipm-exceeded" and "3 images" in found[0].evidence[0]


def test_retries_the_app_sends_are_counted(proxied):
    url, session, watcher = proxied("ipm-exceeded")
    body = {"contents": [{"parts": [{"text": "a cat"}]}]}
    path = "/v1beta/models/gemini-3.1-flash-image:generateContent"
    with httpx.Client(base_url=url, headers={"x-goog-api-key": KEY}) as client:
        for _ in range(3):
            assert client.post(path, json=body).status_code == 429
    wait_for(session, 3)
    assert watcher.retries == 2 and [e.retry_of for e in session.recent] == [None, 1, 2]
    assert "resent 2 request(s)" in session.document(watcher)["input"]["notes"][0]


def test_streamed_answers_stay_streamed_and_bytes_unchanged(proxied, emulator):
    url, _session, _ = proxied("healthy")
    path = "/v1beta/models"
    with httpx.Client(headers={"x-goog-api-key": KEY}) as client:
        direct = client.get(emulator("healthy").url + path)
        through = client.get(url + path)
    assert through.status_code == direct.status_code == 200
    assert through.content == direct.content


def test_images_are_shrunk_before_reading_and_requests_keep_no_pixels():
    data = "iVBORw0KGgo" + "A" * 500_000
    shrunk = shrink_images(json.dumps({"inlineData": {"mimeType": "image/png", "data": data}}))
    assert len(shrunk) < 100_000 and shrunk.endswith('"}}')
    summary = summarise_request(json.dumps({"contents": [{"parts": [{"inlineData": {"data": data}}]}]}).encode())
    assert "characters" in summary["contents"][0]["parts"][0]["inlineData"]["data"]


def test_the_cli_proxy_reports_at_ctrl_c_and_never_writes_the_key(emulator, tmp_path):
    upstream = emulator("billing-limit-zero")
    log = tmp_path / "proxy.jsonl"
    command = [*doctor_command(), "proxy", "--upstream", upstream.url, "--port", "0", "--log", str(log), "-f", "json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stderr.readline()
        assert banner.startswith("gemini-doctor proxy"), banner
        proxy_url = banner.split("forwarding ")[1].split(" ")[0]
        for _ in range(5):
            line = process.stderr.readline()
            if line.startswith("  Ctrl-C"):
                break
        reply = httpx.post(
            f"{proxy_url}/v1beta/models/gemini-3.1-flash-image:generateContent?key={KEY}",
            headers={"x-goog-api-key": KEY, "Authorization": f"Bearer {KEY}"},
            json={"contents": [{"parts": [{"text": f"my key is {KEY}"}]}]},
            timeout=30,
        )
        assert reply.status_code == 429
        view = process.stderr.readline()
        assert "429" in view and "billing-limit-zero" in view
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    document = json.loads(out)
    assert document["diagnosis"][0]["slug"] == "billing-limit-zero" and process.returncode == 1
    for text in (out, err, view, log.read_text()):
        assert KEY not in text and KEY[4:20] not in text


LITELLM = textwrap.dedent(
    """
    import json, sys, litellm
    base, key = sys.argv[1], sys.argv[2]
    answer = litellm.completion(
        model="gemini/gemini-2.5-flash-image", messages=[{"role": "user", "content": "a cat"}],
        aspect_ratio="16:9", api_base=base + "/v1beta", api_key=key, modalities=["image", "text"],
    )
    print(json.dumps({"finish": answer.choices[0].finish_reason}))
    """
)


def test_real_litellm_dropping_aspect_ratio_is_named_image_config_stripped(proxied, tmp_path):
    url, session, watcher = proxied("healthy", expect=["aspect-ratio=16:9"])
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}
    done = subprocess.run(
        [sys.executable, "-c", LITELLM, url, KEY], capture_output=True, text=True, timeout=170, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    wait_for(session, 1)
    found = session.document(watcher)["diagnosis"]
    assert found and found[0]["slug"] == "image-config-stripped"
    assert any("no generationConfig.imageConfig.aspectRatio" in line for line in found[0]["evidence"])
    assert session.recent[-1].images[0].endswith("1024x1024")  # what came back: the default square


def test_per_minute_quota_and_ghost_429_are_told_apart_through_the_proxy():
    """The emulator's per-minute scenario as a real quota: the first 3 images of a rolling minute work, then 429.
    Through the proxy, that 429 is the per-minute quota; ghost-429's 429 from the first image is not."""
    from gemini_doctor.emulator.scenarios import find_scenario
    from gemini_doctor.emulator.server import EmulatorServer

    body = {"contents": [{"parts": [{"text": "a cat"}]}], "generationConfig": {"responseModalities": ["IMAGE"]}}
    path = "/v1beta/models/gemini-3.1-flash-image:generateContent"
    verdicts = {}
    for slug, per_minute in (("ipm-exceeded", 3), ("ghost-429", None)):
        with EmulatorServer(find_scenario(slug), per_minute=per_minute) as upstream:
            watcher, session = Watcher(upstream=upstream.url), Session(upstream.url)
            with (
                ProxyServer(upstream.url, watcher, session) as proxy,
                httpx.Client(base_url=proxy.url, headers={"x-goog-api-key": KEY}, timeout=30) as client,
            ):
                statuses = [client.post(path, json=body).status_code for _ in range(4)]
                wait_for(session, 4)
        last = session.recent[-1]
        verdicts[slug] = (statuses, last.images_in_window, [d["slug"] for d in last.diagnosis])
    assert verdicts["ipm-exceeded"][0] == [200, 200, 200, 429]
    assert verdicts["ipm-exceeded"][1] == 3 and verdicts["ipm-exceeded"][2][0] == "ipm-exceeded"
    assert verdicts["ghost-429"][0] == [429] * 4
    assert verdicts["ghost-429"][1] == 0 and "ipm-exceeded" not in verdicts["ghost-429"][2]


def test_a_plain_answer_is_recorded_short_and_an_error_in_full(proxied):
    """countTokens answered 2xx asks for no image: recorded with its status and timings, its body unread; the same
    call refused is diagnosed in full (its request summarised, its error quoted) and its resending counted."""
    url, session, watcher = proxied("healthy")
    path = "/v1beta/models/gemini-3.1-flash-image:countTokens"
    body = {"contents": [{"parts": [{"text": "a cat"}]}]}
    ok = httpx.post(f"{url}{path}", json=body, headers={"x-goog-api-key": KEY}, timeout=20)
    refused = [httpx.post(f"{url}{path}", json=body, timeout=20) for _ in range(2)]
    assert ok.status_code == 200 and [r.status_code for r in refused] == [403, 403]
    wait_for(session, 3)
    plain, error, again = list(session.recent)
    assert plain.status == 200 and plain.total_ms is not None and plain.model == "gemini-3.1-flash-image"
    assert plain.request is None and plain.diagnosis == [] and plain.error_text is None
    assert error.request == body and error.error_text and error.diagnosis
    assert again.retry_of == error.number and watcher.retries == 1


def test_only_calls_that_never_answer_an_image_take_the_short_way():
    from gemini_doctor.proxy.record import answers_no_image

    assert answers_no_image("POST", "/v1beta/models/m%3AcountTokens?key=x")
    assert answers_no_image("GET", "/v1beta/models/m") and answers_no_image("GET", "/v1beta/openai/models")
    for method, target in [("POST", "/v1beta/models/m:generateContent"), ("POST", "/v1/models/m:predict"),
                           ("GET", "/v1beta/batches/b1"), ("POST", "/v1beta/openai/images/generations")]:  # fmt: skip
        assert not answers_no_image(method, target), target
