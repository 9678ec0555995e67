"""Settings for `check`: flags over environment over a config file; the key held as a secret.

Config files: `[tool.gemini-doctor]` in ./pyproject.toml, or ./gemini-doctor.toml. A key never belongs in one (it
would be committed), so `api_key` there is refused. A config file may come with a cloned repository, so it is not
trusted to move credentials (as git's safe.directory and direnv's allow): a base URL or GCP endpoint it sets must
be Google's (https, a host under googleapis.com), and a request file it names must be a regular file inside its
folder; anything else needs the flag or the environment variable. It cannot set proxies or CA files at all.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from gemini_doctor.backend import VERTEX_API_VERSIONS, Backend
from gemini_doctor.input_error import InputError

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
MAX_CONFIG_BYTES = 1024 * 1024  # a pyproject.toml is kilobytes
MAX_CREDENTIALS_BYTES = 1024 * 1024  # an ADC or service-account file is a few kilobytes
API_VERSIONS = ("v1beta", "v1", "v1alpha")
VERTEX_ENV = {"base_url": "GOOGLE_VERTEX_BASE_URL"}  # where google-genai reads a setting under Vertex AI instead
LOCATION_ID = re.compile(r"^[a-z][a-z0-9-]{0,62}$")  # it becomes part of a host name: nothing else may pass


class Format(StrEnum):
    """The output formats of check, explain, errors and proxy."""

    RICH = "rich"
    JSON = "json"
    MARKDOWN = "markdown"


FORMATS = tuple(f.value for f in Format)
# Config files, the first with settings wins: pyproject's table, as the README says, then the tool's own file.
CONFIG_FILES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pyproject.toml", ("tool", "gemini-doctor")),
    ("gemini-doctor.toml", ()),
)


class Kind(StrEnum):
    """What a setting's value is: how it is validated and what kind of flag it gets."""

    TEXT = "text"
    SECRET = "secret"
    NUMBER = "number"
    LIST = "list"
    FLAG = "flag"
    CHOICE = "choice"


