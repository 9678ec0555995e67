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
    (tmp_path / "body.json").write_text('{"contents": []}')
    settings = resolve(NO_FLAGS, {}, tmp_path)  # a config's request path is read from the config's folder
    assert settings.request_file == str((tmp_path / "body.json").resolve())
    assert settings.modalities == ("TEXT", "IMAGE")


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


# ------------------------------------------------------------- a config file cannot move credentials (issue 9.1)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1",
        "https://attacker.example",
        "http://generativelanguage.googleapis.com",  # Google's host, but not over https
        "https://generativelanguage.googleapis.com@attacker.example",  # userinfo: the host is attacker.example
        "https://googleapis.com.attacker.example",
        "https://attacker.example/generativelanguage.googleapis.com",
    ],
)
@pytest.mark.parametrize("name,variable", [("base_url", "GOOGLE_GEMINI_BASE_URL"), ("gcp_endpoint", None)])
def test_a_config_file_cannot_point_requests_at_a_host_that_is_not_googles(tmp_path, url, name, variable):
    (tmp_path / "pyproject.toml").write_text(f'[tool.gemini-doctor]\n{name} = "{url}"\n')
    with pytest.raises(InputError, match="not a Google host") as caught:
        resolve({}, {"GEMINI_API_KEY": "k"}, tmp_path)
    assert "pyproject.toml" in str(caught.value) and "\n" not in str(caught.value)
    flag = {"base_url": "--base-url", "gcp_endpoint": "--gcp-endpoint"}[name]
    assert flag in str(caught.value)  # it says how to use it on purpose


@pytest.mark.parametrize(
    "url",
    ["https://generativelanguage.googleapis.com", "https://private.googleapis.com/", "https://x.googleapis.com:443"],
)
def test_a_config_file_may_name_googles_own_hosts(tmp_path, url):
    (tmp_path / "gemini-doctor.toml").write_text(f'base_url = "{url}"\ngcp_endpoint = "{url}"\n')
    settings = resolve({}, {}, tmp_path)
    assert settings.base_url == url.rstrip("/") and settings.gcp_endpoint == url


def test_the_flag_or_the_environment_may_choose_any_host_over_the_config(tmp_path):
    (tmp_path / "gemini-doctor.toml").write_text(
        'base_url = "http://127.0.0.1:1"\ngcp_endpoint = "http://127.0.0.1:2"\n'
    )
    settings = resolve(
        {"base_url": "http://127.0.0.1:3"}, {"GEMINI_DOCTOR_GCP_ENDPOINT": "http://127.0.0.1:4"}, tmp_path
    )
    assert (settings.base_url, settings.gcp_endpoint) == ("http://127.0.0.1:3", "http://127.0.0.1:4")


def test_a_config_request_file_must_be_a_regular_file_inside_its_folder(tmp_path):
    project, outside = tmp_path / "repo", tmp_path / "home"
    project.mkdir()
    outside.mkdir()
    (outside / "adc.json").write_text('{"contents": []}')
    (project / "inside.json").write_text('{"contents": []}')
    (project / "link.json").symlink_to(outside / "adc.json")
    (project / "folder.json").mkdir()
    cases = {
        str(outside / "adc.json"): "outside the folder",
        "../home/adc.json": "outside the folder",
        "link.json": "outside the folder",  # a symlink out of the folder is followed, then refused
        "folder.json": "not a regular file",
        "missing.json": "does not exist",
    }
    for value, words in cases.items():
        (project / "gemini-doctor.toml").write_text(f'request = "{value}"\n')
        with pytest.raises(InputError, match=words):
            resolve({}, {}, project)
        assert resolve({"request": str(outside / "adc.json")}, {}, project).request_file == str(outside / "adc.json")
    (project / "gemini-doctor.toml").write_text('request = "inside.json"\n')
    assert resolve({}, {}, project).request_file == str((project / "inside.json").resolve())


@pytest.mark.parametrize(
    "name", ["https_proxy", "http_proxy", "all_proxy", "proxy", "ssl_cert_file", "requests_ca_bundle", "ca_bundle"]
)
def test_a_config_file_cannot_set_proxies_or_certificates(tmp_path, name):
    (tmp_path / "gemini-doctor.toml").write_text(f'{name} = "http://127.0.0.1:1"\n')
    with pytest.raises(InputError, match="unknown setting"):
        resolve({}, {}, tmp_path)


# ------------------------------------------------------------- bad input is one line, not exit 3 (issue 9.9)


@pytest.mark.parametrize(
    "content,words",
    [
        (b'[tool]\ngemini-doctor = "x"\n', "must be a table"),
        (b"[tool]\ngemini-doctor = 5\n", "must be a table"),
        (b"[tool.gemini-doctor\n", "not valid TOML"),
        (b"a = " + b"[" * 100_000 + b"\n", "nests deeper"),
        (b"# " + b"x" * (2 * 1024 * 1024) + b"\n", "larger than"),
        (b"\x00\x01binary", "binary"),
    ],
    ids=["string-table", "number-table", "invalid", "deep", "huge", "binary"],
)
def test_broken_config_files_are_one_line_errors(tmp_path, content, words):
    (tmp_path / "pyproject.toml").write_bytes(content)
    with pytest.raises(InputError, match=words) as caught:
        resolve({}, {}, tmp_path)
    assert "\n" not in str(caught.value)


def test_a_config_with_a_bom_is_read_and_a_pyproject_folder_is_no_config(tmp_path):
    (tmp_path / "gemini-doctor.toml").write_bytes('\ufeffmodel = "gemini-3-pro-image"\n'.encode())
    assert resolve({}, {}, tmp_path).model == "gemini-3-pro-image"
    (tmp_path / "gemini-doctor.toml").unlink()
    (tmp_path / "pyproject.toml").mkdir()
    assert resolve({}, {}, tmp_path).notes == ()


