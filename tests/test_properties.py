"""Property tests: explain never crashes on arbitrary text or JSON, and never prints a key it was given."""

from __future__ import annotations

import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gemini_doctor.diagnosis import Context
from gemini_doctor.explain import explain_document
from gemini_doctor.input_error import InputError
from gemini_doctor.report import FORMATS, render

KEY_ALPHABET = string.ascii_letters + string.digits + "_-"
standard_keys = st.text(KEY_ALPHABET, min_size=35, max_size=35).map(lambda tail: "AIza" + tail)
auth_keys = st.text(string.ascii_letters + string.digits, min_size=30, max_size=50).map(lambda tail: "AQ." + tail)
keys = st.one_of(standard_keys, auth_keys)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
detail_types = st.sampled_from(
    [
        "google.rpc.ErrorInfo",
        "google.rpc.QuotaFailure",
        "google.rpc.RetryInfo",
        "google.rpc.Help",
        "google.rpc.BadRequest",
        "google.rpc.Nonsense",
    ]
)
details = st.builds(
    lambda kind, body: {"@type": f"type.googleapis.com/{kind}", **body},
    detail_types,
    st.dictionaries(
        st.sampled_from(["reason", "violations", "retryDelay", "links", "metadata", "fieldViolations"]),
        json_values,
        max_size=3,
    ),
)
error_bodies = st.builds(
    lambda code, status, message, ds: {"error": {"code": code, "status": status, "message": message, "details": ds}},
    st.one_of(st.integers(100, 599), st.text(max_size=10), st.none()),
    st.one_of(st.sampled_from(["RESOURCE_EXHAUSTED", "INVALID_ARGUMENT", "NOT_FOUND", "UNAVAILABLE"]), json_values),
    st.text(max_size=200),
    st.one_of(st.lists(details, max_size=4), json_values),
)
responses = st.builds(
    lambda parts, finish, feedback: {
        "candidates": [{"content": {"parts": parts}, "finishReason": finish}],
        "promptFeedback": feedback,
    },
    st.lists(
        st.one_of(
            st.builds(lambda t: {"text": t}, st.text(max_size=30)),
            st.builds(
                lambda d, m: {"inlineData": {"data": d, "mimeType": m}},
                st.one_of(st.text(max_size=40), json_values),
                json_values,
            ),
        ),
        max_size=3,
    ),
    json_values,
    json_values,
)
documents = st.one_of(error_bodies, responses, json_values)
wrappers = st.sampled_from(
    [
        "{}",
        "429 RESOURCE_EXHAUSTED. {}",
        "HTTP/2 429\r\ncontent-type: application/json\r\n\r\n{}",
        "google.api_core.exceptions.ResourceExhausted: 429 {}",
        "[GoogleGenerativeAI Error]: Error fetching from https://x/v1beta/models/m:generateContent: "
        "[429 Too Many Requests] {}",
    ]
)


def explain_everywhere(text: str) -> list[str]:
    """Run explain and every renderer; InputError is the one allowed way to refuse."""
    try:
        document = explain_document(text, "property", Context())
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc)
        return [str(exc)]
    assert document["exit_code"] in (0, 1)
    return [render(document, fmt) for fmt in FORMATS]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=2000))
def test_arbitrary_text_never_crashes(text):
    explain_everywhere(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, wrappers)
def test_arbitrary_json_never_crashes(document, wrapper):
    body = json.dumps(document)
    explain_everywhere(wrapper.replace("{}", body) if wrapper != "{}" else body)
    explain_everywhere(wrapper.replace("{}", repr(document)))  # the Python repr google-genai prints


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    documents,
    wrappers,
    keys,
    st.integers(0, 10_000),
    st.sampled_from(["", "key=", "x-goog-api-key: ", "Bearer ", "api_key:", "'"]),
)
def test_a_key_in_the_input_never_reaches_the_output(document, wrapper, key, position, prefix):
    body = json.dumps(document)
    text = wrapper.replace("{}", body) if wrapper != "{}" else body
    cut = position % (len(text) + 1)
    text = text[:cut] + prefix + key + text[cut:]
    middle = key[4:30]
    for output in explain_everywhere(text):
        assert key not in output
        assert middle not in output or middle in text.replace(key, ""), "a part of the key leaked"


@settings(max_examples=40, deadline=None)
@given(error_bodies, keys)
def test_a_key_inside_a_message_never_reaches_the_output(document, key):
    document["error"]["message"] = f"Permission denied: Consumer 'api_key:{key}' has been suspended."
    for output in explain_everywhere(json.dumps(document)):
        assert key not in output
