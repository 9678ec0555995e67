"""Which layers an error came from or passed through: Google, a relay, a client library, an app, the network.

The markers are data (knowledge/readers.toml); Google is also recognised from the shape of what was read.
"""

from __future__ import annotations

import re
from functools import cache

from gemini_doctor.diagnosis.facts import Evidence
from gemini_doctor.knowledge import Layer, layers

KINDS = ("relay", "client", "app", "google", "network")


@cache
def _compiled(layer: Layer) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern) for pattern in layer.patterns)


def find_layers(evidence: Evidence, text: str) -> list[str]:
    """The layers named in the paste, outermost (relay, client) first, Google last."""
    lowered = text[:200_000].lower()
    found: list[tuple[str, str]] = []
    for layer in layers():
        if any(marker in lowered for marker in layer.markers) or any(p.search(text) for p in _compiled(layer)):
            found.append((layer.kind, layer.name))
    if not any(kind == "google" for kind, _ in found) and _google_shaped(evidence):
        found.append(("google", "a Google API"))
    if evidence.network_error and not evidence.status:
        found.append(("network", "the network path (no answer from Google)"))
    found.sort(key=lambda item: KINDS.index(item[0]))
    return [f"{kind}: {name}" for kind, name in found]


# Each Google API's own host: named in an error's metadata or the paste, it says which one answered.
HOSTS = {
    "generativelanguage.googleapis.com": "Gemini Developer API",
    "aiplatform.googleapis.com": "Vertex AI",
    "cloudcode-pa.googleapis.com": "Gemini Code Assist",
}


def answering_google(evidence: Evidence) -> str | None:
    """The Google API that answered: the service ErrorInfo names, else the one host the paste names, else the
    first Google layer its words point to. A host named beats words (LiteLLM calls its Developer API errors
    VertexAIError, and a Vertex AI page may mention the Gemini API)."""
    service = evidence.error_metadata.get("service", "")
    if service in HOSTS:
        return HOSTS[service]
    named = [n.split(": ", 1)[1] for n in evidence.layers if n.startswith("google: ")]
    text = evidence.haystack.lower()
    hosts = {name for host, name in HOSTS.items() if host in text and name in named}
    if len(hosts) == 1:
        return hosts.pop()
    return named[0] if named else None


def _google_shaped(evidence: Evidence) -> bool:
    """Google's own error body: a google.rpc.Code name with a message, ErrorInfo/QuotaFailure details, or an answer."""
    return bool(
        evidence.reasons
        or evidence.violations
        or evidence.is_response
        or (evidence.status and evidence.message and evidence.kind.startswith(("google", "json", "curl")))
    )


def produced_by(layer_names: list[str], evidence: Evidence) -> str:
    """Who produced the error, in words: Google (perhaps passed on by a relay), a relay, a client, the network."""
    google = [n.split(": ", 1)[1] for n in layer_names if n.startswith("google: ")]
    outer = [n.split(": ", 1)[1] for n in layer_names if n.startswith(("relay: ", "client: ", "app: "))]
    if evidence.network_error and not evidence.status:
        return "the network: no answer from Google" + (f" (seen by {outer[0]})" if outer else "")
    if google:
        via = f", passed on by {', '.join(outer[:3])}" if outer else ""
        said = "" if (evidence.status or evidence.reasons or evidence.is_response) else " (by its wording)"
        return f"Google ({google[0]}){said}{via}"
    if outer:
        return f"{outer[0]} (no Google error inside)"
    return "not named in the paste: read from the words alone"