@dataclass(frozen=True)
class Setting:
    """One setting of `check`: its flag, its environment variable, whether a config file may set it, its check.

    `key` is its name in a config file and, dashed, its flag; `field` the Settings attribute when it differs.
    """

    key: str
    help: str
    kind: Kind = Kind.TEXT
    metavar: str = ""
    env: str | None = None
    config: bool = True
    short: str | None = None
    field: str | None = None
    choices: type[StrEnum] | None = None
    bounds: tuple[float, float] | None = None
    guard_url: bool = False  # a config file may only set a Google URL (it could send the key elsewhere)

    @property
    def attr(self) -> str:
        return self.field or self.key

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")

    def checked(self, value: Any) -> Any:
        """The value, of the type this setting takes; config files bypass the flags' own checks, so check here."""
        name = self.key.replace("_", "-")
        if self.kind in (Kind.TEXT, Kind.CHOICE):
            if not isinstance(value, str) or not value.strip():
                raise InputError(f"setting {name} must be a non-empty string, not {value!r}")
            allowed = [c.value for c in self.choices] if self.choices else []
            if allowed and value.strip() not in allowed:
                raise InputError(f"setting {name} must be one of {', '.join(allowed)}, not {value!r}")
            return value.strip()
        if self.kind is Kind.NUMBER:
            low, high = self.bounds or (float("-inf"), float("inf"))
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                raise InputError(f"setting {name} must be a number of seconds from {low:g} to {high:g}, not {value!r}")
            return float(value)
        if self.kind is Kind.LIST:
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
                raise InputError(f"setting {name} must be a string or a list of strings, not {value!r}")
            return tuple(part.strip() for item in items for part in item.split(",") if part.strip())
        if self.kind is Kind.FLAG and not isinstance(value, bool):
            raise InputError(f"setting {name} must be true or false, not {value!r}")
        return value


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "api_key",
        "API key (else GOOGLE_API_KEY, then GEMINI_API_KEY). Never printed; sent only in the x-goog-api-key header.",
        Kind.SECRET,
        "KEY",
        config=False,
    ),
    Setting(
        "backend",
        "Which API: gemini (the Developer API) or vertex (Vertex AI); else GOOGLE_GENAI_USE_VERTEXAI, as google-genai "
        "reads it.",
        Kind.CHOICE,
        "gemini|vertex",
        choices=Backend,
    ),
    Setting("project", "Google Cloud project of the key.", metavar="PROJECT", env="GOOGLE_CLOUD_PROJECT"),
    Setting(
        "location",
        "Vertex AI location: global (default), us, eu or a region such as us-central1.",
        metavar="LOCATION",
        env="GOOGLE_CLOUD_LOCATION",
    ),
    Setting("model", "Model to check (default: the recommended image model).", metavar="MODEL"),
    Setting(
        "base_url",
        "Base URL of the API; Vertex AI reads GOOGLE_VERTEX_BASE_URL, the Developer API",
        metavar="URL",
        env="GOOGLE_GEMINI_BASE_URL",
        guard_url=True,
    ),
    Setting(
        "api_version",
        "API version path: v1beta (default) or v1; Vertex AI: v1beta1 (default) or v1.",
        metavar="VERSION",
    ),
    Setting(
        "gcp_endpoint",
        "Endpoint for Service Usage, Cloud Quotas, Cloud Billing; http:// loopback gets anonymous credentials.",
        metavar="URL",
        env="GEMINI_DOCTOR_GCP_ENDPOINT",
        guard_url=True,
    ),
    Setting("request", "The JSON body the app sends: its settings are checked.", metavar="FILE", field="request_file"),
    Setting("image_size", "imageSize to test, e.g. 1K.", metavar="SIZE"),
    Setting("aspect_ratio", "aspectRatio to test, e.g. 16:9.", metavar="RATIO"),
    Setting("modalities", "responseModalities to test, e.g. TEXT,IMAGE.", Kind.LIST, "TEXT,IMAGE"),
    Setting(
        "error",
        "An error the app got, diagnosed with the live context.",
        metavar="FILE",
        config=False,
        field="error_file",
    ),
    Setting("generate", "Make ONE real image (costs money; the estimate is printed first).", Kind.FLAG, config=False),
    Setting("only", "Run only this check (repeatable or comma-separated).", Kind.LIST, "CHECK"),
    Setting("skip", "Skip this check (repeatable or comma-separated).", Kind.LIST, "CHECK"),
    Setting("timeout", "Seconds the whole run may take (default 10).", Kind.NUMBER, "SECONDS", bounds=(0.1, 600)),
    Setting("format", "Output format.", Kind.CHOICE, "|".join(FORMATS), short="-f", choices=Format),
    Setting("output", "Write the report to this file.", metavar="FILE", short="-o", config=False),
    Setting("strict", "Warnings fail too (exit 1).", Kind.FLAG),
    Setting("verbose", "Show every check's evidence.", Kind.FLAG, short="-v", config=False),
    Setting(
        "emulator",
        "Start the embedded emulator with this scenario and check against it (no key, no network).",
        metavar="SCENARIO",
        config=False,
    ),
)
BY_KEY = {s.key: s for s in SETTINGS}
CONFIG_KEYS = frozenset(s.key for s in SETTINGS if s.config)
PROJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


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
    backend: Backend = Backend.GEMINI
    project: str | None = None
    location: str | None = None  # Vertex AI only
    vertex_express: bool = False  # Vertex AI with an API key and no project or location
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
    format: str = "rich"
    output: str | None = None
    emulator: str | None = None
    notes: tuple[str, ...] = field(default=())  # how settings were resolved, for the report

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.api_key.reveal(),) if self.api_key else ()

    @property
    def gcp_is_local(self) -> bool:
        """An http:// loopback GCP endpoint (the emulator) gets anonymous credentials."""
        return is_loopback_http(self.gcp_endpoint or "")

    @property
    def base_is_local(self) -> bool:
        """An http:// loopback base URL (the emulator): Vertex AI requests to it carry no credentials."""
        return is_loopback_http(self.base_url)

    @property
    def vertex(self) -> bool:
        return self.backend is Backend.VERTEX

    @property
    def needs_adc(self) -> bool:
        """Vertex AI requests authorised by Application Default Credentials (not express mode, not loopback)."""
        return self.vertex and not self.vertex_express and not self.base_is_local


def is_loopback_http(url: str) -> bool:
    from gemini_doctor.knowledge import is_loopback

    return url.startswith("http://") and is_loopback(url)


