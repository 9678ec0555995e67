"""Start-up stays light: commands that need no network import no google-cloud, google-genai, grpc or httpx."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import FIXTURES

HEAVY = ("google.cloud", "google.genai", "google.api_core", "grpc", "httpx", "starlette", "uvicorn", "PIL")

PROBE = f"""
import json, sys
sys.argv = ["gemini-doctor", *json.loads(sys.argv[1])]
from gemini_doctor.cli import main
try:
    main()
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {{h.split(".")[0] for h in {HEAVY!r}}}
               and any(m == h or m.startswith(h + ".") for h in {HEAVY!r}))
sys.stderr.write("HEAVY=" + json.dumps(heavy) + "\\n")
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["errors"],
        ["errors", "--format", "json"],
        ["explain", "GD003"],
        ["explain", str(FIXTURES / "explain" / "billing-limit-zero.json")],
        ["explain", str(FIXTURES / "explain" / "billing-limit-zero.json"), "--format", "markdown"],
    ],
    ids=lambda a: " ".join(a)[:40],
)
def test_no_heavy_module_is_imported(args):
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, timeout=60)
    line = next(x for x in result.stderr.splitlines() if x.startswith("HEAVY="))
    assert json.loads(line[len("HEAVY=") :]) == [], result.stderr
