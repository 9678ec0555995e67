"""Redaction: keys and tokens never survive, whatever their surroundings."""

from __future__ import annotations

import contextlib
import secrets
import string

from gemini_doctor.redact import MASK, redact, redact_obj


def fake_standard_key() -> str:
    alphabet = string.ascii_letters + string.digits + "_-"
    return "AIza" + "".join(secrets.choice(alphabet) for _ in range(35))


def fake_auth_key() -> str:
    return "AQ." + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))


def test_standard_key_anywhere():
    key = fake_standard_key()
    for text in (key, f"x{key}y", f"key: {key}", f"'{key}'", f"Consumer 'api_key:{key}' has been suspended."):
        assert key not in redact(text)
        assert MASK in redact(text)


def test_auth_key_and_oauth_tokens():
    auth = fake_auth_key()
    token = "ya29." + "a" * 60
    text = f"using {auth} and Bearer {token}"
    out = redact(text)
    assert auth not in out and token not in out


def test_query_parameter_and_headers():
    url = "https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?key=sekrit-value-123&alt=sse"
    assert "sekrit-value-123" not in redact(url)
    assert "alt=sse" in redact(url)
    headers = "x-goog-api-key: sekrit-header-value\nAuthorization: Basic dXNlcjpwYXNz\nContent-Type: x"
    out = redact(headers)
    assert "sekrit-header-value" not in out and "dXNlcjpwYXNz" not in out and "Content-Type: x" in out
    as_json = '{"x-goog-api-key": "sekrit-json-value", "authorization": "Bearer abcdefghijkl"}'
    out = redact(as_json)
    assert "sekrit-json-value" not in out and "abcdefghijkl" not in out


def test_a_key_cut_short_is_still_caught():
    key = fake_standard_key()
    assert key[:20] not in redact(key[:20])


def test_an_explicit_secret_of_any_shape():
    assert "hunter2-token" not in redact("the token hunter2-token leaked", secrets=["hunter2-token"])


def test_redact_obj_walks_structures():
    key = fake_standard_key()
    value = {"a": [key, {"b": f"k={key}"}], key: 1}
    assert key not in str(redact_obj(value))


def test_plain_text_is_untouched():
    text = "429 RESOURCE_EXHAUSTED: Quota exceeded for metric generate_content_free_tier_requests, limit: 0"
    assert redact(text) == text


def test_credentials_in_urls():
    text = "proxy http://gwuser:S3cretPass@127.0.0.1:3128 and https://example.com/path"
    out = redact(text)
    assert "S3cretPass" not in out and "gwuser" not in out and "https://example.com/path" in out


# ------------------------------------------------------------------------------------------------ keys in disguise


def _escaped(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in text)


def _percent(text: str) -> str:
    return "".join(f"%{ord(c):02X}" for c in text)


def disguises(key: str) -> dict[str, str]:
    """Every form a key was seen leaking in: escaped, split, invisible characters, base64 at any alignment."""
    import base64
    import json

    return {
        "json-escaped first letter, broken JSON": '{"error": {"message": "bad key '
        + _escaped(key[0])
        + key[1:]
        + '", ',
        "json-escaped throughout": _escaped(key),
        "escaped, each backslash doubled by a JSON encoding": _escaped(key).replace("\\", "\\\\"),
        "python-escaped": "".join(f"\\x{ord(c):02x}" for c in key[:6]) + key[6:],
        "percent-encoded throughout": _percent(key),
        "percent-encoded first letter": _percent(key[0]) + key[1:],
        "split by a newline": key[:10] + "\n" + key[10:],
        "split by CRLF inside the prefix": key[:2] + "\r\n" + key[2:],
        "split by an escaped newline": key[:12] + "\\n" + key[12:],
        "zero-width space after each letter": "".join(c + "\u200b" for c in key),
        "zero-width non-joiner": key[:7] + "\u200c" + key[7:],
        "zero-width joiner": key[:8] + "\u200d" + key[8:],
        "word joiner": key[:9] + "\u2060" + key[9:],
        "byte-order mark": key[:20] + "\ufeff" + key[20:],
        "soft hyphen": key[:15] + "\u00ad" + key[15:],
        "escaped zero-width space": key[:15] + "\\u200b" + key[15:],
        "base64": "token " + base64.b64encode(key.encode()).decode() + " end",
        "url-safe base64, offset by one": base64.urlsafe_b64encode(b"x" + key.encode()).decode(),
        "base64, offset by two": base64.b64encode(b"ab" + key.encode()).decode(),
        "base64 of JSON holding it": "data " + base64.b64encode(json.dumps({"k": key}).encode()).decode(),
    }


def leaked(key: str, out: str) -> list[str]:
    """Any 8-character piece of the key (or of its base64 forms) still in the output."""
    import base64

    forms = [key]
    for pad in (b"", b"x", b"ab"):
        forms += [base64.b64encode(pad + key.encode()).decode(), base64.urlsafe_b64encode(pad + key.encode()).decode()]
    return sorted({form[i : i + 12] for form in forms for i in range(8, len(form) - 12) if form[i : i + 12] in out})


