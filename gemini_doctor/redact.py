"""The one place that scrubs API keys and tokens from text, and that makes server text safe for a terminal.

Everything that reaches a screen, a file or a log passes through `redact` once, at the renderer's door; pasted
input is redacted as soon as it is read, so that no later truncation can cut a key into an unrecognisable half
(`clip` redacts before it cuts).

Keys are found in disguise too: `\\u`-, `\\x`- or percent-escaped characters, split by a line break or an invisible
character (zero-width spaces, joiners, soft hyphens, byte-order marks), or base64-encoded (standard or url-safe)
inside a longer text; the user's own key (`secrets`) in all of these forms as well.

Every pattern runs in linear time: runs of unbounded length are matched possessively (`*+`, `++`), each header
pattern starts with a literal, and the costly disguise patterns run only in windows around the marks a
disguise leaves (an escape, an invisible character, a line break inside a word) or where a base64 signature is.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Callable, Iterable, Iterator

MASK = "[REDACTED]"

_KEY_CHARS = r"0-9A-Za-z_\-"
_INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff"  # soft hyphen, vowel separator, zero widths, BOM
_INVISIBLE_ESCAPED = r"\\++u(?:00[aA][dD]|180[eE]|200[bBcCdD]|2060|[fF][eE][fF][fF])"
_HIDDEN = rf"(?:[{_INVISIBLE}]|{_INVISIBLE_ESCAPED})"  # invisible, raw or escaped
# Invisible or a line break, raw or escaped: the two alternations above merged into one, written compactly (the
# pattern below repeats it for every character of a key prefix, and its size is most of the compile time).
_ANY_SEPARATOR = (
    r"(?:[" + _INVISIBLE + r"\n]|\r\n?|\\++(?:[rn]|u(?:00[aA][dD]|180[eE]|200[bBcCdD]|2060|[fF][eE][fF][fF])))"
)
# The hex codes of key characters (- 0-9 A-Z _ a-z), either case: an escape of anything else ends a key.
_KEY_HEX = r"(?:2[dD]|3[0-9]|4[1-9a-fA-F]|5[0-9aA]|5[fF]|6[1-9a-fA-F]|7[0-9aA])"
_ESCAPE = r"(?:\\++u00|\\++x|%)"  # a backslash doubled by a JSON or repr encoding counts too
_KEY_UNIT = rf"(?:[{_KEY_CHARS}]|{_ESCAPE}{_KEY_HEX})"
_DOTTED_UNIT = rf"(?:[{_KEY_CHARS}.]|{_ESCAPE}(?:{_KEY_HEX}|2[eE]))"

# Plain shapes. Loose on length on purpose: a key cut short by an excerpt must still be caught.
_PLAIN_KEYS = re.compile(
    rf"AIza[{_KEY_CHARS}]{{8,}}+"  # standard Google API keys
    rf"|AQ\.[{_KEY_CHARS}.]{{8,}}+"  # AI Studio auth keys (2026 and later)
    rf"|ya29\.[{_KEY_CHARS}.]{{8,}}+"  # OAuth access tokens
    rf"|1//[{_KEY_CHARS}]{{20,}}+"  # OAuth refresh tokens
)
_PLAIN_KEYS_BYTES = re.compile(_PLAIN_KEYS.pattern.encode())


def _hex(code: int, width: int) -> str:
    """`code` in hex as a pattern matching either case of its letters."""
    return "".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in f"{code:0{width}x}")


def _char(c: str) -> str:
    """One character, plain or escaped (`\\u0041`, `\\x41`, `%41`; `\\/` for a slash)."""
    forms = [re.escape(c)]
    if ord(c) < 256:
        forms.append(rf"{_ESCAPE}{_hex(ord(c), 2)}")
    elif ord(c) < 0x10000:
        forms.append(rf"\\++u{_hex(ord(c), 4)}")
    if c == "/":
        forms.append(r"\\++/")
    return f"(?:{'|'.join(forms)})"


# Disguised shapes. A standard key has 35 characters after AIza, so it may be joined across a line break: the
# count stops there and a plain run goes on (a longer token), never across a break. Other tokens have no fixed
# length, so only invisible characters are allowed inside them, never a line break that would swallow the next line.
_FAMILIES = (
    ("AIza", _ANY_SEPARATOR, rf"(?:{_ANY_SEPARATOR}*+{_KEY_UNIT}){{8,35}}+[{_KEY_CHARS}]*+"),
    ("AQ.", _HIDDEN, rf"(?:{_HIDDEN}*+{_DOTTED_UNIT}){{8,}}+"),
    ("ya29.", _HIDDEN, rf"(?:{_HIDDEN}*+{_DOTTED_UNIT}){{8,}}+"),
    ("1//", _HIDDEN, rf"(?:{_HIDDEN}*+{_KEY_UNIT}){{20,}}+"),
)


def _dispatched(families: tuple[tuple[str, str, str], ...]) -> str:
    """One pattern for words that may start plain or escaped, beginning with a class of first characters (the
    regex engine skips fast to those) and then a lookbehind choosing the word's first character, plain or escaped:
    much faster than an alternation. Each word's rest is written once (a third of the pattern to compile)."""
    by_first: dict[str, list[str]] = {}
    for word, separator, tail in families:
        by_first.setdefault(word[0], []).append("".join(f"{separator}*+{_char(c)}" for c in word[1:]) + tail)
    branches = []
    for first, rests in by_first.items():
        heads = [f"(?<={re.escape(first)})"]
        if ord(first) < 0x100:
            heads += [rf"(?<=\\)(?:u00|x){_hex(ord(first), 2)}", f"(?<=%){_hex(ord(first), 2)}"]
        elif ord(first) < 0x10000:
            heads.append(rf"(?<=\\)u{_hex(ord(first), 4)}")
        branches.append(f"(?:{'|'.join(heads)})(?:{'|'.join(rests)})")
    starts = "".join(sorted(re.escape(first) for first in by_first)) + r"\\%"
    return f"[{starts}](?:{'|'.join(branches)})"