def read_config(folder: Path) -> tuple[dict[str, Any], str | None]:
    """[tool.gemini-doctor] from pyproject.toml, else gemini-doctor.toml; ({}, None) when neither has one."""
    for name, table in CONFIG_FILES:
        path = folder / name
        if not path.is_file():
            continue
        data: Any = _load_toml(path, name)
        for key in table:
            data = data.get(key, {}) if isinstance(data, dict) else {}
        if not isinstance(data, dict):
            raise InputError(
                f"{name}: [tool.gemini-doctor] must be a table of settings, not a {type(data).__name__} "
                f"({str(data)[:40]!r})"
            )
        if data:
            return _config_values(data, name), name
    return {}, None


def _config_values(data: dict[str, Any], name: str) -> dict[str, Any]:
    """A config table's settings by key; a key, a setting only a flag may give, or an unknown one is refused."""
    config = {key.replace("-", "_"): value for key, value in data.items()}
    if "api_key" in config:
        raise InputError(
            f"{name} holds an api_key: keys do not belong in files that get committed; use GEMINI_API_KEY or --api-key"
        )
    flag_only = sorted(key for key in config if key in BY_KEY and not BY_KEY[key].config)
    if flag_only:
        flags = ", ".join(BY_KEY[key].flag for key in flag_only)
        raise InputError(f"{name} sets {', '.join(flag_only)}, which only a flag may set ({flags})")
    unknown = set(config) - CONFIG_KEYS
    if unknown:
        raise InputError(
            f"{name}: unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(CONFIG_KEYS))}"
        )
    return config


def _load_toml(path: Path, name: str) -> dict[str, Any]:
    """One config file, bounded (size, nesting) and decoded as the other inputs are; bad ones are one line."""
    import tomllib  # here: a run with no config file parses no TOML

    from gemini_doctor.inputs import read_text

    text, _ = read_text(str(path), "config", limit=MAX_CONFIG_BYTES)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"config file {name} is not valid TOML ({exc})") from None
    except RecursionError:
        raise InputError(f"config file {name} nests deeper than any config does") from None


def resolve(flags: dict[str, Any], environ: dict[str, str] | None = None, folder: Path | None = None) -> Settings:
    """Flags (None = not given) over environment over config file over defaults; keys are SETTINGS' keys."""
    environ = dict(os.environ if environ is None else environ)
    folder = folder or Path.cwd()
    config, config_name = read_config(folder)
    notes: list[str] = [f"config read from {config_name}"] if config_name else []
    backend = _backend(flags, environ, config, notes)
    values = _api_key(flags, environ, notes)
    values["backend"] = backend
    for setting in SETTINGS:
        if setting.kind is Kind.SECRET or setting.key == "backend":
            continue
        env = VERTEX_ENV.get(setting.key, setting.env) if backend is Backend.VERTEX else setting.env
        given = (flags.get(setting.key), environ.get(env) if env else None, config.get(setting.key))
        for origin, value in zip(("flag", "environment", "config"), given, strict=True):
            if value not in (None, (), ""):
                values[setting.attr] = setting.checked(value)
                if origin == "config":
                    _guard_config(setting, values, config_name or "", folder, env)
                break
    if backend is Backend.VERTEX:
        _vertex_values(values, flags, environ, notes)
    else:
        _gemini_values(values, flags, environ, notes)
    settings = _normalised(Settings(**values), notes)
    _check_selection(settings)
    _check_credentials_file(settings, environ)
    return settings


def _backend(flags: dict[str, Any], environ: dict[str, str], config: dict[str, Any], notes: list[str]) -> Backend:
    """--backend, else google-genai's variables, else a config file's backend, else the Developer API."""
    from gemini_doctor.backend import choose_backend

    flag = BY_KEY["backend"].checked(flags["backend"]) if flags.get("backend") else None
    choice = choose_backend(flag, environ)
    if choice.source == "default" and config.get("backend"):
        return Backend(BY_KEY["backend"].checked(config["backend"]))
    if choice.source in ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE"):
        notes.append(f"backend {choice.backend.value} from {choice.source}, as google-genai reads it")
    return choice.backend


def _gemini_values(values: dict[str, Any], flags: dict[str, Any], environ: dict[str, str], notes: list[str]) -> None:
    """The Developer API takes no location (google-genai refuses one given, ignores GOOGLE_CLOUD_LOCATION)."""
    if flags.get("location"):
        raise InputError(
            "--location applies to Vertex AI only: add --backend vertex (or GOOGLE_GENAI_USE_VERTEXAI=true)"
        )
    values.pop("location", None)
    if "api_version" not in values and environ.get("GOOGLE_GENAI_API_VERSION"):
        wanted = environ["GOOGLE_GENAI_API_VERSION"].strip()
        values["api_version"] = "v1beta" if wanted == "beta" else wanted
        notes.append(f"API version {values['api_version']} from GOOGLE_GENAI_API_VERSION, as google-genai reads it")