@pytest.mark.parametrize("bad", ["\ufeff", "ключ", "\n", "\x00", "\u200b", "é"])
@pytest.mark.parametrize("variable", ["GEMINI_API_KEY", "GOOGLE_API_KEY"])
def test_a_key_with_a_character_a_header_cannot_carry_is_refused_without_echoing_it(tmp_path, bad, variable):
    key = "AIza" + "x" * 17 + bad + "y" * 17
    with pytest.raises(InputError, match="cannot be sent") as caught:
        resolve({}, {variable: key}, tmp_path)
    message = str(caught.value)
    assert variable in message and "x" * 10 not in message and "y" * 10 not in message and "\n" not in message


def test_only_and_skip_naming_the_same_check_is_a_usage_error(tmp_path):
    with pytest.raises(InputError, match="both name model"):
        resolve({"only": ("model",), "skip": ("model", "quota")}, {}, tmp_path)
    (tmp_path / "gemini-doctor.toml").write_text('only = ["quota"]\n')
    with pytest.raises(InputError, match="both name quota"):
        resolve({"skip": ("quota",)}, {}, tmp_path)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 0, 1e309, -1])
def test_timeouts_that_are_not_a_duration_are_refused(tmp_path, value):
    with pytest.raises(InputError, match="timeout"):
        resolve({"timeout": value}, {}, tmp_path)


def test_google_application_credentials_must_name_a_small_regular_file(tmp_path):
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (2 * 1024 * 1024))
    for target, words in ((tmp_path, "a directory"), ("/dev/zero", "not a regular file"), (huge, "a file of")):
        env = {"GOOGLE_APPLICATION_CREDENTIALS": str(target)}
        with pytest.raises(InputError, match=words):
            resolve({"project": "my-project"}, env, tmp_path)
        assert resolve({}, env, tmp_path).project is None  # no project: Google Cloud is not called, nothing read
        assert resolve({"project": "p1", "gcp_endpoint": "http://127.0.0.1:1"}, env, tmp_path)  # the emulator
    missing = {"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "missing.json")}
    assert resolve({"project": "my-project"}, missing, tmp_path).project == "my-project"  # google-auth says so


@pytest.mark.parametrize("project", ["../../other", "a/b", "my project", "проект", "x" * 101])
def test_a_project_that_is_no_project_id_is_refused(tmp_path, project):
    with pytest.raises(InputError, match="project"):
        resolve({"project": project}, {}, tmp_path)


@pytest.mark.parametrize(
    "url,words",
    [
        ("http://127.0.0.1:99999", "not a URL"),
        ("http://exa mple.com", "host name"),
        ("http://%41", "host name"),
        ("https://a..b", "host name"),
        ("https://generativelanguage.googleapis.com/?x=", "query or fragment"),
        ("https://generativelanguage.googleapis.com#", "query or fragment"),
    ],
)
def test_urls_no_request_could_use_are_usage_errors(tmp_path, url, words):
    for flags in ({"base_url": url}, {"gcp_endpoint": url}):
        with pytest.raises(InputError, match=words):
            resolve(flags, {}, tmp_path)


# ------------------------------------------------------------- one settings table (issue 15, the house)


def test_pyproject_wins_over_gemini_doctor_toml_as_the_readme_says(tmp_path):
    (tmp_path / "gemini-doctor.toml").write_text('model = "from-own-file"\n')
    (tmp_path / "pyproject.toml").write_text('[tool.gemini-doctor]\nmodel = "from-pyproject"\n')
    settings = resolve(NO_FLAGS, {}, tmp_path)
    assert settings.model == "from-pyproject" and "config read from pyproject.toml" in settings.notes
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')  # no table of ours: the own file
    assert resolve(NO_FLAGS, {}, tmp_path).model == "from-own-file"


def test_format_in_a_config_file_is_honoured_or_refused(tmp_path):
    (tmp_path / "gemini-doctor.toml").write_text('format = "json"\n')
    assert resolve(NO_FLAGS, {}, tmp_path).format == "json"
    assert resolve({"format": "markdown"}, {}, tmp_path).format == "markdown"
    (tmp_path / "gemini-doctor.toml").write_text('format = "sarif"\n')
    with pytest.raises(InputError, match="format must be one of rich, json, markdown"):
        resolve(NO_FLAGS, {}, tmp_path)


@pytest.mark.parametrize("key", ["generate", "output", "verbose", "emulator", "error"])
def test_a_setting_only_a_flag_may_give_is_refused_in_a_config_file(tmp_path, key):
    value = "true" if key in ("generate", "verbose") else '"x"'
    (tmp_path / "gemini-doctor.toml").write_text(f"{key} = {value}\n")
    with pytest.raises(InputError, match=f"only a flag may set it|only a flag may set .*--{key}"):
        resolve(NO_FLAGS, {}, tmp_path)


def test_every_setting_is_a_flag_of_check_and_every_config_key_a_setting():
    from gemini_doctor.cli import app
    from gemini_doctor.settings import CONFIG_KEYS, SETTINGS, Settings

    command = next(c for c in app.registered_commands if c.callback.__name__ == "check")
    import inspect

    assert list(inspect.signature(command.callback).parameters) == [s.key for s in SETTINGS]
    fields = set(Settings.__dataclass_fields__)
    assert all(s.attr in fields for s in SETTINGS) and {s.key for s in SETTINGS} >= CONFIG_KEYS


def test_a_list_setting_takes_commas_inside_a_repeated_flag(tmp_path):
    assert resolve({"only": ("model,endpoint", "quota")}, {}, tmp_path).only == ("model", "endpoint", "quota")