@functools.cache
def _disguised_keys() -> re.Pattern[str]:
    """Compiled on first need (about 10 ms): only a text with a mark of disguise in it is searched with it."""
    return re.compile(_dispatched(_FAMILIES))


# Where a disguise may be: an escape, an invisible character, a line break between two key characters.
_MARKS = re.compile(
    rf"[\\%\r\n{_INVISIBLE}](?:"
    r"(?<=\\)(?:u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[rn](?<=[0-9A-Za-z_\-]\\[rn])(?=[0-9A-Za-z_\-]))"
    r"|(?<=%)[0-9a-fA-F]{2}"
    rf"|(?<=[{_INVISIBLE}])"
    r"|(?<=\r)\n(?<=[0-9A-Za-z_\-]\r\n)(?=[0-9A-Za-z_\-])"
    r"|(?<=[0-9A-Za-z_\-][\r\n])(?=[0-9A-Za-z_\-])"
    ")"
)
_WINDOW = 320  # a fully escaped standard key is 39 × 6 characters

_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_\-]{16,}+={0,2}")
_FAMILY_PREFIXES = tuple(family[0].encode() for family in _FAMILIES)
_FULL_KEY_RUN = 16  # base64 of "AIza" and 8 more characters, the shortest key-shaped string
_DECODE_BUDGET = 2000

# Headers, parameters and URL credentials. They run over the lowered text (the same length, so the same offsets),
# each starting with a literal, so that the scan is fast; group 1 is what is masked; every run is possessive.
_CONTEXT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("key=", re.compile(r"[?&;]key=([0-9a-z_\-\.~%]{8,}+)")),  # ?key= query parameters
    ("key=", re.compile(r"key=(?<![0-9a-z_]key=)([^&\s\"'<>]{8,}+)")),
    (
        "authorization",  # Authorization headers, any scheme; `Bearer $TOKEN` is no secret
        re.compile(r"authorization:([ \t]*+(?!(?:bearer[ \t]++)?\$)[^\r\n\"'\\]++)"),
    ),
    ("authorization", re.compile(r"\"authorization\":(\s*+\"[^\"]*+\")")),
    ("authorization", re.compile(r"'authorization':(\s*+'[^']*+')")),
    ("x-goog-api-key", re.compile(r"x-goog-api-key:([ \t]*+(?!\$)[^\s\"'\\]++)")),  # `$GEMINI_API_KEY` is none
    ("x-goog-api-key", re.compile(r"\"x-goog-api-key\":(\s*+\"[^\"]*+\")")),
    ("x-goog-api-key", re.compile(r"'x-goog-api-key':(\s*+'[^']*+')")),
    ("bearer", re.compile(r"(bearer(?<![0-9a-z_]bearer)\s++[0-9a-z_\-\.=+/]{8,}+)")),
    ("://", re.compile(r"://([^/\s:@\"'<>]++:[^/\s@\"'<>]++)(?=@)")),  # user:password@ in URLs (proxies)
)


