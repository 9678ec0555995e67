"""Settings for `check`: flags over environment over a config file; the key held as a secret.

Config files: `[tool.gemini-doctor]` in ./pyproject.toml, or ./gemini-doctor.toml. A key never belongs in one (it
would be committed), so `api_key` there is refused.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from gemini_doctor.input_error import InputError

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
CONFIG_KEYS = {
    "project",
    "model",
    "base_url",
    "api_version",
    "gcp_endpoint",
    "timeout",
    "image_size",
    "aspect_ratio",
    "modalities",
    "request",
    "only",
    "skip",
    "format",
    "strict",
}


class Secret:
    """A string that never prints itself: repr, str and f-strings show a mask."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value.strip()

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Settings:
    api_key: Secret | None = None
    api_key_source: str | None = None
    project: str | None = None
    model: str | None = None
    base_url: str = DEFAULT_BASE_URL
    api_version: str = "v1beta"
    gcp_endpoint: str | None = None
    request_file: str | None = None
    request_body: dict | None = None
    image_size: str | None = None
    aspect_ratio: str | None = None
    modalities: tuple[str, ...] | None = None
    error_file: str | None = None
    error_text: str | None = None
    generate: bool = False
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    timeout: float = 10.0
    strict: bool = False
    verbose: bool = False
    notes: tuple[str, ...] = field(default=())  # how settings were resolved, for the report

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.api_key.reveal(),) if self.api_key else ()

    @property
    def gcp_is_local(self) -> bool:
        """An http:// loopback GCP endpoint (the emulator) gets anonymous credentials."""
        endpoint = self.gcp_endpoint or ""
        return endpoint.startswith("http://") and any(
            host in endpoint for host in ("://127.", "://localhost", "://[::1]")
        )


def read_config(folder: Path) -> tuple[dict[str, Any], str | None]:
    """[tool.gemini-doctor] from pyproject.toml, else gemini-doctor.toml; ({}, None) when neither has one."""
    for name, table in (("gemini-doctor.toml", None), ("pyproject.toml", ("tool", "gemini-doctor"))):
        path = folder / name
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"config file {name} is not valid TOML ({exc})") from None
        for key in table or ():
            data = data.get(key, {}) if isinstance(data, dict) else {}
        if not data:
            continue
        config = {key.replace("-", "_"): value for key, value in data.items()}
        if "api_key" in config:
            raise InputError(
                f"{name} holds an api_key: keys do not belong in files that get committed; use "
                "GEMINI_API_KEY or --api-key"
            )
        unknown = set(config) - CONFIG_KEYS
        if unknown:
            raise InputError(
                f"{name}: unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(CONFIG_KEYS))}"
            )
        return config, name
    return {}, None


def resolve(flags: dict[str, Any], environ: dict[str, str] | None = None, folder: Path | None = None) -> Settings:
    """Flags (None = not given) over environment over config file over defaults."""
    environ = dict(os.environ if environ is None else environ)
    config, config_name = read_config(folder or Path.cwd())
    notes: list[str] = []
    if config_name:
        notes.append(f"config read from {config_name}")
    values: dict[str, Any] = {}

    key, key_source = flags.get("api_key"), "--api-key"
    if not key:
        google, gemini = environ.get("GOOGLE_API_KEY"), environ.get("GEMINI_API_KEY")
        if google and gemini:
            notes.append("both GOOGLE_API_KEY and GEMINI_API_KEY are set: GOOGLE_API_KEY wins, as in google-genai")
        key, key_source = (google, "GOOGLE_API_KEY") if google else (gemini, "GEMINI_API_KEY")
    if key:
        values["api_key"], values["api_key_source"] = Secret(key), key_source
    environment = {
        "project": environ.get("GOOGLE_CLOUD_PROJECT"),
        "base_url": environ.get("GOOGLE_GEMINI_BASE_URL"),
        "gcp_endpoint": environ.get("GEMINI_DOCTOR_GCP_ENDPOINT"),
    }
    flags = dict(flags)
    for source in (flags, config):
        if "request" in source:
            source["request_file"] = source.pop("request")
    names = {f.name for f in fields(Settings)}
    for name in names - {"api_key", "api_key_source", "notes"}:
        for source in (flags, environment, config):
            if source.get(name) not in (None, (), ""):
                values[name] = source[name]
                break
    for name, value in list(values.items()):
        values[name] = _checked(name, value)
    values.pop("format", None)
    values = {k: v for k, v in values.items() if k in names}
    if "api_version" not in values and environ.get("GOOGLE_GENAI_API_VERSION"):
        wanted = environ["GOOGLE_GENAI_API_VERSION"].strip()
        values["api_version"] = "v1beta" if wanted == "beta" else wanted
        notes.append(f"API version {values['api_version']} from GOOGLE_GENAI_API_VERSION, as google-genai reads it")
    settings = Settings(**values)
    base = settings.base_url.rstrip("/")
    for version in ("/v1beta", "/v1"):
        if base.endswith(version):  # a base URL that already carries the version
            base = base[: -len(version)]
            notes.append(f"base URL ended in {version}: read as base {base} with API version {version[1:]}")
            settings = replace(settings, api_version=version[1:])
    if settings.model and settings.model.startswith("models/"):
        settings = replace(settings, model=settings.model.removeprefix("models/"))
    _validate_url(base, "base URL")
    if settings.gcp_endpoint:
        _validate_url(settings.gcp_endpoint, "GCP endpoint")
    if settings.api_version not in API_VERSIONS:
        raise InputError(f"unknown API version {settings.api_version!r}; use one of {', '.join(API_VERSIONS)}")
    return replace(settings, base_url=base, notes=tuple(notes))


API_VERSIONS = ("v1beta", "v1", "v1alpha")
_TEXT = {
    "project",
    "model",
    "base_url",
    "api_version",
    "gcp_endpoint",
    "image_size",
    "aspect_ratio",
    "request_file",
    "error_file",
}


def _checked(name: str, value: Any) -> Any:
    """One setting, of the type it must have; config files bypass the flags' own checks, so check here."""
    if name in _TEXT:
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"setting {name.replace('_', '-')} must be a non-empty string, not {value!r}")
        return value.strip()
    if name == "timeout":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.1 <= value <= 600:
            raise InputError(f"setting timeout must be a number of seconds from 0.1 to 600, not {value!r}")
        return float(value)
    if name in ("modalities", "only", "skip"):
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise InputError(f"setting {name} must be a string or a list of strings, not {value!r}")
        return tuple(i.strip() for i in items if i.strip())
    if name in ("generate", "strict", "verbose") and not isinstance(value, bool):
        raise InputError(f"setting {name} must be true or false, not {value!r}")
    return value


def _validate_url(url: str, what: str) -> None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise InputError(f"{what} {url!r} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InputError(
            f"{what} {url!r} is not an http(s) URL with a host, e.g. https://generativelanguage.googleapis.com"
        )
