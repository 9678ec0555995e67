"""What an app's request asks for, and the traps in it that are visible without sending it.

Used by `explain --request`, the `parameters` check and `lint`: one reading of a generateContent body.
What the research shows to be model-dependent is a warning; what is certain to fail is an error.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from typing import Any

from gemini_doctor.diagnosis import Diagnosis
from gemini_doctor.knowledge import Model

IMAGE_CONFIG_FIELDS = {"aspectRatio": "aspect_ratio", "imageSize": "image_size"}
VERTEX_ONLY_FIELDS = {
    "personGeneration",
    "person_generation",
    "outputMimeType",
    "output_mime_type",
    "imageOutputOptions",
    "image_output_options",
    "prominentPeople",
    "prominent_people",
    "outputCompressionQuality",
    "output_compression_quality",
}
IMAGEN_FIELDS = {
    "numberOfImages",
    "number_of_images",
    "sampleCount",
    "sample_count",
    "negativePrompt",
    "negative_prompt",
}
VALID_SIZES = ("512", "1K", "2K", "4K")


def _get(mapping: dict, camel: str) -> Any:
    return mapping.get(camel, mapping.get(_snake(camel)))


@cache  # a few field names, read for every request the proxy and lint see
def _snake(camel: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)


@dataclass(frozen=True)
class RequestSettings:
    """The image-relevant settings of one request, wherever the app put them."""

    modalities: tuple[str, ...] | None = None
    image_size: str | None = None
    aspect_ratio: str | None = None
    candidate_count: int | None = None
    misplaced: tuple[str, ...] = ()  # "imageConfig at the top level", …
    unknown_image_fields: tuple[str, ...] = ()
    vertex_only: tuple[str, ...] = ()
    imagen_fields: tuple[str, ...] = ()
    sent_image_config: bool = False

    def with_overrides(self, **overrides: Any) -> RequestSettings:
        values = {k: v for k, v in overrides.items() if v is not None}
        return RequestSettings(**{**self.__dict__, **values})

    def generation_config(self) -> dict[str, Any]:
        """The generationConfig a probe sends to test these settings, spelled as the app spelled them."""
        config: dict[str, Any] = {}
        if self.modalities is not None:
            config["responseModalities"] = list(self.modalities)
        image_config = {}
        if self.aspect_ratio:
            image_config["aspectRatio"] = self.aspect_ratio
        if self.image_size:
            image_config["imageSize"] = self.image_size
        if image_config:
            config["imageConfig"] = image_config
        return config


def read_request(body: dict | None) -> RequestSettings:
    """Read a generateContent request body (camelCase or snake_case, as proto-JSON accepts both)."""
    if not isinstance(body, dict):
        return RequestSettings()
    config = _get(body, "generationConfig")
    if not isinstance(config, dict):
        config = body.get("config") if isinstance(body.get("config"), dict) else {}
    misplaced: list[str] = []
    image_config = _get(config, "imageConfig")
    if not isinstance(image_config, dict):
        image_config = None
    top_level = _get(body, "imageConfig")
    if isinstance(top_level, dict):
        misplaced.append("imageConfig sits at the top level of the request, not inside generationConfig")
        image_config = image_config or top_level
    loose: dict[str, Any] = {}
    for camel in IMAGE_CONFIG_FIELDS:
        value = _get(config, camel)
        if value is not None:
            misplaced.append(f"{camel} sits directly in generationConfig, not inside generationConfig.imageConfig")
            loose[camel] = value
    source = dict(loose)
    unknown: list[str] = []
    vertex: list[str] = []
    for key, value in (image_config or {}).items():
        if key in IMAGE_CONFIG_FIELDS or key in IMAGE_CONFIG_FIELDS.values():
            source[key] = value
        elif key in VERTEX_ONLY_FIELDS:
            vertex.append(key)
        elif key not in IMAGEN_FIELDS:  # those are reported once, as Imagen parameters
            unknown.append(key)
    imagen = [key for key in (*body, *config, *(image_config or {})) if key in IMAGEN_FIELDS]
    modalities = _get(config, "responseModalities")
    count = _get(config, "candidateCount")
    return RequestSettings(
        modalities=tuple(str(m) for m in modalities) if isinstance(modalities, list) else None,
        image_size=_text(_get(source, "imageSize")),
        aspect_ratio=_text(_get(source, "aspectRatio")),
        candidate_count=count if isinstance(count, int) else None,
        misplaced=tuple(misplaced),
        unknown_image_fields=tuple(unknown),
        vertex_only=tuple(vertex),
        imagen_fields=tuple(imagen),
        sent_image_config=image_config is not None or bool(loose),
    )


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def canonical_size(size: str) -> str | None:
    """The valid spelling of an imageSize written in another case ("2k" → "2K"), or None."""
    for valid in VALID_SIZES:
        if size.strip().upper() == valid:
            return valid
    return None


def request_findings(settings: RequestSettings, model: Model | None) -> list[Diagnosis]:
    """The traps visible in the request alone; the model sharpens them where the table knows it."""
    where = f"for {model.id}" if model else "(model unknown)"
    found = _modality_findings(settings, model) + _field_findings(settings)
    if settings.candidate_count is not None and settings.candidate_count > 1:
        found.append(
            Diagnosis.of(
                "invalid-argument",
                "certain",
                [
                    f"candidateCount is {settings.candidate_count}; image models answer 400 "
                    "'Multiple candidates is not enabled'"
                ],
                hints=["Drop candidateCount (or set 1) and send N requests for N images."],
            )
        )
    if settings.image_size is not None:
        found.extend(_size_findings(settings.image_size, model, where))
    if settings.aspect_ratio is not None and model is not None and settings.aspect_ratio not in model.aspect_ratios:
        found.append(
            Diagnosis.of(
                "invalid-argument",
                "likely",
                [f"aspectRatio {settings.aspect_ratio!r} is not one the model table lists {where}"],
                hints=[f"Use one of: {', '.join(model.aspect_ratios)}."],
            )
        )
    return found


def _modality_findings(settings: RequestSettings, model: Model | None) -> list[Diagnosis]:
    """responseModalities without IMAGE, or ["IMAGE"] alone for a model that required TEXT too."""
    if settings.modalities is None:
        return []
    upper = [m.upper() for m in settings.modalities]
    if "IMAGE" not in upper:
        return [
            Diagnosis.of(
                "wrong-response-modalities",
                "likely",
                [f"responseModalities is {list(settings.modalities)}: it does not ask for IMAGE"],
                severity="warning",
                hints=['Add "IMAGE" to generationConfig.responseModalities, e.g. ["IMAGE"] or ["TEXT", "IMAGE"].'],
            )
        ]
    if upper == ["IMAGE"] and model is not None and model.requires_text_modality:
        return [
            Diagnosis.of(
                "missing-text-modality",
                "likely",
                [f'responseModalities is ["IMAGE"] and {model.id} is a model that required ["TEXT", "IMAGE"]'],
                hints=[f'Send ["TEXT", "IMAGE"], or move to {model.replacement or "a current image model"}.'],
            )
        ]
    return []


def _field_findings(settings: RequestSettings) -> list[Diagnosis]:
    """Fields in the wrong place, unknown to the Gemini API, Vertex-only or Imagen's."""
    found = [
        Diagnosis.of(
            "invalid-argument",
            "likely",
            [note],
            hints=["Put aspectRatio and imageSize inside generationConfig.imageConfig."],
        )
        for note in settings.misplaced
    ]
    for key in settings.unknown_image_fields:
        close = difflib.get_close_matches(key, [*IMAGE_CONFIG_FIELDS, *IMAGE_CONFIG_FIELDS.values()], n=1)
        found.append(
            Diagnosis.of(
                "invalid-argument",
                "likely",
                [f"imageConfig has the field {key!r}, which the Gemini API does not know (400 Unknown name)"],
                hints=[f"Did you mean {close[0]!r}?" if close else "imageConfig takes only aspectRatio and imageSize."],
            )
        )
    for key in settings.vertex_only:
        found.append(
            Diagnosis.of(
                "invalid-argument",
                "likely",
                [f"imageConfig.{key} is a Vertex AI field; the Gemini Developer API answers 400 Unknown name"],
                hints=[f"Remove {key} from imageConfig when calling generativelanguage.googleapis.com."],
            )
        )
    for key in settings.imagen_fields:
        found.append(
            Diagnosis.of(
                "invalid-argument",
                "likely",
                [f"{key} is an Imagen (:predict) parameter, not a Gemini generateContent one"],
                hints=["One generateContent call makes one image: send N requests for N images."],
            )
        )
    return found


