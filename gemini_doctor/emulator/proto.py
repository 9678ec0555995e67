"""Requests read as Google's proto-JSON front end reads them: every field known, of the right type, enums named.

The wording is the transcoder's, as observed on Google APIs that share it (verbatim in a Docs API study in the code
corpus, and for Gemini in cookbook Get_started_thinking_REST.ipynb and googleapis/js-genai#1322):

- unknown field:  Invalid JSON payload received. Unknown name "X" at 'generation_config': Cannot find field.
                  (no `at` clause at the top level; the path is snake_case, the name echoed as sent)
- list where a single value goes: Invalid JSON payload received. Unknown name "X" at 'P': Proto field is not
                  repeating, cannot start list.
- wrong value:    Invalid value at 'generation_config.candidate_count' (TYPE_INT32), "abc"
                  Invalid value at 'contents[0]' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content), 5
                  Invalid value at 'generation_config.response_modalities[0]'
                  (type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig.Modality), "VIDEO"

Field names are accepted in lowerCamelCase and as the proto's snake_case (the proto3 JSON mapping); enum names
without regard to case (Google's own samples send "Image"), or as numbers; integers as JSON numbers or decimal
strings, as proto JSON allows. Every violation is reported, one line and one BadRequest fieldViolation each.
A single value where a list goes is refused here; whether Google accepts it is UNCONFIRMED.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from gemini_doctor.emulator.errors import ApiError, invalid_argument, unknown_field
from gemini_doctor.emulator.tables import FieldType, camel, enum, message_fields

INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
TYPE_NAMES = {
    "string": "TYPE_STRING",
    "bytes": "TYPE_BYTES",
    "bool": "TYPE_BOOL",
    "int32": "TYPE_INT32",
    "int64": "TYPE_INT64",
    "float": "TYPE_FLOAT",
}
DECIMAL = re.compile(r"-?\d{1,20}")
SHOWN_CHARS = 80


@dataclass
class Reader:
    """One request being read: the API version (it names the types in errors) and what went wrong so far."""

    version: str
    only: dict[str, frozenset[str]] = field(default_factory=dict)  # message -> the fields it has here, if fewer
    violations: list[tuple[str, str]] = field(default_factory=list)
    api: str = "gemini"  # "vertex": Vertex's messages (more fields) and type names

    def fail(self, where: str, description: str) -> None:
        self.violations.append((where, description))

    def type_url(self, name: str) -> str:
        package = "google.cloud.aiplatform" if self.api == "vertex" else "google.ai.generativelanguage"
        return f"type.googleapis.com/{package}.{self.version}.{name}"

    def invalid(self, where: str, type_name: str, value: Any) -> None:
        self.fail(where, f"Invalid value at '{where}' ({type_name}), {shown(value)}")

    def error(self) -> ApiError:
        return invalid_argument("\n".join(d for _, d in self.violations), self.violations)


def shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def read_request(
    message: str, body: Any, version: str, only: dict[str, frozenset[str]] | None = None, api: str = "gemini"
) -> dict:
    """The body as a proto message (camelCase keys, enums by name, numbers parsed), or Google's 400."""
    reader = Reader(version, only or {}, api=api)
    if not isinstance(body, dict):
        raise invalid_argument('Invalid JSON payload received. Unknown name "": Root element must be a message.')
    result = read_message(reader, message, body, "")
    if reader.violations:
        raise reader.error()
    return result


