"""Scenario definitions, read from scenarios.toml: account state plus how the server answers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Quota:
    quota_id: str
    metric: str
    refresh: str  # "minute" | "day"
    value: int


@dataclass(frozen=True)
class Scenario:
    slug: str
    title: str
    description: str
    source: str
    checked: dt.date
    billing_enabled: bool
    api_enabled: bool
    quotas: tuple[Quota, ...]
    serve_retired: tuple[str, ...]
    lowercase_size: str
    strip_image_config: bool
    answer: str  # "image" | "error" | "no-image"
    error_on: str  # "generate" | "all"
    check_args: tuple[str, ...]
    error: dict[str, Any] = field(default_factory=dict)
    finish_reason: str | None = None
    finish_message: str | None = None
    v1_generation_config: str = "current"  # "current" | "proto-2025-12" (v1 refuses image fields)
    backend: str = "gemini"  # whose cause this is: "gemini" (the Developer API) | "vertex" (Vertex AI)
    developer: str = "same"  # how the Developer API routes answer: "same" (this scenario) or another's slug
    vertex: str = "same"  # how the Vertex AI routes answer: "same" or another scenario's slug
    vertex_error: dict[str, Any] = field(default_factory=dict)  # `error` in Vertex's words (with vertex = "same")
    vertex_quotas: tuple[Quota, ...] = ()  # Cloud Quotas for aiplatform.googleapis.com
    call: dict[str, Any] = field(default_factory=dict)  # the reproducing Vertex call: model, location, method
    error_if_header: dict[str, str] = field(default_factory=dict)  # fail only requests with these headers

    def on(self, api: str) -> Scenario:
        """The scenario the routes of `api` ("gemini" or "vertex") answer as."""
        slug = self.vertex if api == "vertex" else self.developer
        if slug == "same":
            return dataclasses.replace(self, error=self.vertex_error) if api == "vertex" and self.vertex_error else self
        other = find_scenario(slug)
        if other is None:
            raise ValueError(f"scenario {self.slug!r}: no scenario {slug!r} for its {api} routes")
        return other

    @property
    def model(self) -> str | None:
        """The model the reproducing check uses, when the scenario names one."""
        args = list(self.check_args)
        return args[args.index("--model") + 1] if "--model" in args else None


def _load() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    text = resources.files(__package__).joinpath("scenarios.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return data["defaults"], data["scenario"]


@cache
def scenarios() -> tuple[Scenario, ...]:
    defaults, raws = _load()
    result = []
    for raw in raws:
        merged = {**{k: v for k, v in defaults.items() if k != "source"}, **raw}
        merged["quotas"] = tuple(Quota(**q) for q in merged["quotas"])
        merged["vertex_quotas"] = tuple(Quota(**q) for q in merged.get("vertex_quotas", ()))
        merged["serve_retired"] = tuple(merged["serve_retired"])
        merged["check_args"] = tuple(merged["check_args"])
        result.append(Scenario(**merged))
    return tuple(result)


def find_scenario(slug: str) -> Scenario | None:
    return next((s for s in scenarios() if s.slug == slug), None)
