"""Redaction: keys and tokens never survive, whatever their surroundings."""

from __future__ import annotations

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