def read_message(reader: Reader, message: str, value: dict[str, Any], where: str) -> dict[str, Any]:
    fields = message_fields(message, reader.api)
    allowed = reader.only.get(message)
    result: dict[str, Any] = {}
    for key, item in value.items():
        name = key if key in fields else _snake_of(key, fields)
        if name is None or (allowed is not None and name not in allowed):
            reader.violations.append(unknown_field(key, where))
            continue
        if item is None:  # proto JSON: null is the field's default
            continue
        kind = fields[name]
        path = f"{where}.{name}" if where else name
        if isinstance(item, list) and not kind.repeated:
            place = f" at '{where}'" if where else ""
            reader.fail(
                where or name,
                f'Invalid JSON payload received. Unknown name "{key}"{place}: Proto field is not repeating, '
                "cannot start list.",
            )
            continue
        parsed = read_repeated(reader, kind, item, path) if kind.repeated else read_value(reader, kind, item, path)
        if parsed is not None:
            result[camel(name)] = parsed
    return result


def _snake_of(key: str, fields: dict[str, FieldType]) -> str | None:
    """The proto name a lowerCamelCase key stands for (the JSON name is the camelCase of the proto name)."""
    return next((name for name in fields if camel(name) == key), None)


def read_repeated(reader: Reader, kind: FieldType, value: Any, where: str) -> list[Any] | None:
    if not isinstance(value, list):
        reader.invalid(where, type_label(reader, kind), value)
        return None
    items = [read_value(reader, kind, item, f"{where}[{index}]") for index, item in enumerate(value)]
    return [item for item in items if item is not None]


def type_label(reader: Reader, kind: FieldType) -> str:
    if kind.kind == "enum":
        return reader.type_url(enum(kind.name).type)
    if kind.kind == "message":
        return reader.type_url(kind.name)
    if kind.kind == "object":
        return "type.googleapis.com/google.protobuf.Struct"
    return TYPE_NAMES.get(kind.kind, kind.kind)


def read_value(reader: Reader, kind: FieldType, value: Any, where: str) -> Any:
    """One value of a field (an element, for a repeated one); None when it is refused (the reader says why)."""
    if kind.kind == "any":
        return value
    if kind.kind in ("message", "object"):
        if not isinstance(value, dict):
            reader.invalid(where, type_label(reader, kind), value)
            return None
        return value if kind.kind == "object" else read_message(reader, kind.name, value, where)
    if kind.kind == "enum":
        return read_enum(reader, kind, value, where)
    parsed = read_scalar(kind.kind, value)
    if parsed is None:
        if kind.kind == "bytes" and isinstance(value, str):
            reader.fail(where, f"Invalid value at '{where}' (TYPE_BYTES), Base64 decoding failed for {shown(value)}")
        else:
            reader.invalid(where, type_label(reader, kind), value)
    return parsed


def read_enum(reader: Reader, kind: FieldType, value: Any, where: str) -> str | None:
    values = enum(kind.name).values
    if isinstance(value, str):
        match = next((v for v in values if v == value.upper()), None)
        if match is not None:
            return match
    elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(values):
        return values[value]
    reader.invalid(where, type_label(reader, kind), value)
    return None


def read_scalar(kind: str, value: Any) -> Any:
    """A scalar as proto JSON reads it, or None when the value cannot be one."""
    if kind == "string":
        return value if isinstance(value, str) else None
    if kind == "bool":
        return value if isinstance(value, bool) else None
    if kind in INT_RANGES:
        return read_int(kind, value)
    if kind == "float":
        return read_float(value)
    if kind == "bytes":
        return read_bytes(value)
    return None


def read_int(kind: str, value: Any) -> int | None:
    low, high = INT_RANGES[kind]
    number: int | None = None
    integral = isinstance(value, float) and math.isfinite(value) and value.is_integer()
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif integral or (isinstance(value, str) and DECIMAL.fullmatch(value)):
        number = int(value)
    return number if number is not None and low <= number <= high else None


def read_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return float(value.lower().replace("infinity", "inf"))
    if isinstance(value, str):
        try:
            return float(value) if re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", value) else None
        except ValueError:
            return None
    return None


def read_bytes(value: Any) -> str | None:
    """Base64 (standard or URL-safe, padding optional), kept as sent."""
    if not isinstance(value, str):
        return None
    text = value.replace("-", "+").replace("_", "/")
    try:
        base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return value
