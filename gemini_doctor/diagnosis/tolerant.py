"""Reading structures out of messy pastes: what users paste is rarely valid JSON.

One forgiving parser reads JSON, Python reprs (single quotes, True/None), JavaScript object literals (unquoted
keys, `undefined`), Elixir/PHP/Ruby maps (`%{"k" => v}`, `array("k" => v)`), trailing commas, and bodies cut off
mid-way (what was read so far is kept and the cut is reported). `normalise` first undoes what forums and
terminals do to a paste: curly quotes, doubled backticks, box borders, `> ` quoting. Pure, linear, no eval.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 200  # deeper than any API answer nests
MAX_CHARS = 4 * 1024 * 1024  # a structure larger than this is not an error body

_CURLY = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
_BOX = re.compile(r"(?m)^[ \t]*[│┃║|][ \t]?|[ \t]*[│┃║][ \t]*$")
_QUOTED = re.compile(r"(?m)^>[ \t]?")
_WORDS = {"true": True, "false": False, "null": None, "none": None, "undefined": None, "nil": None}


@dataclass(frozen=True)
class Parsed:
    value: Any
    end: int
    complete: bool  # False when the text ended before the structure closed


def normalise(text: str) -> tuple[str, list[str]]:
    """The paste with forum and terminal damage undone, and a note for each kind of repair made."""
    notes = []
    fixed = text.translate(_CURLY)
    if fixed != text:
        notes.append("curly quotes read as straight quotes")
    if "``" in fixed:
        fixed = fixed.replace("``", "")
        notes.append("doubled backticks removed")
    lines = fixed.splitlines()
    boxed = sum(1 for line in lines if line.lstrip()[:1] in "│┃║")
    if lines and boxed >= max(2, len(lines) // 2):
        fixed = _BOX.sub("", fixed)
        notes.append("terminal box borders removed")
    quoted = sum(1 for line in lines if line.startswith(">"))
    if lines and quoted >= max(2, len(lines) // 2) and not re.search(r"(?m)^> (?:POST|GET|Host:)", fixed):
        fixed = _QUOTED.sub("", fixed)
        notes.append("'> ' quoting removed")
    return fixed, notes


def parse_at(text: str, start: int) -> Parsed | None:
    """Parse the structure that opens at `start` ({, [ or %{), as forgivingly as the module says."""
    if start >= len(text):
        return None
    if text[start] in "{[":
        strict = _strict(text, start)
        if strict is not None:
            return strict
    parser = _Loose(text, start, min(len(text), start + MAX_CHARS))
    try:
        value = parser.value(0)
    except _Stop:
        return None
    if not isinstance(value, dict | list):
        return None
    return Parsed(value, parser.pos, not parser.cut)


def _strict(text: str, start: int) -> Parsed | None:
    try:
        value, end = json.JSONDecoder().raw_decode(text, start)
    except (json.JSONDecodeError, RecursionError, ValueError):
        return None
    return Parsed(value, end, True)


class _Stop(Exception):
    """Not a structure: give up on this start."""


class _Loose:
    def __init__(self, text: str, start: int, limit: int):
        self.text, self.pos, self.limit, self.cut = text, start, limit, False

    def _skip(self) -> None:
        text, limit = self.text, self.limit
        while self.pos < limit and (text[self.pos].isspace() or text[self.pos] == ","):
            self.pos += 1

    def _at_end(self) -> bool:
        if self.pos >= self.limit:
            self.cut = True
            return True
        return False

    def value(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _Stop
        self._skip()
        if self._at_end():
            return None
        char = self.text[self.pos]
        if char == "%" and self.text.startswith("%{", self.pos):
            self.pos += 1
            char = "{"
        if char == "{":
            return self._object(depth)
        if char == "[":
            return self._array(depth)
        if char in "\"'`":
            return self._string(char)
        return self._bare()

    def _entries(self) -> Iterator[None]:
        """Past the opening bracket, once for each entry of the container, up to its closing bracket (either kind:
        a paste may close `{` with `]`), the end of the text, or a cut."""
        self.pos += 1
        while True:
            self._skip()
            if self._at_end():
                return
            if self.text[self.pos] in "}]":
                self.pos += 1
                return
            yield
            if self.cut:
                return

    def _object(self, depth: int) -> dict:
        result: dict[str, Any] = {}
        for _ in self._entries():
            key = self._key()
            if key is None:
                raise _Stop
            self._skip_separator()
            result[str(key)] = self.value(depth + 1)
        return result

    def _key(self) -> Any:
        char = self.text[self.pos]
        if char in "\"'`":
            return self._string(char)
        found = re.compile(r"[A-Za-z_$@][\w$@.\-]*|\d+").match(self.text, self.pos)
        if not found:
            return None
        self.pos = found.end()
        return found.group(0)

    def _skip_separator(self) -> None:
        found = re.compile(r"\s*(?::|=>|=)\s*").match(self.text, self.pos)
        if not found:
            raise _Stop
        self.pos = found.end()

    def _array(self, depth: int) -> list:
        result: list[Any] = []
        for _ in self._entries():
            before = self.pos
            result.append(self.value(depth + 1))
            if self.pos == before and not self.cut:  # nothing read: a character no value starts with
                raise _Stop
        return result

    def _string(self, quote: str) -> str:
        text, pos, limit = self.text, self.pos + 1, self.limit
        pieces = []
        while pos < limit:
            char = text[pos]
            if char == "\\" and pos + 1 < limit:
                pieces.append(_unescape(text[pos + 1], text, pos))
                pos += 2 if text[pos + 1] != "u" else 6
                continue
            if char == quote:
                self.pos = pos + 1
                return "".join(pieces)
            pieces.append(char)
            pos += 1
        self.pos, self.cut = limit, True
        return "".join(pieces)

    def _bare(self) -> Any:
        found = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[A-Za-z_][\w.]*").match(self.text, self.pos)
        if not found:
            raise _Stop
        self.pos = found.end()
        word = found.group(0)
        if word.lower() in _WORDS:
            return _WORDS[word.lower()]
        try:
            return int(word)
        except ValueError:
            try:
                return float(word)
            except ValueError:
                return word


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/"}


def _unescape(char: str, text: str, pos: int) -> str:
    if char == "u":
        digits = text[pos + 2 : pos + 6]
        try:
            return chr(int(digits, 16))
        except ValueError:
            return "\\u"
    return _ESCAPES.get(char, char)


def structures(text: str, opener: re.Pattern[str], limit: int = 8) -> list[tuple[int, Parsed]]:
    """Up to `limit` structures whose start `opener` finds, each parsed forgivingly, none inside another."""
    found: list[tuple[int, Parsed]] = []
    end, failures = -1, 0
    for match in opener.finditer(text):
        if match.start() < end:
            continue
        parsed = parse_at(text, match.start())
        if parsed is None:
            failures += 1
            if failures > 4 * limit:  # a broken log full of openers stays linear: give up, the scanner reads it
                break
            continue
        found.append((match.start(), parsed))
        end = parsed.end
        if len(found) >= limit:
            break
    return found
