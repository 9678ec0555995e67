"""Which backend `check` talks to, decided as google-genai decides it, and where Vertex AI is reached.

google-genai (`_api_client.BaseApiClient.__init__`, 3.x): GOOGLE_GENAI_USE_ENTERPRISE, else GOOGLE_GENAI_USE_VERTEXAI
("true" or "1", any case) selects Vertex AI; the flag `--backend` beats both. With Vertex AI:
- an API key alone (no project, no location) is express mode: requests go to aiplatform.googleapis.com without a
  project in the path, the key in `x-goog-api-key`;
- otherwise project and location win over an API key from the environment, and the location defaults to `global`;
- the host is aiplatform.googleapis.com for `global`, aiplatform.{us,eu}.rep.googleapis.com for the multi-regions,
  {location}-aiplatform.googleapis.com for a region; GOOGLE_VERTEX_BASE_URL replaces it;
- the API version is v1beta1 unless GOOGLE_GENAI_API_VERSION says otherwise ("beta" meaning v1beta1).
Pure: no I/O beyond the packaged knowledge file, no network.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

TRUE_WORDS = ("true", "1")  # google-genai: env_vertexai_str.lower() in ['true', '1']
BACKEND_VARIABLES = ("GOOGLE_GENAI_USE_ENTERPRISE", "GOOGLE_GENAI_USE_VERTEXAI")  # the first one set wins
VERTEX_API_VERSIONS = ("v1beta1", "v1")
DEFAULT_LOCATION = "global"


class Backend(StrEnum):
    GEMINI = "gemini"  # the Gemini Developer API (generativelanguage.googleapis.com, an API key)
    VERTEX = "vertex"  # Vertex AI (aiplatform.googleapis.com, a project, a location, ADC)


@dataclass(frozen=True)
class Choice:
    backend: Backend
    source: str  # the flag or variable that chose it, or "default"


def choose_backend(flag: str | None, environ: dict[str, str]) -> Choice:
    """--backend, else google-genai's variables, else the Developer API."""
    if flag:
        return Choice(Backend(flag), "--backend")
    for name in BACKEND_VARIABLES:
        value = environ.get(name)
        if value is not None:
            return Choice(Backend.VERTEX if value.strip().lower() in TRUE_WORDS else Backend.GEMINI, name)
    return Choice(Backend.GEMINI, "default")


@dataclass(frozen=True)
class VertexTarget:
    """Who and where, once google-genai's precedence is applied."""

    project: str | None
    location: str | None
    keep_key: bool  # the API key is sent (express mode, or given with the project); else ADC authorises
    notes: tuple[str, ...] = ()


def vertex_target(
    project: str | None, location: str | None, explicit_place: bool, has_key: bool, explicit_key: bool
) -> VertexTarget:
    """google-genai's rules for project, location and key under Vertex AI. `explicit_*`: given as flags (its
    constructor arguments) rather than read from the environment or a config file."""
    notes: list[str] = []
    if has_key and explicit_key and not explicit_place and (project or location):
        notes.append("an API key given as a flag wins over the project/location read elsewhere: Vertex AI express mode")
        project = location = None
    elif has_key and (project or location) and not (explicit_key and explicit_place):
        notes.append("project/location win over the API key read from the environment (as in google-genai): not sent")
        has_key = False
    if has_key and not project and not location:
        notes.append("Vertex AI express mode: an API key and no project or location")
        return VertexTarget(None, None, True, tuple(notes))
    if not location and not has_key:
        location = DEFAULT_LOCATION
        notes.append("no location (--location, GOOGLE_CLOUD_LOCATION): global, as google-genai defaults")
    return VertexTarget(project, location, has_key, tuple(notes))


def vertex_api_version(environ: dict[str, str]) -> str:
    wanted = (environ.get("GOOGLE_GENAI_API_VERSION") or "").strip()
    return "v1beta1" if not wanted or wanted == "beta" else wanted


@cache
def _data() -> dict[str, Any]:
    import tomllib  # here: most runs never read this table, and tomllib costs some 6 ms of start-up
    from importlib import resources

    return tomllib.loads(resources.files("gemini_doctor.knowledge").joinpath("vertex.toml").read_text("utf-8"))


def service_name() -> str:
    return str(_data()["service"]["name"])


def quota_metric() -> tuple[str, str]:
    """(metric, dimension) of the per-base-model request quota."""
    service = _data()["service"]
    return str(service["quota_metric"]), str(service["quota_dimension"])


def known_locations() -> tuple[str, ...]:
    table = _data()["locations"]
    return (*table["global"], *table["multi_region"], *table["regions"])


def locations_source() -> str:
    return str(_data()["locations"]["source"])


def vertex_host(location: str | None) -> str:
    """The host google-genai sends to for this location (express mode, no location: the global host)."""
    table = _data()["locations"]
    if not location or location in table["global"]:
        return "aiplatform.googleapis.com"
    if location in table["multi_region"]:
        return f"aiplatform.{location}.rep.googleapis.com"
    return f"{location}-aiplatform.googleapis.com"


def location_problem(location: str | None) -> str | None:
    """Why Google would not serve this location (not in its list), with the closest ones; None when listed."""
    if location is None or location in known_locations():
        return None
    import difflib

    close = difflib.get_close_matches(location, known_locations(), n=3, cutoff=0.6)
    near = f"; closest: {', '.join(close)}" if close else ""
    return f"location {location!r} is not in Google's list of Generative AI on Vertex AI locations{near}"


@dataclass(frozen=True)
class Served:
    served: bool | None  # None: the table does not say
    locations: tuple[str, ...]
    source: str


def model_served(model: str, location: str | None, preview: bool) -> Served:
    """Whether the table says `model` is served at `location` (None when it cannot say)."""
    where = location or DEFAULT_LOCATION
    for entry in _data()["model"]:
        if entry["id"] == model:
            listed = tuple(entry["locations"])
            if where in listed:
                return Served(True, listed, entry["source"])
            return Served(False if entry["complete"] else None, listed, entry["source"])
    rule = _data()["preview"]
    if preview and rule["global_only"]:
        return Served(where == "global", ("global",), rule["source"])
    return Served(None, (), "")


def vertex_equivalent(slug: str) -> str | None:
    """The Vertex AI cause a Developer-API name stands for on a Vertex answer, when it has exactly one."""
    return _data()["equivalents"].get(slug)
