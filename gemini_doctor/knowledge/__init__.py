"""The doctor's knowledge: the error catalog and the model table, read from TOML shipped in the package.

Facts live in `errors.toml` and `models.toml` (each with `source` and `checked`) so they can be corrected
without touching code; this module only turns them into frozen, typed records.
"""

from __future__ import annotations

import datetime as dt
import difflib
import marshal
import os
import zlib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

SERVICE = "generativelanguage.googleapis.com"  # the Gemini API's service name in Service Usage and Cloud Quotas
CATEGORIES = ("hard-error", "silent-failure", "ignored-setting")
ESTABLISHED = ("official", "community-reported", "historical")
MODEL_STATUSES = ("ga", "preview", "deprecated", "shut-down")
SIZE_SCALE = {"512": 0.5, "1K": 1.0, "2K": 2.0, "4K": 4.0}


def _round16(value: float) -> int:
    return max(16, round(value / 16) * 16)


@dataclass(frozen=True)
class Signature:
    """How one error type is recognised: every condition given must hold (see errors.toml's header)."""

    slug: str
    id: str
    source: str
    checked: dt.date
    confidence: str = "certain"
    http: tuple[int, ...] = ()
    grpc: tuple[str, ...] = ()
    reason: tuple[str, ...] = ()
    finish: tuple[str, ...] = ()
    block: bool = False
    message: tuple[str, ...] = ()
    layer: tuple[str, ...] = ()  # the Google API that answered, by its layer name (readers.toml), e.g. "Vertex AI"
    judge: str | None = None
    weight: int = 0
    hint: str | None = None
    provenance: str | None = None  # internal: this project's notes behind it; never rendered


@dataclass(frozen=True)
class Layer:
    """A layer an error can come from or pass through: Google, a relay, a client library, an app."""

    name: str
    kind: str
    source: str
    checked: dt.date
    markers: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()


@cache
def layers() -> tuple[Layer, ...]:
    """The layers an error can pass through, in the order they are reported."""
    return tuple(Layer(**_listed_as_tuples(raw)) for raw in _read("readers.toml")["layer"])


@dataclass(frozen=True)
class ErrorType:
    """One entry of the error catalog: a failure with a stable code and slug."""

    code: str
    slug: str
    title: str
    category: str
    symptom: str
    cause: str
    applies_when: str
    fix: tuple[str, ...]
    retryable: bool
    retry_advice: str
    docs: str
    established: str
    source: str
    checked: dt.date
    http_status: int | None = None
    grpc_status: str | None = None
    article: str | None = None  # internal: the 2026-03 article's claim and its verdict; never rendered
    provenance: str | None = None  # internal: this project's notes behind it; never rendered
    signatures: tuple[Signature, ...] = ()


@cache
def error_types() -> tuple[ErrorType, ...]:
    """The catalog, in code order."""
    entries = []
    for raw in _read("errors.toml")["error"]:
        raw = dict(raw)
        raw["fix"] = tuple(raw["fix"])
        raw["signatures"] = tuple(_signature(raw["slug"], sig) for sig in raw.pop("signature", ()))
        entries.append(ErrorType(**raw))
    return tuple(entries)


def _signature(slug: str, raw: dict) -> Signature:
    return Signature(slug=slug, **_listed_as_tuples(raw))


@dataclass(frozen=True)
class Model:
    """One image model as the built-in table knows it; the live model list wins over it."""

    id: str
    family: str
    status: str
    source: str
    checked: dt.date
    image_sizes: tuple[str, ...]
    default_size: str
    unsupported_size: str
    aspect_ratios: tuple[str, ...]
    output_format: str
    image_config_versions: tuple[str, ...]
    openai_images: bool
    makes_images: bool = True
    requires_text_modality: bool = False
    recommended: bool = False
    aliases: tuple[str, ...] = ()
    released: dt.date | None = None
    deprecated: dt.date | None = None
    shutdown: dt.date | None = None
    shutdown_note: str | None = None
    replacement: str | None = None
    price_usd: dict[str, float] = field(default_factory=dict)
    price_source: str | None = None
    image_tokens: dict[str, int] = field(default_factory=dict)
    pixels: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    pixels_source: str | None = None
    provenance: str | None = None  # internal: this project's notes behind it; never rendered

    @property
    def is_shut_down(self) -> bool:
        return self.status == "shut-down"

    def pixel_size(self, size: str, ratio: str) -> tuple[int, int] | None:
        """The documented pixel size for an imageSize and aspectRatio, or None where no table says."""
        return self.pixels.get(size, {}).get(ratio)

    def expected_size(self, size: str, ratio: str) -> tuple[int, int]:
        """The documented size, else one derived from the 1K row (scaled by the tier), else from the ratio.

        Derived sizes are an estimate for undocumented combinations (e.g. 2K at 1:4); they keep the ratio and
        the tier's area, rounded to multiples of 16 as the documented ones are.
        """
        documented = self.pixel_size(size, ratio)
        if documented:
            return documented
        scale = SIZE_SCALE.get(size, 1.0)
        base = self.pixel_size("1K", ratio)
        if base is None:
            left, right = (float(x) for x in ratio.split(":"))
            side = 1024 * (left / right) ** 0.5
            base = (side, 1024 * 1024 / side)
        return (_round16(base[0] * scale), _round16(base[1] * scale))


