"""Only the top-level statements of a file that could hold a finding are read: the others become blank lines.

A statement holds a finding only if it holds what the rules start from, and so one of its words: a request, a
generation config or an imageConfig (a key, a call the rules read), a model name or a URL. A field judged inside
one of those (personGeneration, sampleCount, outputMimeType, …) is in the same statement as the key or call
that makes it one: lint follows no variable but a Python constant, so a field written elsewhere is never read.
In Python a statement is also kept when it binds a name at the top level to a value that may be a literal (a
constant another statement may use). Blanking the rest keeps every line number and every column of what is
kept, so positions stay right; the parsers then see a file a tenth of the size.
Statements are found by their lines at column 0, not inside a triple-quoted string (Python) or a template literal
(JavaScript) as far as counting quotes tells; a wrong cut is caught by the Python parser (the whole file is read
then); the JavaScript tokenizer never fails, so there a cut errs towards keeping more.
"""

from __future__ import annotations

import bisect
import itertools
import re
from typing import NamedTuple

# The words of what the rules start from, in lower case: a request (generate_content and the other calls of
# rules.REQUEST_CALLS hold "generat"; chats.create; a body with contents), a generation config (GenerateContentConfig,
# a config or generationConfig key, responseModalities), an imageConfig (ImageConfig, imageConfig), a model name
# ("gemini-…"), a URL on the OpenAI-compatible route or on v1 (generativelanguage…/v1, …:generateContent), an
# api_version. Every field a rule judges (imageSize, personGeneration, sampleCount, …) is read inside one of these,
# so in the same top-level statement as its word: lint follows no variable but a Python literal constant. "model"
# is kept besides (a key of every request). test_lint_hot shows each word the only one that keeps a trap.
HOT = ("gemini", "modalit", "generat", "openai", "contents", "config", "model", "chats", "api_version", "apiversion")
# A line break before a word at column 0 that does not continue the statement before it: a literal first character
# lets the regex engine skip ahead (five times faster than `^` in MULTILINE mode, which is tried at every offset);
# offset 0 is checked on its own. The word (to a space or a colon, at most 9 characters) is read after a decorator.
_CONTINUATIONS = ("else", "elif", "except", "finally", "catch")  # `else:` continues the statement before it
_NOT_CONTINUING = rf"(?!(?:{'|'.join(_CONTINUATIONS)})(?:[\s:]|\Z))"  # tried only where a word starts
# A line right after one that ends with a comma, an open bracket or a backslash goes on with its statement (a call's
# or an object's items written at column 0).
_NOT_GOING_ON = r"(?<![,(\[{\\]\n)(?<![,(\[{\\]\r\n)"
_STARTS = {
    "python": re.compile(rf"\n(?=[A-Za-z_@]){_NOT_GOING_ON}{_NOT_CONTINUING}"),
    "javascript": re.compile(rf"\n(?=[A-Za-z_$@]){_NOT_GOING_ON}{_NOT_CONTINUING}"),
}
_WORD = re.compile(r"[^\s:]{1,9}")
_FIRST = {"python": re.compile(r"[A-Za-z_@]"), "javascript": re.compile(r"[A-Za-z_$@]")}
_QUOTES = {"python": ('"""', "'''"), "javascript": ("`",)}
_DECORATED = ("def", "class", "async", "export")  # what a decorator stands before
# Python: `NAME = …` at the top level is kept when its value may be a literal: a constant lint may follow. An
# assignment whose value cannot be one (a call, an attribute, a subscript, a list or a dict) is left out, and its
# name reported as rebound (not followed), as parsing it would have made it; unless it may bind names inside (a
# comprehension's, a lambda's, a walrus'). JavaScript constants are not followed: nothing kept for them.
_TARGET = r"([A-Za-z_]\w*)\s*(?::[^=\n]*)?=(?!=)"  # `NAME =` or `NAME: type =`
_ASSIGNMENT = re.compile(_TARGET)
_REBINDING = re.compile(_TARGET + r"[ \t]*(?:[\[{]|[A-Za-z_]\w*[ \t]*[.(\[])")  # … = a call, attribute, subscript, …
_BINDS_INSIDE = ("for", "lambda", ":=")


class Cut(NamedTuple):
    """The source with cold statements blanked (None: nothing left out), and the names the assignments left out
    bind (Python): no constant of those names may be followed."""

    text: str | None
    rebound: tuple[str, ...] = ()


