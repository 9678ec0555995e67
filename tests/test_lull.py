"""Start-up work that no request waits for is done in the lull, once the first Gemini requests are written.

The lull itself (probes.limits.Lull), Google Cloud's work waiting for it, what is prepared in it, and what the run
leaves for the collector at its end.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import subprocess
import sys
import time
from typing import Any

import pytest

from gemini_doctor.diagnosis.evidence import read_http_answer
from gemini_doctor.diagnosis.signatures import match_all
from gemini_doctor.probes.limits import Lull
from gemini_doctor.report import FORMATS, RENDERERS


def test_the_lull_comes_when_every_request_being_written_is_written():
    async def scenario() -> list[bool]:
        lull = Lull()
        first, second = lull.writing(), lull.writing()
        seen = [lull._event.is_set()]
        first()
        first()  # a second call of the same request's callback counts nothing
        seen.append(lull._event.is_set())
        second()
        seen.append(lull._event.is_set())
        return seen

    assert asyncio.run(scenario()) == [False, False, True]


def test_waiting_for_a_lull_that_never_comes_ends_at_its_cap(monkeypatch):
    monkeypatch.setattr(Lull, "CAP_SECONDS", 0.05)

    async def scenario() -> tuple[bool, int]:
        lull = Lull()
        lull.writing()  # written never: a request stuck in its DNS lookup
        await asyncio.wait_for(lull.wait(), 30)  # returns (its cap), though the lull never came
        return lull._event.is_set(), lull._writing

    assert asyncio.run(scenario()) == (False, 1)


def test_a_lull_reached_by_hand_is_not_waited_for(monkeypatch):
    """A request is being written (so the lull would be waited for, up to a 30 s cap), but the lull is reached
    by hand: the wait ends at once."""
    monkeypatch.setattr(Lull, "CAP_SECONDS", 30.0)

    async def scenario() -> bool:
        lull = Lull()
        lull.writing()
        lull.reached()
        await asyncio.wait_for(lull.wait(), 5)
        return True

    assert asyncio.run(scenario())


def test_google_cloud_requests_go_out_after_the_first_gemini_requests(run_main, emulator, monkeypatch):
    """Each Gemini request is made to take 0.3 s before it is written (a slow DNS answer, a TLS handshake). In this
    process Google's libraries are already imported: without the lull, the credential search and the GCP reads
    would go out during those 0.3 s; with it they wait until the Gemini requests are written."""
    from gemini_doctor.probes.gcp import AUTH_MODULES, CLIENT_MODULES
    from gemini_doctor.probes.gemini import GeminiProbe

    for name in {*AUTH_MODULES, *(n for names in CLIENT_MODULES.values() for n in names)}:
        importlib.import_module(name)  # as a process that has run a check before has them
    send = GeminiProbe._send

    def slow_send(self: GeminiProbe, *args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)  # in the request's own thread
        return send(self, *args, **kwargs)

    monkeypatch.setattr(GeminiProbe, "_send", slow_send)
    monkeypatch.setattr(Lull, "CAP_SECONDS", 10.0)  # a loaded machine's slow write is still waited for
    server = emulator("healthy")
    args = ["--base-url", server.url, "--gcp-endpoint", server.url, "--project", "p", "--api-key", "k"]
    code, out, err = run_main("check", *args, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["requests_sent"] == {"gemini": 2, "gcp": 3}
    arrivals = [(entry.at, entry.path.startswith("/v1/projects")) for entry in server.recorder.requests]
    gemini = [at for at, is_gcp in arrivals if not is_gcp]
    gcp = [at for at, is_gcp in arrivals if is_gcp]
    assert len(gemini) == 2 and len(gcp) == 3
    assert max(gemini) < min(gcp), arrivals


def test_without_a_key_google_cloud_does_not_wait_for_a_lull(run_main, emulator, monkeypatch):
    """No Gemini request will be written: the lull is reached at once, not waited for until its cap."""
    monkeypatch.setattr(Lull, "CAP_SECONDS", 30.0)
    server = emulator("healthy")
    args = ["--base-url", server.url, "--gcp-endpoint", server.url, "--project", "p", "--timeout", "10"]
    code, out, err = run_main("check", *args, "--format", "json", env={"GEMINI_API_KEY": "", "GOOGLE_API_KEY": ""})
    assert code in (0, 1), err
    # A lull waited for would outlast the 10 s --timeout: the GCP reads would never be sent.
    assert json.loads(out)["requests_sent"] == {"gemini": 0, "gcp": 3}, err


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_has_its_renderers_prepared(fmt):
    """After `prepare(fmt)`, rendering a report in that format imports no module of the report package that
    `prepare` did not: RENDERERS holds what `render` really imports (a fresh interpreter, so nothing is there yet)."""
    assert fmt in RENDERERS
    code = (
        "import sys\n"
        "from gemini_doctor.explain import catalog_document\n"
        "from gemini_doctor.report import prepare, render\n"
        "document = catalog_document()\n"
        f"prepare({fmt!r})\n"
        "before = set(sys.modules)\n"
        f"render(document, {fmt!r}, color=True, width=100)\n"
        "print(sorted(m for m in set(sys.modules) - before if m.startswith('gemini_doctor.report')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    for name in RENDERERS[fmt]:
        assert importlib.import_module(name).__name__ == name


def test_an_images_base64_data_is_left_out_of_what_signatures_search():
    data = "iVBORw0KGgo" + "A" * 5000
    body = json.dumps(
        {
            "candidates": [
                {
                    "content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": data}}]},
                    "finishReason": "IMAGE_SAFETY",
                }
            ]
        }
    )
    evidence = read_http_answer(200, body, "http://127.0.0.1/v1beta/models/m:generateContent")
    assert data not in evidence.haystack and "A" * 256 not in evidence.haystack
    assert "IMAGE_SAFETY" in evidence.haystack
    assert evidence.raw.count("A" * 5000) == 1  # what the readers see is unchanged
    assert "safety-blocked" in {m.signature.slug for m in match_all(evidence)}  # the finish reason is still read


def test_the_run_leaves_the_collector_on(run_main, emulator):
    server = emulator("healthy")
    code, _out, err = run_main("check", "--base-url", server.url, "--api-key", "k", "--format", "json")
    assert code == 0, err
    assert gc.isenabled()  # paused for start-up, on again whichever way the run ended


def test_a_lull_no_request_begins_is_not_waited_for(monkeypatch):
    """A check that returns without sending its request (an OpenAI-compatible base URL) begins none."""
    monkeypatch.setattr(Lull, "CAP_SECONDS", 30.0)

    async def scenario() -> bool:
        await asyncio.wait_for(Lull().wait(), 5)
        return True

    assert asyncio.run(scenario())


def test_an_openai_compatible_base_url_does_not_hold_google_cloud_back(run_main, emulator, monkeypatch):
    """The endpoint check names the OpenAI-compatible route without sending a Gemini request: Google Cloud's reads
    must not wait for a lull that never comes. Each wait is seen to end with no request begun (at the loop's first
    turns, not at the 30 s cap)."""
    monkeypatch.setattr(Lull, "CAP_SECONDS", 30.0)
    seen: list[tuple[bool, bool]] = []
    wait = Lull.wait

    async def spied(self: Lull) -> None:
        await wait(self)
        seen.append((self._begun, self._event.is_set()))

    monkeypatch.setattr(Lull, "wait", spied)
    server = emulator("healthy")
    args = ["--base-url", f"{server.url}/v1beta/openai", "--gcp-endpoint", server.url, "--project", "p"]
    _code, out, err = run_main("check", *args, "--api-key", "k", "--timeout", "10", "--format", "json")
    document = json.loads(out)
    assert document["requests_sent"] == {"gemini": 0, "gcp": 3}, err
    checks = {c["id"]: c for c in document["checks"]}
    assert checks["billing"]["status"] == "pass" and checks["quota"]["status"] == "pass", checks
    assert seen and all(not begun for begun, _ in seen), seen


def test_a_host_process_keeps_the_objects_it_froze(run_main, emulator):
    """A process that runs check in-process after freezing its own objects (gunicorn's pre-fork pattern) keeps them
    frozen: the end of the run ages the run's objects only when nothing else is frozen."""
    server = emulator("healthy")
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        code, _out, err = run_main("check", "--base-url", server.url, "--api-key", "k", "--format", "json")
        assert code == 0, err
        assert gc.get_freeze_count() > frozen // 2 > 0  # not thawed (a few frozen objects may have been freed)
    finally:
        gc.unfreeze()
