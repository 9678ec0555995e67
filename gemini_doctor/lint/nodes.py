"""The neutral shape every language front-end produces: objects, lists, literals, names, with positions.

Python calls with keyword arguments, Python dicts, JS object literals and JSON objects all become `Obj`; the
rules in `rules.py` read only this shape, so each trap is written once for every language.
Lines and columns are 1-based; columns count Unicode code points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True, eq=False)
class Node:
    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(slots=True, eq=False)
class Str(Node):
    value: str
    template: bool = False  # an f-string or template literal: placeholders read as "{}"


@dataclass(slots=True, eq=False)
class Num(Node):
    value: int | float


@dataclass(slots=True, eq=False)
class Sym(Node):
    name: str  # an identifier or a dotted name: Modality.IMAGE, types.Modality.TEXT


@dataclass(slots=True, eq=False)
class Opaque(Node):
    """Any other expression: a value the linter cannot know without running the code."""


@dataclass(slots=True, eq=False)
class Lst(Node):
    items: list[Node] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Entry:
    key: str
    node: Node  # where the key is written
    value: Node


@dataclass(slots=True, eq=False)
class Obj(Node):
    entries: list[Entry] = field(default_factory=list)
    callee: str | None = None  # `types.GenerateContentConfig`, `ai.models.generateContent`, …
    parent: Obj | None = None
    key: str | None = None  # the key this object sits under in `parent`

    def entry(self, *keys: str) -> Entry | None:
        for item in self.entries:
            if item.key in keys:
                return item
        return None

    def value(self, *keys: str) -> Node | None:
        found = self.entry(*keys)
        return found.value if found else None

    @property
    def callee_tail(self) -> str:
        return (self.callee or "").rsplit(".", 1)[-1]


@dataclass(slots=True)
class Scan:
    """What a front-end read from one file."""

    language: str
    objects: list[Obj] = field(default_factory=list)  # every object, in source order
    strings: list[Str] = field(default_factory=list)  # the string literals rules.read_alone keeps, not docstrings
    error: str | None = None  # the file could not be read as this language
    vertex: bool = False  # the file calls Vertex AI (set by the caller from the source text)


class Unknown:
    """Stands for a value the linter cannot know, inside plain dicts handed to `read_request`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = Unknown()


def plain(node: Node | None, seen: set[int] | None = None) -> Any:
    """The node as plain Python data (what the request would be), unknowns as UNKNOWN; records objects in `seen`."""
    if isinstance(node, Str):
        return UNKNOWN if node.template else node.value
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Lst):
        return [plain(item, seen) for item in node.items]
    if isinstance(node, Obj):
        if seen is not None:
            seen.add(id(node))
        return {entry.key: plain(entry.value, seen) for entry in node.entries}
    if isinstance(node, Sym):
        return modality_name(node.name) or UNKNOWN
    return UNKNOWN


def modality_name(name: str) -> str | None:
    """`Modality.IMAGE` / `types.Modality.TEXT` → "IMAGE" / "TEXT"; anything else None."""
    head, _, tail = name.rpartition(".")
    if head.rsplit(".", 1)[-1] == "Modality" and tail.isupper():
        return tail
    return None


def literal_text(node: Node | None) -> str | None:
    """The text of a plain string literal; None for anything the linter cannot read."""
    if isinstance(node, Str) and not node.template:
        return node.value
    return None