def _known(secrets: Iterable[str | None]) -> tuple[str, ...]:
    """The user's secrets worth masking by value: shorter ones would mask ordinary text."""
    return tuple(s for s in secrets if s and len(s) >= 4)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Return `text` with every known secret and every key- or token-shaped string masked, disguised or not."""
    known = _known(secrets)
    for secret in known:
        text = text.replace(secret, MASK)
    text = _redact_disguised(text, known)
    text = _PLAIN_KEYS.sub(MASK, text)
    text = _redact_base64(text, known)
    return _redact_context(text)


def clip(text: str, limit: int, secrets: Iterable[str | None] = ()) -> str:
    """The first `limit` characters of `text`, redacted first: a cut never leaves half a key behind."""
    text = redact(text, secrets)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _windows(text: str, reach: int) -> Iterator[tuple[int, int]]:
    """Merged spans reaching at least `reach` characters either side of every mark a disguise leaves.

    Each window is grown to twice the reach past the last mark found, and the next mark is looked for only in its
    last `reach` characters: marks skipped over are at least `reach` from its end, and dense marks cost one search
    per `reach` characters, not one per mark.
    """
    mark = _MARKS.search(text)
    while mark is not None:
        start, end = max(0, mark.start() - reach), mark.end() + 2 * reach
        mark = _MARKS.search(text, end - reach)
        while mark is not None and mark.start() < end:
            end = mark.end() + 2 * reach
            mark = _MARKS.search(text, end - reach)
        yield start, min(end, len(text))


def _redact_disguised(text: str, secrets: tuple[str, ...]) -> str:
    windows = list(_windows(text, max([_WINDOW, *(6 * len(s) + 8 for s in secrets)])))
    if not windows:
        return text
    patterns = [_disguised_keys(), *(_disguised_secret(s) for s in secrets)]
    spans: list[tuple[int, int]] = []
    for low, high in windows:
        for pattern in patterns:
            spans.extend(m.span() for m in pattern.finditer(text, low, high))
    return _mask_spans(text, spans)


@functools.lru_cache(maxsize=8)
def _disguised_secret(secret: str) -> re.Pattern[str]:
    return re.compile(_dispatched(((secret, _ANY_SEPARATOR, ""),)))


def _mask_spans(text: str, spans: list[tuple[int, int]], mask: Callable[[str], str] = lambda _found: MASK) -> str:
    """`text` with every span replaced by `mask(what it covers)`; overlapping spans are masked as one."""
    if not spans:
        return text
    pieces, position = [], 0
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        pieces += [text[position:start], mask(text[start:end])]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _redact_base64(text: str, secrets: tuple[str, ...]) -> str:
    """Mask base64 runs (standard or url-safe) that decode to a key-shaped string or hold a secret.

    A run is looked at only when it holds a signature: the base64 text "AIza" (or a secret) always encodes to,
    whatever its alignment. A long signature is proof enough; a short one is checked by decoding the run, up to
    `_DECODE_BUDGET` runs, past which a run with a signature is masked unchecked (never a leak, only too much).
    """
    strong, weak = _signatures(secrets)
    if not any(s in text for s in (*strong, *weak)):
        return text
    secret_bytes = tuple(s.encode() for s in secrets)
    shortest = min([_FULL_KEY_RUN, *(len(s) * 4 // 3 for s in secrets)])
    budget = [_DECODE_BUDGET]

    def check(run: re.Match[str]) -> str:
        found = run.group(0)
        if len(found) < shortest:
            return found
        if any(s in found for s in strong):
            return MASK
        if not any(s in found for s in weak):
            return found
        budget[0] -= 1
        return MASK if budget[0] < 0 or _decodes_to_key(found, secret_bytes) else found

    return _BASE64_RUN.sub(check, text)


@functools.lru_cache(maxsize=8)
def _signatures(secrets: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(strong, weak) base64 signatures: of each secret (strong when 10 characters or more), of each key prefix."""
    of_secrets = [s for secret in secrets for s in _base64_signatures(secret.encode())]
    weak = [s for prefix in _FAMILY_PREFIXES for s in _base64_signatures(prefix)]
    return tuple(s for s in of_secrets if len(s) >= 10), (*weak, *(s for s in of_secrets if len(s) < 10))


