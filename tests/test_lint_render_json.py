"""The JSON renderer writes the bytes `json.dumps(indent=2)` writes of the scrubbed document, and the scrub's
fast path for inert strings changes nothing `redact` and `neutralise` would have changed."""

from __future__ import annotations

import enum
import json
import random

from gemini_doctor.redact import _inert, neutralise, redact, scrub_obj, scrubber
from gemini_doctor.report import render
from gemini_doctor.report.render_json import dumps

KEY = "AIza" + "x" * 35  # obviously fake, built at run time
TOKEN = "ya29." + "t" * 12  # an OAuth-token shape, obviously fake


class Kind(str, enum.Enum):  # noqa: UP042 - str() of a member is "Kind.A" here, a key scrub_obj writes so
    A = "a"


class Text(str):
    pass


DOCUMENTS: list[object] = [
    {"command": "lint", "findings": [], "backends": {}, "summary": {"errors": 0, "warnings": 2}},
    {1: 2, None: {}, "a": (1.5, float("nan"), float("inf")), "b": [[], {}, [[]]]},
    {"x": f"\x1b\u202e {KEY}", "deep": {"a": [1, [2, {}], {"b": None, "c": True}], "d": {"e": [False]}}},
    [Text("x"), Kind.A, {Kind.A: 1, "k": Kind.A}, -0.0, 10**30],
    {"h": "Authorization: Bearer abcdefghijkl", "u": "http://u:p@host", "l": [1.0, 2, TOKEN]},
    {"ü": "naïve — \u2028 text", "path": "src/a.py", "esc": "a\\u0041Iza" + KEY[4:], "q": '"quoted"\n'},
    "a plain string",
    7,
    # the same containers of strings at other depths, repeated, and lists alike but for their items' types
    {"a": ["x", KEY], "b": {"c": ["x", KEY], "d": [["x", KEY]]}, "e": [{"s": "v"}, {"s": "v"}, {"s": "v", "t": 1}]},
    {"f": [[1], [True], ["1"], [1], [True]], "g": {"fix": ["one", "two"]}, "h": [{"fix": ["one", "two"]}]},
]


def test_the_json_renderer_writes_what_json_dumps_writes_of_the_scrubbed_document() -> None:
    for document in DOCUMENTS:
        expected = json.dumps(scrub_obj(document, ["my-secret-value"]), indent=2, ensure_ascii=False) + "\n"
        assert dumps(document, scrubber(["my-secret-value"])) == expected
        assert dumps(document, scrubber()) == json.dumps(scrub_obj(document), indent=2, ensure_ascii=False) + "\n"


def test_the_json_report_holds_no_key() -> None:
    text = render({"command": "lint", "findings": [{"message": f"key {KEY}", KEY: [KEY]}]}, "json")
    assert KEY not in text and "[REDACTED]" in text


def test_an_inert_string_is_one_redact_and_neutralise_leave_as_it_is() -> None:
    pieces = ["AIza", "AQ.", "ya29.", "1//", "://", "QUl6Y", "xLy", "KEY=", "Bearer ", "Authorization:"]
    pieces += ["x-goog-api-key"]
    pieces += ["%41", "\\u0041", "\n", "\r", "\x1b", "\x7f", "é", "\u200b", "K", "a", "Z", "0", "/", "-", "_", " ", "="]
    rng = random.Random(7)
    changed = 0
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        scrubbed = neutralise(redact(text))
        if _inert(text):
            assert scrubbed == text, text
        changed += scrubbed != text
    assert changed > 1000  # the draw holds secrets and controls, not only inert text
    for marked in (KEY[:15], "key=abcdefghij", "BEARER abcdefghijk", "http://u:p@h", "a\x1bb", "\\u0041"):
        assert not _inert(marked)
    assert _inert("src/pkg0/sub0/m0.py")