def _read(name: str) -> dict:
    """A knowledge file, parsed. The TOML is the source; a marshal copy keyed by the text's checksum is kept in
    __pycache__ (as Python keeps bytecode there), because parsing the catalog is most of `explain`'s start-up.
    A copy that cannot be read or written is simply not used."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    cached = Path(__file__).with_name("__pycache__") / f"{name}.{zlib.crc32(text.encode()):08x}.{len(text)}.marshal"
    try:
        return _revive(marshal.loads(cached.read_bytes()))
    except (OSError, ValueError, EOFError, TypeError):
        pass
    import tomllib  # here: the marshal copy is read on every run but the first

    data = tomllib.loads(text)
    try:
        cached.parent.mkdir(exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(marshal.dumps(_frozen(data)))  # type: ignore[arg-type]
        partial.replace(cached)
    except (OSError, ValueError):
        pass
    return data


def _frozen(value: object) -> object:
    """Dates as tagged tuples, since marshal keeps only plain types."""
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_frozen(v) for v in value]
    if isinstance(value, dt.date):
        return ("\x00date", value.isoformat())
    return value


def _revive(value: object) -> dict:
    def walk(item: object) -> object:
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        if isinstance(item, tuple) and len(item) == 2 and item[0] == "\x00date":
            return dt.date.fromisoformat(item[1])
        return item

    revived = walk(value)
    if not isinstance(revived, dict):
        raise ValueError("not a knowledge file")
    return revived


@cache
def network_markers() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Words clients print for each kind of network failure, in the order they are tried."""
    return tuple((raw["kind"], tuple(raw["markers"])) for raw in _read("readers.toml")["network"])


@dataclass(frozen=True)
class Retired:
    """A model Google has shut down that the model table does not carry (text models, the Imagen family).

    `only_on` names the one API that ever served the ids ("vertex"): elsewhere such an id was never a model."""

    pattern: str
    replacement: str
    note: str
    source: str
    checked: dt.date
    only_on: str = ""


@cache
def retired_models() -> tuple[Retired, ...]:
    return tuple(Retired(**raw) for raw in _read("readers.toml").get("retired", ()))


def find_retired(name: str) -> Retired | None:
    """The retirement that covers a model id, if any, on whichever API served it (`only_on` says which; a live
    models.list still wins in `check`)."""
    import re

    key = name.strip().removeprefix("models/")
    return next((r for r in retired_models() if re.match(r.pattern, key)), None)


def _listed_as_tuples(raw: dict[str, Any]) -> dict[str, Any]:
    return {key: tuple(value) if isinstance(value, list) else value for key, value in raw.items()}


@cache
def _errors_by_key() -> dict[str, ErrorType]:
    index: dict[str, ErrorType] = {}
    for entry in error_types():
        index[entry.code.upper()] = entry
        index[entry.slug] = entry
    return index


def find_error(code_or_slug: str) -> ErrorType | None:
    """Look an entry up by code (`GD001`, any case) or slug (`billing-limit-zero`)."""
    key = code_or_slug.strip()
    return _errors_by_key().get(key.upper()) or _errors_by_key().get(key.lower())


def error(slug: str) -> ErrorType:
    """The entry for a slug the code relies on; a missing one is a bug in the data."""
    found = find_error(slug)
    if found is None:
        raise KeyError(f"error catalog has no entry {slug!r}")
    return found


@cache
def models() -> tuple[Model, ...]:
    """The model table, with `pixels_like` tables merged in."""
    raws = {raw["id"]: dict(raw) for raw in _read("models.toml")["model"]}

    def pixel_table(model_id: str, seen: frozenset[str] = frozenset()) -> dict[str, dict[str, tuple[int, int]]]:
        raw = raws[model_id]
        table: dict[str, dict[str, tuple[int, int]]] = {}
        parent = raw.get("pixels_like")
        if parent and parent not in seen:
            table = {size: dict(ratios) for size, ratios in pixel_table(parent, seen | {model_id}).items()}
        for size, ratios in raw.get("pixels", {}).items():
            table.setdefault(size, {}).update({ratio: (wh[0], wh[1]) for ratio, wh in ratios.items()})
        return table

    result = []
    for model_id, raw in raws.items():
        pixels = pixel_table(model_id)
        raw.pop("pixels_like", None)
        raw["pixels"] = pixels
        for key in ("image_sizes", "aspect_ratios", "image_config_versions", "aliases"):
            raw[key] = tuple(raw.get(key, ()))
        raw["price_usd"] = dict(raw.get("price_usd", {}))
        raw["image_tokens"] = dict(raw.get("image_tokens", {}))
        result.append(Model(**raw))
    return tuple(result)