def test_a_key_in_disguise_is_redacted():
    key = fake_standard_key()
    for name, text in disguises(key).items():
        out = redact(text)
        assert not leaked(key, out), (name, out)
        assert MASK in out, name


def test_the_users_own_key_of_any_shape_is_found_in_disguise():
    secret = "".join(secrets.choice(string.ascii_lowercase) for _ in range(24)) + ".Zz9"  # no known key shape
    for name, text in disguises(secret).items():
        out = redact(text, secrets=[secret])
        assert not leaked(secret, out), (name, out)
        assert MASK in out, name


def test_a_full_key_on_its_own_line_leaves_the_next_line_alone():
    key = fake_standard_key()
    out = redact(f"x-goog-api-key: {key}\r\nContent-Type: application/json\n{key}\nnext line")
    assert key not in out and "Content-Type: application/json" in out and "next line" in out


def test_redaction_keeps_ordinary_escapes_and_percentages():
    text = 'say \\u003chello\\u003e at 50% and 100%25 of "x" %41 more'
    assert redact(text) == text


def test_clip_redacts_before_it_cuts():
    from gemini_doctor.redact import clip

    key = fake_standard_key()
    out = clip("x" * 290 + key, 300)
    assert key[:8] not in out and len(out) <= 300


# ------------------------------------------------------------------------------------------------ linear time

# Adversarial shapes: long runs after each header name, `key=` runs, AIza followed by long runs, `://` with long
# user parts, nested and unclosed quotes, and dense disguise marks (escapes, invisible characters, line breaks).
SHAPES = {
    "Authorization: and spaces": lambda n: "Authorization:" + " " * n,
    "Authorization:, spaces and $": lambda n: "Authorization:" + " " * n + "$",
    "x-goog-api-key:, spaces and a quote": lambda n: "x-goog-api-key:" + " " * n + '"',
    "every header name, spaces and $": lambda n: "".join(
        name + " " * (n // 10) + "$"
        for name in (
            "Authorization:",
            "x-goog-api-key:",
            '"authorization":',
            "'authorization':",
            '"x-goog-api-key":',
            "'x-goog-api-key':",
            "bearer",
            "key=",
            "?key=",
            "://",
        )
    ),
    "key= runs": lambda n: "key=" * (n // 4),
    "key= and a long value": lambda n: "?key=" + "a" * n,
    "AIza and a long run": lambda n: "AIza" + "b" * n,
    "AIza, short, repeated": lambda n: "AIzaxxxxxxx " * (n // 12),
    ":// and a long user": lambda n: "://" + "u" * n,
    ":// and many colons": lambda n: "://" + "a:" * (n // 2),
    "nested quotes": lambda n: ('"authorization": "' + "'" * 10) * (n // 28),
    "an unclosed quote": lambda n: '"x-goog-api-key":' + " " * n + '"x',
    "escapes": lambda n: "\\u0041" * (n // 6),
    "escaped prefixes": lambda n: "\\u0041\\u0049\\u007a" * (n // 18),
    "escapes with doubled backslashes": lambda n: "\\\\u0041\\\\u0049" * (n // 14),
    "a letter, backslash runs, escapes": lambda n: ("A" + "\\" * 50 + "u0041") * (n // 56),
    "percent escapes": lambda n: "%41" * (n // 3),
    "zero-width spaces": lambda n: "A\u200b" * (n // 2),
    "line breaks inside words": lambda n: "a\nb" * (n // 3),
    "AIza and line breaks": lambda n: "AIza\n" * (n // 5),
    "base64 signatures": lambda n: ("QUl6Y" + "A" * 11 + " ") * (n // 17),
    "bearer and spaces": lambda n: "bearer" + " " * n,
    "backslashes": lambda n: "\\" * n,
}


def _best_time(function, text: str, repeats: int) -> float:
    import time

    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function(text)
        best = min(best, time.perf_counter() - start)
    return best


def _scaling(function, shape, small: int = 20_000) -> float:
    """How much longer ten times the text takes: about 10 when linear, about 100 when quadratic. A loaded machine
    only ever makes one measure worse (a slice of the large run lost to another process), so each side is its best
    of five, and the best of up to five attempts is kept; quadratic text stays near 100 however often it is tried."""
    best = float("inf")
    large, few = shape(small * 10), shape(small)
    for _ in range(5):
        ratio = _best_time(function, large, 5) / max(_best_time(function, few, 5), 1e-4)
        best = min(best, ratio)
        if best < 20:
            break
    return best


def test_redaction_is_linear_on_adversarial_text():
    ratios = {
        name: _scaling(lambda text: redact(text, ["hunter2-secret-value"]), shape) for name, shape in SHAPES.items()
    }
    assert all(ratio < 40 for ratio in ratios.values()), ratios


def test_explain_reading_is_linear_on_adversarial_text():
    from gemini_doctor.diagnosis.evidence import read_evidence
    from gemini_doctor.input_error import InputError

    def read(text: str) -> None:
        with contextlib.suppress(InputError):
            read_evidence(text)

    ratios = {
        name: _scaling(read, SHAPES[name]) for name in ("Authorization:, spaces and $", "nested quotes", "escapes")
    }
    assert all(ratio < 40 for ratio in ratios.values()), ratios