@functools.lru_cache(maxsize=16)
def _base64_signatures(raw: bytes) -> tuple[str, ...]:
    """The base64 text `raw` always encodes to, at each of the three alignments it may start at in a longer text."""
    found: set[str] = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw + b"\0\0").decode()
        part = encoded[-(-8 * offset // 6) : 8 * (offset + len(raw)) // 6]
        if len(part) >= 3:
            found |= {part, part.replace("+", "-").replace("/", "_")}
    return tuple(sorted(found))


def _decodes_to_key(run: str, secrets: tuple[bytes, ...]) -> bool:
    standard = run.rstrip("=").replace("-", "+").replace("_", "/")
    for offset in range(4):
        chunk = standard[offset:]
        chunk = chunk[: len(chunk) - len(chunk) % 4]
        try:
            decoded = binascii.a2b_base64(chunk)
        except binascii.Error:
            continue
        if _PLAIN_KEYS_BYTES.search(decoded) or any(s in decoded for s in secrets):
            return True
    return False


def _redact_context(text: str) -> str:
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer: lower the ASCII letters only
        lowered = text.translate(_ASCII_LOWER)
    spans = [
        m.span(1) for trigger, pattern in _CONTEXT_PATTERNS if trigger in lowered for m in pattern.finditer(lowered)
    ]
    return _mask_spans(text, spans, _mask_keeping_quotes)


_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


def _mask_keeping_quotes(found: str) -> str:
    stripped = found.strip()
    lead = " " if found[:1].isspace() else ""
    if stripped[:1] in "\"'" and stripped[-1:] == stripped[:1] and len(stripped) >= 2:
        return f"{lead}{stripped[0]}{MASK}{stripped[0]}"
    if stripped.lower().startswith("bearer"):
        return f"{lead}Bearer {MASK}"
    return f"{lead}{MASK}"


def redact_obj(value: object, secrets: Iterable[str | None] = ()) -> object:
    """Redact every string inside a JSON-like structure (dicts, lists, strings)."""
    return map_strings(value, _once_each(functools.partial(redact, secrets=tuple(secrets))))


def _once_each(change: Callable[[str], str]) -> Callable[[str], str]:
    """`change` computed once per distinct string (a lint report repeats the catalog's fix steps, titles and URLs
    in every finding: a tenth of its strings are distinct)."""
    return functools.lru_cache(maxsize=None)(change)


def map_strings(value: object, change: Callable[[str], str]) -> object:
    """`change` applied to every string (keys too) inside a JSON-like structure (dicts, lists, strings)."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {change(str(k)): map_strings(v, change) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [map_strings(v, change) for v in value]
    return value


# ------------------------------------------------------------------------------------------------ terminal safety

# C0 controls but tab and line feed, DEL, C1 controls; BiDi embeddings, overrides, isolates and marks; line and
# paragraph separators. Each would let a server's text move the cursor, clear the screen, retitle the window,
# reorder what is shown, or hide what follows.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def neutralise(text: str) -> str:
    """Control characters made visible (`\\x1b`, `\\u202e`): server text cannot drive the terminal or reorder it."""
    return _UNSAFE.sub(_visible, text)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def scrub_obj(value: object, secrets: Iterable[str | None] = ()) -> object:
    """What the renderer's door does to a document: every string redacted, then neutralised."""
    return map_strings(value, scrubber(secrets))


def scrubber(secrets: Iterable[str | None] = ()) -> Callable[[str], str]:
    """What the renderer's door does to each string: redacted, then neutralised (once per distinct string)."""
    known = _known(secrets)
    if known:
        return _once_each(lambda text: neutralise(redact(text, known)))
    return _once_each(lambda text: text if _inert(text) else neutralise(redact(text)))


# Everything `redact` (with no secret of the user's) and `neutralise` look for in an ASCII text, or more: a mark of
# disguise (an escape, a line break) or a control character; a key's prefix or a base64 signature of one (those
# `_redact_base64` looks for), as written; a header's, parameter's or URL credential's trigger, in any case.
_STIRRING_CHARS = re.compile(r"[\\%\x00-\x1f\x7f]")
# Made from the tables redaction itself uses, so a family or a trigger added there is never let through here.
_STIRRING_WORDS = (*(family[0] for family in _FAMILIES), *_signatures(())[1])
_STIRRING_LOWER = tuple(dict.fromkeys(trigger.lower() for trigger, _ in _CONTEXT_PATTERNS))


def _inert(text: str) -> bool:
    """True when neither `redact` (with no secret of the user's) nor `neutralise` can change `text`: ASCII (so
    that its lower case is ASCII too, and holds no invisible or BiDi character) with nothing above in it.
    Substring tests: a regex alternation of the same words (case-insensitive for the triggers) is three times slower."""
    if not text.isascii() or _STIRRING_CHARS.search(text) is not None:
        return False
    for word in _STIRRING_WORDS:
        if word in text:
            return False
    lowered = text.lower()
    return not any(word in lowered for word in _STIRRING_LOWER)