def find_model(name: str) -> Model | None:
    """A model by id or alias; accepts the `models/` prefix the API uses."""
    key = name.strip().removeprefix("models/")
    for model in models():
        if model.id == key:
            return model
    for model in models():
        if key in model.aliases:
            return model
    return None


def recommended_model() -> Model:
    """The default model of `check`: the one the data marks recommended."""
    return next(m for m in models() if m.recommended)


def closest_models(name: str, candidates: list[str] | None = None, limit: int = 3) -> list[str]:
    """Valid model ids closest to a mistyped one, current ones first."""
    key = name.strip().removeprefix("models/")
    pool = candidates if candidates is not None else [m.id for m in models() if not m.is_shut_down]
    return difflib.get_close_matches(key, pool, n=limit, cutoff=0.5)


# One place each for what check, lint and the diagnosis ask of a model name or a URL (issue 15, the house).


def model_id(name: str) -> str:
    """A model name as the table keys it: stripped, without the API's `models/` prefix."""
    return name.strip().removeprefix("models/")


def is_image_model(name: str, listed: frozenset[str] | set[str] = frozenset()) -> bool:
    """Does a model make images: the table says so, else its name does (`…-image…`, `imagen-…`).

    `listed`: names a live model list holds; a name there and in the table is an image model only when the
    table says it makes images.
    """
    key = model_id(name)
    known = find_model(key)
    if known is not None:
        return known.makes_images
    return "image" in key.lower() and (not listed or key in listed)


def is_openai_route(url: str) -> bool:
    """A URL (or base URL) on Gemini's OpenAI-compatible surface (an `/openai` path segment, as in
    `…/v1beta/openai/` or `…/openai/images/generations`), not generateContent."""
    import re

    return re.search(r"/openai(?:[/?#]|$)", url, re.IGNORECASE) is not None


def is_loopback(url_or_host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost, given a host or a URL (any scheme)."""
    from urllib.parse import urlsplit

    host = url_or_host
    if "://" in url_or_host:
        try:
            host = urlsplit(url_or_host).hostname or ""
        except ValueError:
            return False
    host = host.strip("[]").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def retirement(model: Model, today: dt.date | None = None) -> str | None:
    """How the table says a model is on its way out ("shut down on …", "deprecated since …"), or None if current."""
    today = today or dt.date.today()
    shut = model.status == "shut-down" or (model.shutdown is not None and model.shutdown <= today)
    if shut:
        return f"shut down on {model.shutdown}" if model.shutdown else "shut down"
    if model.status != "deprecated":
        return None
    since = f" since {model.deprecated}" if model.deprecated else ""
    planned = f", listed for shutdown on {model.shutdown}" if model.shutdown else ""
    return f"deprecated{since}{planned}"


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """The suffix " (did you mean X?)" for the closest choice, ignoring case and dashes, or "" when none is close."""
    folded = {choice.lower().replace("-", ""): choice for choice in choices}
    key = word.strip().lower().replace("-", "").replace("_", "")
    close = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.6)
    return f" (did you mean {folded[close[0]]}?)" if close else ""


def live_on(model: Model, day: dt.date) -> bool:
    """Whether the table says `model` is still served on `day`: not shut down, its shutdown date (if any) ahead."""
    return model.status != "shut-down" and (model.shutdown is None or model.shutdown > day)


def live_models(day: dt.date) -> tuple[Model, ...]:
    """The table's models still served on `day`, in the table's order."""
    return tuple(model for model in models() if live_on(model, day))


def live_successor(model: Model, day: dt.date) -> Model | None:
    """The model to move to from `model` on `day`: along the table's replacement chain, the first live one that is
    not itself deprecated, else the first live one, else None."""
    chain: list[Model] = []
    current = find_model(model.replacement) if model.replacement else None
    while current is not None and current.id != model.id and current not in chain:
        chain.append(current)
        current = find_model(current.replacement) if current.replacement else None
    live = [item for item in chain if live_on(item, day)]
    return next((item for item in live if item.status != "deprecated"), live[0] if live else None)
