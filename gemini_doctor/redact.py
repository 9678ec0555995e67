"""The one place that scrubs API keys and tokens from text.

Everything that reaches a screen, a file or a log passes through `redact` once, at the renderer's door; pasted
input is redacted as soon as it is read, so that no later truncation can cut a key into an unrecognisable half.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "[REDACTED]"

# Loose on length on purpose: a key cut short by an excerpt must still be caught.
_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"AIza[0-9A-Za-z_\-]{8,}"),  # standard Google API keys
    re.compile(r"AQ\.[0-9A-Za-z_\-\.]{8,}"),  # AI Studio auth keys (2026 and later)
    re.compile(r"ya29\.[0-9A-Za-z_\-\.]{8,}"),  # OAuth access tokens
    re.compile(r"1//[0-9A-Za-z_\-]{20,}"),  # OAuth refresh tokens
    re.compile(r"(?i)(?<=[?&;]key=)[0-9A-Za-z_\-\.~%]{8,}"),  # ?key= query parameters
    re.compile(r"(?i)(?<=\bkey=)[^&\s\"'<>]{8,}"),
    re.compile(
        r"(?i)(?<=authorization:)[ \t]*(?![ \t]*(?:bearer[ \t]+)?\$)[^\r\n\"'\\]+"
    ),  # Authorization headers, any scheme
    re.compile(r"(?i)(?<=\"authorization\":)\s*\"[^\"]*\""),
    re.compile(r"(?i)(?<='authorization':)\s*'[^']*'"),
    re.compile(r"(?i)(?<=x-goog-api-key:)[ \t]*(?![ \t]*\$)[^\s\"'\\]+"),  # `$GEMINI_API_KEY` is no secret
    re.compile(r"(?i)(?<=\"x-goog-api-key\":)\s*\"[^\"]*\""),
    re.compile(r"(?i)(?<='x-goog-api-key':)\s*'[^']*'"),
    re.compile(r"(?i)\bbearer\s+[0-9A-Za-z_\-\.=+/]{8,}"),
    re.compile(r"(?<=://)[^/\s:@\"'<>]+:[^/\s@\"'<>]+(?=@)"),  # user:password@ in URLs (proxies, gateways)
)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Return `text` with every known secret and every key- or token-shaped string masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(_mask_keeping_quotes, text)
    return text


def _mask_keeping_quotes(match: re.Match[str]) -> str:
    found = match.group(0)
    stripped = found.strip()
    lead = " " if found[:1].isspace() else ""
    if stripped[:1] in "\"'" and stripped[-1:] == stripped[:1] and len(stripped) >= 2:
        return f"{lead}{stripped[0]}{MASK}{stripped[0]}"
    if stripped.lower().startswith("bearer"):
        return f"Bearer {MASK}"
    return f"{lead}{MASK}"


def redact_obj(value: object, secrets: Iterable[str | None] = ()) -> object:
    """Redact every string inside a JSON-like structure (dicts, lists, strings)."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {redact(str(k), secrets): redact_obj(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_obj(v, secrets) for v in value]
    return value