def _vertex_values(values: dict[str, Any], flags: dict[str, Any], environ: dict[str, str], notes: list[str]) -> None:
    """Project, location, key, host and version as google-genai sets them under Vertex AI (backend.py)."""
    from gemini_doctor.backend import vertex_api_version, vertex_host, vertex_target

    location = values.get("location")
    if location is not None and not LOCATION_ID.match(location):
        raise InputError(
            f"location {location[:80]!r} is not a location name (lowercase letters, digits and hyphens, e.g. global, "
            "us-central1)"
        )
    place = bool(flags.get("project") or flags.get("location"))
    target = vertex_target(
        values.get("project"), location, place, bool(values.get("api_key")), bool(flags.get("api_key"))
    )
    notes.extend(target.notes)
    if not target.keep_key:
        values.pop("api_key", None), values.pop("api_key_source", None)
    values.update(project=target.project, location=target.location, vertex_express=target.keep_key)
    gemini_url = environ.get("GOOGLE_GEMINI_BASE_URL")
    if gemini_url and not flags.get("backend") and gemini_url != values.get("base_url"):
        notes.append(
            "GOOGLE_GEMINI_BASE_URL is set: google-genai's Client() with Vertex AI chosen only by the environment "
            "sends Vertex requests there (vertexai=True reads GOOGLE_VERTEX_BASE_URL); pass --base-url to check it"
        )
    values.setdefault("base_url", f"https://{vertex_host(target.location)}")
    if "api_version" not in values:
        values["api_version"] = vertex_api_version(environ)
        if environ.get("GOOGLE_GENAI_API_VERSION"):
            notes.append(f"API version {values['api_version']} from GOOGLE_GENAI_API_VERSION, as google-genai reads it")


def _api_key(flags: dict[str, Any], environ: dict[str, str], notes: list[str]) -> dict[str, Any]:
    """The key and where it came from: --api-key, else GOOGLE_API_KEY, else GEMINI_API_KEY (as google-genai)."""
    key, key_source = flags.get("api_key"), "--api-key"
    if not key:
        google, gemini = environ.get("GOOGLE_API_KEY"), environ.get("GEMINI_API_KEY")
        if google and gemini:
            notes.append("both GOOGLE_API_KEY and GEMINI_API_KEY are set: GOOGLE_API_KEY wins, as in google-genai")
        key, key_source = (google, "GOOGLE_API_KEY") if google else (gemini, "GEMINI_API_KEY")
    if not key:
        return {}
    secret = Secret(key)
    _check_sendable(secret.reveal(), key_source)
    return {"api_key": secret, "api_key_source": key_source}


def _check_sendable(key: str, source: str) -> None:
    """A header carries printable ASCII only: a BOM, a non-Latin letter or a control character cannot be sent."""
    import unicodedata

    for position, char in enumerate(key, 1):
        if not " " <= char <= "~":
            name = unicodedata.name(char, "a control character")
            raise InputError(
                f"the API key from {source} has a character that cannot be sent in an HTTP header: U+{ord(char):04X} "
                f"({name}) at position {position}; copy the key again, without it"
            )


def _guard_config(setting: Setting, values: dict[str, Any], config_name: str, folder: Path, env: str | None) -> None:
    """Refuse what a config file sets that could send credentials elsewhere; a request path becomes absolute."""
    value = values[setting.attr]
    if setting.guard_url and not is_google_url(value):
        raise InputError(
            f"{config_name} sets {setting.key} = {_origin(value)!r}, not a Google host (https, under "
            "googleapis.com): a config file (perhaps from a cloned repository) may not choose where your key "
            f"goes; pass {setting.flag} or set {env} to use it"
        )
    if setting.attr == "request_file":
        values["request_file"] = _config_request_path(value, config_name, folder)