def _find_all(text: str, words: tuple[str, ...]) -> list[int]:
    """Every offset where one of `words` starts, sorted (str.find in a loop: faster than a regex alternation)."""
    found = []
    for word in words:
        index = text.find(word)
        while index >= 0:
            found.append(index)
            index = text.find(word, index + len(word))
    found.sort()
    return found


def _hot(lowered: str, starts: list[int]) -> list[bool]:
    """For each statement (from starts[i] to starts[i + 1]), whether it holds a word of HOT; past a word found,
    the search goes on from the next statement."""
    hot = [False] * len(starts)
    last = len(starts)
    for word in HOT:
        index = lowered.find(word)
        while index >= 0:
            following = bisect.bisect_right(starts, index)
            hot[following - 1] = True
            if following == last:
                break
            index = lowered.find(word, starts[following])
    return hot


def _statement_starts(source: str, language: str) -> list[int]:
    """Offsets where top-level statements start: lines at column 0, not inside a multi-line string or a JavaScript
    block comment, not after a line ending with a comma or an open bracket, not an `else:` / `except` continuing
    the one before, not the `def` under a decorator."""
    lines = [match.end() for match in _STARTS[language].finditer(source)]
    quotes = _find_all(source, _QUOTES[language])
    if quotes:
        inside = bisect.bisect_left  # inside a multi-line string (as far as counting quotes tells): odd
        lines = [offset for offset in lines if not inside(quotes, offset) % 2]
    if language == "javascript" and "/*" in source:
        lines = _outside_comments(source, lines)
    if _FIRST[language].match(source):
        lines.insert(0, 0)
    if source.startswith("@") or "\n@" in source:
        lines = _undecorated(source, lines)
    return [0, *lines]


def _outside_comments(source: str, lines: list[int]) -> list[int]:
    """The line starts less those inside a JavaScript block comment (`/*` to the next `*/`, or to the end)."""
    opens, ends = [], []
    index = source.find("/*")
    while index >= 0:
        end = source.find("*/", index + 2)
        end = len(source) if end < 0 else end + 2
        opens.append(index)
        ends.append(end)
        index = source.find("/*", end)
    kept = []
    for offset in lines:
        comment = bisect.bisect_right(opens, offset) - 1
        if comment < 0 or offset >= ends[comment]:
            kept.append(offset)
    return kept


def _undecorated(source: str, lines: list[int]) -> list[int]:
    """The line starts less those a decorator stands before: after `@…`, every line up to and with the `def`,
    `class`, `async` or `export` it decorates."""
    kept = []
    decorated = False
    for offset in lines:
        mark = source[offset] == "@"
        if decorated:
            word = _WORD.match(source, offset)
            decorated = mark or word is None or word.group() not in _DECORATED
            continue
        decorated = mark
        kept.append(offset)
    return kept


def hot_statements(source: str, language: str, lowered: str | None = None) -> Cut:
    """The source with every top-level statement that holds no word a rule reads (and, in Python, is no
    assignment of a value that may be a literal) turned into blank lines. `lowered`: source.lower(), when the
    caller has it."""
    starts = _statement_starts(source, language)
    starts.append(len(source))
    hot = _hot(source.lower() if lowered is None else lowered, starts)
    rebound: list[str] = []
    if language == "python":
        for index, (begin, end) in enumerate(itertools.pairwise(starts)):
            if begin == end or hot[index] or not _ASSIGNMENT.match(source, begin):
                continue
            name = _rebinding(source, begin, end)
            if name is None:
                hot[index] = True
            else:
                rebound.append(name)
    parts: list[str] = []
    written = 0  # the source is written up to here; what lies between kept statements becomes its line breaks
    cold = False
    for index in itertools.compress(range(len(hot)), hot):
        begin = starts[index]
        if written < begin:
            parts.append("\n" * source.count("\n", written, begin))
            cold = True
        written = starts[index + 1]
        parts.append(source[begin:written])
    if written < len(source):
        parts.append("\n" * source.count("\n", written))
        cold = True
    return Cut("".join(parts), tuple(rebound)) if cold else Cut(None)


def _rebinding(source: str, begin: int, end: int) -> str | None:
    """The name a top-level assignment (from `begin` to `end`) binds, if its value cannot be a literal and it binds
    no other name inside; else None (the statement is kept)."""
    found = _REBINDING.match(source, begin)
    if found is None or any(source.find(mark, begin, end) >= 0 for mark in _BINDS_INSIDE):
        return None
    return found.group(1)
