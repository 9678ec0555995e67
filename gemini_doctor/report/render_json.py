"""JSON for CI: the document as it is, stable keys, UTF-8.

Laid out here, not by `json.dumps(indent=2)` (whose indented encoder is pure Python and yields each token through a
chain of generators): the same bytes, leaf values encoded by the C string encoder, and each string passed through
the renderer's door (`change`) as it is written, so that the document is walked once, not once to scrub it and once
to encode it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any


def dumps(value: Any, change: Callable[[str], str] = str) -> str:
    """`json.dumps(value, indent=2, ensure_ascii=False) + "\\n"` of the document `map_strings(value, change)`
    would give, byte for byte."""
    out: list[str] = []
    _encode(value, "\n", change, out, {})
    out.append("\n")
    return "".join(out)


def _leaf(value: Any, change: Callable[[str], str]) -> str | None:
    """A scalar's JSON text, or None for a list or an object."""
    if isinstance(value, str):
        return encode_basestring(change(value))  # type: ignore[no-any-return]
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, dict | list | tuple):
        return None
    return json.dumps(value)  # floats as the encoder writes them (NaN, Infinity); anything else raises as it does


_FLAT = frozenset({str, int, bool, type(None)})  # the exact types the C encoder writes as the Python one does
Memo = dict[tuple, str]
MEMO_ITEMS = 16  # larger containers (a lint report's 50,000 backends) are not repeated: not kept


@functools.lru_cache(maxsize=64)
def _flat_encoder(inner: str) -> Callable[[Any], str]:
    """The C encoder laying out a list or an object of scalars one level deeper than `inner` minus two spaces:
    with no container inside, the item separator is the only whitespace the indented layout has. Made once per
    depth (`JSONEncoder.encode` would make one per call)."""
    separator = "," + inner
    if c_make_encoder is None:  # no C accelerator: the Python encoder, same text
        return json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(separator, ": ")).encode
    encode = c_make_encoder(None, None, encode_basestring, None, ": ", separator, False, False, True)
    return lambda value: "".join(encode(value, 0))


def _flat(value: dict[str, Any] | list[Any], newline: str, change: Callable[[str], str], memo: Memo) -> str | None:
    """A container of scalars written by the C encoder, or None when it holds another container (or anything
    else). One of strings only is written once per depth and content (`memo`): a lint report repeats each
    catalog entry's fix steps, and the same evidence, in thousands of findings."""
    items = value.values() if isinstance(value, dict) else value
    strings = True
    for item in items:
        kind = type(item)
        if kind not in _FLAT:
            return None
        strings = strings and kind is str
    if not strings or len(value) > MEMO_ITEMS:
        key = None
    else:
        key = (newline, tuple(value.items()) if isinstance(value, dict) else tuple(value))
    if key is not None and (known := memo.get(key)) is not None:
        return known
    if isinstance(value, dict):
        value = {k: change(v) if type(v) is str else v for k, v in value.items()}
    else:
        value = [change(v) if type(v) is str else v for v in value]
    inner = newline + "  "
    text = _flat_encoder(inner)(value)
    text = f"{text[0]}{inner}{text[1:-1]}{newline}{text[-1]}"
    if key is not None:
        memo[key] = text
    return text


def _encode(value: Any, newline: str, change: Callable[[str], str], out: list[str], memo: Memo) -> None:
    text = _leaf(value, change)
    if text is not None:
        out.append(text)
        return
    inner = newline + "  "
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        value = {change(str(k)): v for k, v in value.items()}
        text = _flat(value, newline, change, memo)
        if text is not None:
            out.append(text)
            return
        _members(value, newline, change, out, memo)
        return
    if not value:
        out.append("[]")
        return
    text = _flat(value, newline, change, memo)
    if text is not None:
        out.append(text)
        return
    separator = "[" + inner
    for item in value:
        if type(item) is str:
            out.append(separator + encode_basestring(change(item)))
        else:
            out.append(separator)
            _encode(item, inner, change, out, memo)
        separator = "," + inner
    out.append(newline + "]")


def _members(value: dict[str, Any], newline: str, change: Callable[[str], str], out: list[str], memo: Memo) -> None:
    """An object holding a container (keys already changed): each run of scalar members between containers
    written by one call of the C encoder."""
    inner = newline + "  "
    separator, run = "{" + inner, {}
    for key, item in value.items():
        if type(item) in _FLAT:
            run[key] = change(item) if type(item) is str else item
            continue
        if run:
            out.append(separator + _flat_encoder(inner)(run)[1:-1])
            separator, run = "," + inner, {}
        out.append(f"{separator}{encode_basestring(key)}: ")
        _encode(item, inner, change, out, memo)
        separator = "," + inner
    if run:
        out.append(separator + _flat_encoder(inner)(run)[1:-1])
    out.append(newline + "}")
