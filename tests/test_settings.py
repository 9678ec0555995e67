"""Settings: flags over environment over config file; the key a Secret that never prints itself."""

from __future__ import annotations

import pytest

from gemini_doctor.input_error import InputError
from gemini_doctor.settings import Secret, resolve

NO_FLAGS: dict = {}


def test_google_api_key_wins_over_gemini_api_key_with_a_note(tmp_path):
    settings = resolve(NO_FLAGS, {"GOOGLE_API_KEY": "google-one", "GEMINI_API_KEY": "gemini-one"}, tmp_path)
    assert settings.api_key.reveal() == "google-one" and settings.api_key_source == "GOOGLE_API_KEY"
    assert any("GOOGLE_API_KEY wins" in note for note in settings.notes)
    settings = resolve(NO_FLAGS, {"GEMINI_API_KEY": "gemini-one"}, tmp_path)
    assert settings.api_key.reveal() == "gemini-one"


def test_flag_beats_environment_beats_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.gemini-doctor]\nproject = "from-config"\nmodel = "m-config"\ntimeout = 3\n'
    )
    env = {"GOOGLE_CLOUD_PROJECT": "from-env", "GEMINI_API_KEY": "k"}
    settings = resolve({"project": None, "model": None}, env, tmp_path)
    assert (settings.project, settings.model, settings.timeout) == ("from-env", "m-config", 3)
    settings = resolve({"project": "from-flag"}, env, tmp_path)
    assert settings.project == "from-flag"
    assert any("pyproject.toml" in note for note in settings.notes)


def test_gemini_doctor_toml_and_request_key(tmp_path):
    (tmp_path / "gemini-doctor.toml").write_text('request = "body.json"\nmodalities = "TEXT,IMAGE"\n')
    settings = resolve(NO_FLAGS, {}, tmp_path)
    assert settings.request_file == "body.json" and settings.modalities == ("TEXT", "IMAGE")


def test_a_key_in_a_config_file_is_refused(tmp_path):
    (tmp_path / "gemini-doctor.toml").write_text('api_key = "AIza-not-real"\n')
    with pytest.raises(InputError, match="do not belong"):
        resolve(NO_FLAGS, {}, tmp_path)


def test_unknown_config_key_and_bad_toml_are_clear_errors(tmp_path):
    (tmp_path / "gemini-doctor.toml").write_text("colour = 1\n")
    with pytest.raises(InputError, match="unknown setting"):
        resolve(NO_FLAGS, {}, tmp_path)
    (tmp_path / "gemini-doctor.toml").write_text("project = [\n")
    with pytest.raises(InputError, match="not valid TOML"):
        resolve(NO_FLAGS, {}, tmp_path)


def test_base_url_carrying_the_version_is_split(tmp_path):
    settings = resolve({"base_url": "https://proxy.example/v1/"}, {}, tmp_path)
    assert settings.base_url == "https://proxy.example" and settings.api_version == "v1"


def test_gcp_endpoint_on_loopback_is_local(tmp_path):
    assert resolve({"gcp_endpoint": "http://127.0.0.1:9"}, {}, tmp_path).gcp_is_local
    assert not resolve({"gcp_endpoint": "https://127.0.0.1:9"}, {}, tmp_path).gcp_is_local
    assert not resolve({}, {}, tmp_path).gcp_is_local


def test_secret_never_prints_itself():
    secret = Secret("AIza-very-secret-value")
    assert "very-secret" not in repr(secret) + str(secret) + f"{secret}" + repr([secret])
    assert secret.reveal() == "AIza-very-secret-value"


@pytest.mark.parametrize(
    "flags,words",
    [
        ({"base_url": "notaurl"}, "not an http(s) URL"),
        ({"base_url": "http://[::1"}, "not a URL"),
        ({"gcp_endpoint": "ftp://host"}, "GCP endpoint"),
        ({"api_version": "v2"}, "unknown API version"),
    ],
)
def test_typos_in_urls_and_versions_are_usage_errors(tmp_path, flags, words):
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        resolve(flags, {}, tmp_path)


@pytest.mark.parametrize(
    "line,words",
    [
        ('timeout = "abc"', "timeout"),
        ("timeout = 0", "timeout"),
        ("only = 5", "only"),
        ("project = 5", "project"),
        ("strict = 1", "strict"),
    ],
)
def test_config_values_are_type_checked(tmp_path, line, words):
    (tmp_path / "gemini-doctor.toml").write_text(line + "\n")
    with pytest.raises(InputError, match=words):
        resolve({}, {}, tmp_path)


def test_models_prefix_and_genai_api_version_variable(tmp_path):
    settings = resolve({"model": "models/gemini-3-pro-image"}, {"GOOGLE_GENAI_API_VERSION": "beta"}, tmp_path)
    assert settings.model == "gemini-3-pro-image" and settings.api_version == "v1beta"
    assert resolve({}, {"GOOGLE_GENAI_API_VERSION": "v1"}, tmp_path).api_version == "v1"
    assert resolve({"api_version": "v1beta"}, {"GOOGLE_GENAI_API_VERSION": "v1"}, tmp_path).api_version == "v1beta"