def _size_findings(size: str, model: Model | None, where: str) -> list[Diagnosis]:
    canonical = canonical_size(size)
    if canonical and canonical != size:
        return [
            Diagnosis.of(
                "image-size-case",
                "certain",
                [f"imageSize is {size!r}; the API spells it {canonical!r} (uppercase K)"],
                severity="warning",
                hints=[f'Send "imageSize": "{canonical}".'],
                note="Lowercase is documented as rejected; some models answer 200 at the default 1K instead.",
            )
        ]
    if canonical is None:
        return [
            Diagnosis.of(
                "invalid-argument",
                "likely",
                [f"imageSize {size!r} is not one of the API's values {', '.join(VALID_SIZES)}"],
                severity="error" if model is None or model.unsupported_size == "reject" else "warning",
                hints=[f"Use one of: {', '.join(model.image_sizes if model else VALID_SIZES)}."],
            )
        ]
    if model is not None and canonical not in model.image_sizes:
        ignored = model.unsupported_size == "ignore"
        return [
            Diagnosis.of(
                "invalid-argument",
                "likely",
                [
                    f"imageSize {canonical!r} is not supported {where} (it supports {', '.join(model.image_sizes)}); "
                    + ("the model ignores it and answers at " + model.default_size if ignored else "expect a 400")
                ],
                severity="warning" if ignored else "error",
                hints=[f"Use one of: {', '.join(model.image_sizes)}, or a model that supports {canonical}."],
            )
        ]
    return []
