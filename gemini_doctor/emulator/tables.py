"""The emulator's own API tables (api.toml), typed: models served, request messages, enums, paging.

Nothing here reads the doctor's knowledge: the emulator is a second, independent account of the API, so a test can
compare the two tables and a wrong doctor table cannot pass the scenario tests by construction.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

VERSIONS = ("v1beta", "v1")
IMAGE_FIELDS = ("response_modalities", "image_config")


@dataclass(frozen=True)
class ApiModel:
    """One model as the emulated API serves it."""

    id: str
    kind: str  # "image" | "text"
    served: bool
    source: str
    output_modalities: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    requires_text_modality: bool = False
    image_sizes: tuple[str, ...] = ()
    default_size: str = "1K"
    unsupported_size: str = "reject"
    aspect_ratios: tuple[str, ...] = ()
    output_format: str = "png"
    openai_images: bool = False
    image_tokens: dict[str, int] = field(default_factory=dict)
    pixels: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)

    @property
    def makes_images(self) -> bool:
        return "IMAGE" in self.output_modalities

    def pixel_size(self, size: str, ratio: str) -> tuple[int, int]:
        """The literal table's pixel size; every size and ratio the model takes has one (a test checks)."""
        width, height = self.pixels[size][ratio]
        return width, height


@dataclass(frozen=True)
class Paging:
    default_page_size: int
    max_page_size: int


@dataclass(frozen=True)
class Enum:
    name: str
    type: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class FieldType:
    """One field's type as written in api.toml: `repeated`, then a scalar, `enum NAME` or a message name."""

    repeated: bool
    kind: str  # a scalar name, "enum" or "message"
    name: str  # the scalar, enum or message name

    @classmethod
    def parse(cls, text: str) -> FieldType:
        repeated = text.startswith("repeated ")
        rest = text.removeprefix("repeated ")
        if rest.startswith("enum "):
            return cls(repeated, "enum", rest.removeprefix("enum "))
        if rest in SCALARS:
            return cls(repeated, rest, rest)
        return cls(repeated, "message", rest)


SCALARS = ("string", "bytes", "bool", "int32", "int64", "float", "any", "object")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


@cache
def _data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("api.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _model(raw: dict[str, Any]) -> ApiModel:
    values = {k: v for k, v in raw.items() if k not in ("checked", "pixels_source")}
    for key in ("aliases", "output_modalities", "image_sizes", "aspect_ratios"):
        if key in values:
            values[key] = tuple(values[key])
    tables = raw.get("pixels", {})
    values["pixels"] = {size: {r: (p[0], p[1]) for r, p in rows.items()} for size, rows in tables.items()}
    return ApiModel(**values)


@cache
def api_models() -> tuple[ApiModel, ...]:
    return tuple(_model(raw) for raw in _data()["model"])


def api_model(name: str) -> ApiModel | None:
    """The model of exactly this id (an alias is not a callable name)."""
    return next((m for m in api_models() if m.id == name), None)


@cache
def paging(kind: str) -> Paging:
    raw = _data()["paging"][kind]
    return Paging(raw["default_page_size"], raw["max_page_size"])


@cache
def message_fields(message: str, api: str = "gemini") -> dict[str, FieldType]:
    """A message's fields by proto (snake_case) name; with api="vertex", plus the fields only Vertex's has."""
    raw = dict(_data()["message"].get(message, {}))
    if api == "vertex":
        raw.update(_data()["vertex_message"].get(message, {}))
    return {name: FieldType.parse(text) for name, text in raw.items() if name != "source"}


@cache
def enum(name: str) -> Enum:
    raw = _data()["enum"].get(name) or _data()["vertex_enum"][name]
    return Enum(name, raw["type"], tuple(raw["values"]))


@cache
def vertex_info() -> dict[str, Any]:
    """The [vertex] table: versions, package, service, locations, model locations, messages, quotas."""
    return dict(_data()["vertex"])


def vertex_locations(model_id: str) -> tuple[str, ...]:
    """Where Vertex serves this model (global only when the table does not list it)."""
    return tuple(vertex_info()["model_locations"].get(model_id, ["global"]))


def vertex_serves_gemini(location: str) -> bool:
    return location in vertex_info()["locations"]["gemini"]


@cache
def v1_proto_2025_generation_fields() -> frozenset[str]:
    """GenerationConfig's fields in the public v1 proto of Dec 2025 (what the wrong-endpoint scenario parses)."""
    return frozenset(_data()["v1_proto_2025"]["GenerationConfig"]["fields"])


@cache
def version_info(version: str) -> dict[str, Any]:
    return dict(_data()["version"][version])
