"""The Vertex AI routes: Gemini models as publisher models, as google-genai calls them with `vertexai=True`.

    /{v1,v1beta1}/projects/P/locations/L/publishers/google/models/M:generateContent   (also :streamGenerateContent,
                                                                                       :countTokens, :predict,
                                                                                       :rawPredict)
    /{v1,v1beta1}/publishers/google/models/M:generateContent                          (express mode: an API key)
    GET /{v1,v1beta1}/publishers/google/models[/M]                                    (models.list / models.get)

Credentials are `Authorization: Bearer <token>` (any non-empty token) or an API key (`x-goog-api-key`, express
mode). Where each model is served, Vertex's own request fields and Google's words are data in api.toml [vertex];
how a scenario answers here is Scenario.on("vertex") (scenarios.toml).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gemini_doctor.emulator.errors import ApiError
from gemini_doctor.emulator.gemini import Emulator
from gemini_doctor.emulator.paging import page
from gemini_doctor.emulator.streaming import rendered, stream_answer
from gemini_doctor.emulator.tables import (
    ApiModel,
    api_model,
    paging,
    vertex_info,
    vertex_locations,
    vertex_serves_gemini,
)

VERTEX_PATH = re.compile(
    r"^/(v1|v1beta1)/(?:projects/([^/]+)/locations/([^/]+)/)?publishers/google/models(?:/([^:/]+)(?::(\w+))?)?/?$"
)
GENERATE_METHODS = ("generateContent", "streamGenerateContent", "countTokens")
PREDICT_METHODS = ("predict", "rawPredict")
EXPRESS_LOCATION = "global"  # express mode (an API key, no project) is served on the global endpoint

BodyReader = Callable[[Request], Awaitable[Any]]


def messages() -> dict[str, str]:
    return vertex_info()["messages"]


def check_credentials(request: Request, query: dict[str, str]) -> None:
    """A Bearer token (any non-empty one) or an API key (express mode); neither: 401 UNAUTHENTICATED."""
    if request.headers.get("x-goog-api-key") or query.get("key"):
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return
    raise ApiError(401, "UNAUTHENTICATED", messages()["unauthenticated"])


def resource_of(project: str | None, location: str | None, name: str | None) -> dict[str, str]:
    """The names a Vertex error quotes: {project}, {location}, {resource}."""
    model = f"publishers/google/models/{name or ''}"
    if project is None:
        return {"project": "", "location": EXPRESS_LOCATION, "resource": model}
    location = location or EXPRESS_LOCATION
    return {"project": project, "location": location, "resource": f"projects/{project}/locations/{location}/{model}"}


def lookup(emulator: Emulator, name: str, where: dict[str, str], located: bool = True) -> ApiModel:
    """The model served at this location, or Google's 404 (`located` False: a publisher model, any location)."""
    model = api_model(name)
    location = where["location"]
    missing = messages()["not_in_location"].replace("{resource}", where["resource"])
    if model is None or not emulator.served(model):
        raise ApiError(404, "NOT_FOUND", missing)
    if located and not vertex_serves_gemini(location):
        raise ApiError(404, "NOT_FOUND", missing)
    if located and location not in vertex_locations(model.id):
        raise ApiError(404, "NOT_FOUND", messages()["model_elsewhere"].replace("{resource}", where["resource"]))
    return model


def publisher_model(model: ApiModel) -> dict[str, Any]:
    """A PublisherModel resource (aiplatform v1beta1 publishers.models.get)."""
    return {
        "name": f"publishers/google/models/{model.id}",
        "versionId": "001",
        "openSourceCategory": "PROPRIETARY",
        "launchStage": "GA",
        "versionState": "VERSION_STATE_STABLE",
        "publisherModelTemplate": f"projects/{{project}}/locations/{{location}}/publishers/google/models/{model.id}",
    }


def list_models(emulator: Emulator, query: dict[str, str]) -> dict[str, Any]:
    models, token = page(emulator.served_models(), "models", query, paging("models"))
    result: dict[str, Any] = {"publisherModels": [publisher_model(m) for m in models]}
    if token:
        result["nextPageToken"] = token
    return result


def escapes_error(emulator: Emulator, request: Request) -> bool:
    """Whether this request escapes the scenario's error: it lacks a header the error needs (error_if_header)."""
    wanted = emulator.scenario.error_if_header
    return any(request.headers.get(k, "").lower() != v.lower() for k, v in wanted.items())


async def vertex_answer(
    main: Emulator, request: Request, match: re.Match[str], query: dict[str, str], read_body: BodyReader
) -> dict[str, Any] | Response:
    """Every Vertex route; `main` is the app's emulator (its Vertex world is main.backend("vertex"))."""
    version, project, location, name, method = match.groups()
    emulator = main.backend("vertex")
    check_credentials(request, query)
    where = resource_of(project, location, name)
    if emulator.fails_everything():
        raise emulator.scenario_error(api_model(name) if name else None, where)
    if request.method == "GET" and method is None:
        return list_models(emulator, query) if name is None else publisher_model(lookup(emulator, name, where, False))
    if request.method == "POST" and name and method in PREDICT_METHODS:
        lookup(emulator, name, where)
        raise ApiError(400, messages()["predict_status"], messages()["predict"])
    if request.method == "POST" and name and method in GENERATE_METHODS:
        model = lookup(emulator, name, where)
        body = await read_body(request)
        if method == "countTokens":
            return emulator.count_tokens(model, version, body)
        may_fail = not escapes_error(emulator, request)
        if method == "streamGenerateContent":
            sse = query.get("alt") == "sse"
            return await stream_answer(emulator, model, version, body, sse, where=where, may_fail=may_fail)
        return await rendered(emulator, emulator.generate(model, version, body, where, may_fail))
    raise ApiError(404, "NOT_FOUND", f"Method not found: {request.method} {match.group(0)}")