def is_google_url(url: str) -> bool:
    """https and a host under googleapis.com (generativelanguage.googleapis.com, *.googleapis.com)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and not parts.username
        and (host == "googleapis.com" or host.endswith(".googleapis.com"))
    )


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL, without any credentials or path, for a message."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return url[:80]


def _config_request_path(value: str, config_name: str, folder: Path) -> str:
    """A request file a config names: a regular file inside the config's folder (a symlink may not lead out)."""
    base = folder.resolve()
    given = Path(value)
    path = (given if given.is_absolute() else base / given).resolve()
    said = f"{config_name} sets request = {value!r}"
    if not path.is_relative_to(base):
        raise InputError(
            f"{said}, outside the folder of {config_name}: a config file (perhaps from a cloned repository) may "
            "only name a request file in its own folder, or it could send any file; pass --request to use it"
        )
    if not path.exists():
        raise InputError(f"{said}, which does not exist in {str(base)!r}")
    if not path.is_file():
        raise InputError(f"{said}, which is not a regular file; pass --request to use it")
    return str(path)


def _normalised(settings: Settings, notes: list[str]) -> Settings:
    """A base URL that carries the version split off, `models/` dropped, URLs and the version validated."""
    base = settings.base_url.rstrip("/")
    for version in ("/v1beta1", "/v1beta", "/v1") if settings.vertex else ("/v1beta", "/v1"):
        if base.endswith(version):  # a base URL that already carries the version
            base = base[: -len(version)]
            notes.append(f"base URL ended in {version}: read as base {base} with API version {version[1:]}")
            settings = replace(settings, api_version=version[1:])
    if settings.model and settings.model.startswith("models/"):
        settings = replace(settings, model=settings.model.removeprefix("models/"))
    _validate_url(base, "base URL")
    if settings.gcp_endpoint:
        _validate_url(settings.gcp_endpoint, "GCP endpoint")
    versions = VERTEX_API_VERSIONS if settings.vertex else API_VERSIONS
    if settings.api_version not in versions:
        raise InputError(f"unknown API version {settings.api_version!r}; use one of {', '.join(versions)}")
    if settings.project and not PROJECT_ID.match(settings.project):
        raise InputError(
            f"project {settings.project[:80]!r} is not a Google Cloud project ID or number (letters, digits, "
            "hyphens, e.g. my-project-123)"
        )
    return replace(settings, base_url=base, notes=tuple(notes))


def _check_selection(settings: Settings) -> None:
    both = sorted(set(settings.only) & set(settings.skip))
    if both:
        raise InputError(f"--only and --skip both name {', '.join(both)}: nothing would run; keep one of them")


def _check_credentials_file(settings: Settings, environ: dict[str, str]) -> None:
    """GOOGLE_APPLICATION_CREDENTIALS must name a small regular file: google-auth would read a device forever."""
    name = environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not name or not ((settings.project and not settings.gcp_is_local) or settings.needs_adc):
        return
    label = f"GOOGLE_APPLICATION_CREDENTIALS points at {name[:200]!r}"
    try:
        mode, size = os.stat(name).st_mode, os.stat(name).st_size
    except FileNotFoundError:
        return  # google-auth says so itself ("no Application Default Credentials")
    except OSError as exc:
        raise InputError(f"{label}, which cannot be read ({exc.strerror or exc})") from None
    fix = "point it at the JSON file `gcloud auth application-default login` or the console wrote, or unset it"
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise InputError(f"{label}, which is {kind}: {fix}")
    if size > MAX_CREDENTIALS_BYTES:
        raise InputError(f"{label}, a file of {size} bytes: a credentials file is a few kilobytes; {fix}")
    if not os.access(name, os.R_OK):
        raise InputError(f"{label}, which cannot be read (permission denied): {fix}")


def _validate_url(url: str, what: str) -> None:
    """An http(s) URL whose host could be looked up and whose port is one (else a usage error before any request)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a port that is not a number from 0 to 65535
    except ValueError as exc:
        raise InputError(f"{what} {url!r} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InputError(
            f"{what} {url!r} is not an http(s) URL with a host, e.g. https://generativelanguage.googleapis.com"
        )
    if ":" not in host and (BAD_HOST.search(host) or "" in host.split(".")[:-1]):
        raise InputError(f"{what} {url!r} has a host name no server can have ({host!r})")
    if "?" in url or "#" in url:  # the paths the doctor appends would become part of a query or fragment
        raise InputError(f"{what} {url!r} has a query or fragment; give the scheme, host and path only")


BAD_HOST = re.compile(r"[\s%/\\@?#\x00-\x1f\x7f]")
