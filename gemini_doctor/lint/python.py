"""Python front-end: `ast` turns calls with keyword arguments and dict literals into `Obj`, strings into `Str`.

`types.GenerateContentConfig(response_modalities=[...], image_config=types.ImageConfig(image_size="1k"))` and
`{"response_modalities": [...], "image_config": {...}}` read the same. Docstrings are not strings here.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from gemini_doctor.lint.hot import hot_statements
from gemini_doctor.lint.nodes import Entry, Lst, Node, Num, Obj, Opaque, Scan, Str, Sym
from gemini_doctor.lint.rules import INTERESTING_CALLS, INTERESTING_KEYS, read_alone


def scan_python(source: str, lowered: str | None = None) -> Scan:
    """The file read into the neutral shape. Only its top-level statements that could hold a finding are parsed
    (the others become blank lines, so every position stays right); the whole file when that does not parse.
    `lowered`: source.lower(), when the caller has it."""
    short, rebound = hot_statements(source, "python", lowered)
    tree = None
    if short is not None:
        try:
            tree = ast.parse(short)
        except (SyntaxError, ValueError):
            tree = None  # the cut was wrong (a statement split inside a string): read the whole file
    if tree is None:
        rebound = ()  # the whole file: every assignment is read
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            where = f" at line {line}" if line else ""
            return Scan("python", error=f"not valid Python ({getattr(exc, 'msg', exc)}{where})")
    return _Reader(source, rebound).read(tree)


class _Reader:
    def __init__(self, source: str, rebound: tuple[str, ...] = ()) -> None:
        self.lines = None if source.isascii() else re.split(r"\r\n|\r|\n", source)
        self.scan = Scan("python")
        self.done: set[int] = set()  # ids of ast nodes already turned into objects or strings
        self.strs: dict[int, Str] = {}
        self.constants: dict[str, ast.Constant | None] = {}  # name → its one literal assignment; None: bound again
        self.rebound = rebound  # names bound by assignments the cut left out: never followed

    def read(self, tree: ast.AST) -> Scan:
        """One pass over the tree, parents before children (ast.walk's order, without its generator overhead)."""
        skip: set[int] = set()
        strings = self.scan.strings
        stack: list[ast.AST] = [tree]
        pop, push, fields, leaves = stack.pop, stack.append, _FIELDS, _LEAVES
        while stack:
            node = pop()
            kind = type(node)
            if kind is _Constant:
                value = node.value  # type: ignore[attr-defined]
                if isinstance(value, str) and read_alone(value) and id(node) not in skip:
                    strings.append(self._str(node))
                continue
            if kind in _SPECIAL:
                self._special(node, kind, skip)
            for name in fields.get(kind) or _child_fields(kind):
                value = getattr(node, name, None)
                if type(value) is list:
                    for item in reversed(value):
                        if isinstance(item, ast.AST) and type(item) not in leaves:
                            push(item)
                elif isinstance(value, ast.AST) and type(value) not in leaves:
                    push(value)
        self._follow_constants()
        self.scan.objects.sort(key=lambda o: (o.line, o.col))
        strings.sort(key=lambda s: (s.line, s.col))
        return self.scan

    def _special(self, node: ast.AST, kind: type, skip: set[int]) -> None:
        """What a node other than a constant adds before its children are walked: a docstring or f-string's parts
        left out, an object read, a name bound, a Literal's values left out."""
        if kind is ast.Expr and type(node.value) is _Constant:  # type: ignore[attr-defined]
            skip.add(id(node.value))  # type: ignore[attr-defined]  # a docstring or a bare string statement
        elif kind is ast.JoinedStr:
            skip.update(id(part) for part in node.values)  # type: ignore[attr-defined]
            if id(node) not in skip and read_alone((found := self._str(node)).value):
                self.scan.strings.append(found)
        elif (kind is ast.Call or kind is ast.Dict) and id(node) not in self.done and _interesting(node):
            self.convert(node, None, None)
        elif kind in _BINDERS:
            self._bind(node)
        elif kind is ast.Subscript and _literal_type(node.value):  # type: ignore[attr-defined]
            skip.update(id(item) for item in ast.walk(node.slice))  # type: ignore[attr-defined]  # names, not calls

    def _bind(self, node: ast.AST) -> None:
        """Record the names a statement binds: `NAME = "literal"` once in the file is a constant lint can follow;
        any other binding of the name (a second assignment, a loop, a parameter, an import) makes it unknown."""
        kind = type(node)
        if kind is ast.Assign or kind is ast.AnnAssign:
            targets = node.targets if kind is ast.Assign else [node.target]  # type: ignore[attr-defined]
            value = node.value  # type: ignore[attr-defined]
            if len(targets) == 1 and type(targets[0]) is ast.Name and _literal(value):
                name = targets[0].id
                self.constants[name] = None if name in self.constants else value
                return
        for name in _bound_names(node):
            self.constants[name] = None

    def _follow_constants(self) -> None:
        """`size = "1k"` … `image_size=size`: the entry's value becomes the literal, at the place it is written."""
        for name in self.rebound:
            self.constants[name] = None
        for obj in self.scan.objects:
            for entry in obj.entries:
                value = entry.value
                if type(value) is Sym and (constant := self.constants.get(value.name)) is not None:
                    entry.value = self.convert(constant, obj, entry.key)

    def _col(self, line: int, offset: int) -> int:
        """ast's UTF-8 byte offset → a 1-based column in code points."""
        if self.lines is None or line > len(self.lines):
            return offset + 1
        text = self.lines[line - 1]
        if text.isascii():
            return offset + 1
        return len(text.encode("utf-8")[:offset].decode("utf-8", "replace")) + 1

    def _pos(self, node: Any) -> tuple[int, int, int, int]:  # an expression or keyword: ast.AST has no position
        line, end_line = node.lineno, node.end_lineno or node.lineno
        if self.lines is None:  # ASCII: a byte offset is a column
            return line, node.col_offset + 1, end_line, (node.end_col_offset or 0) + 1
        return line, self._col(line, node.col_offset), end_line, self._col(end_line, node.end_col_offset or 0)

    def _str(self, node: ast.AST) -> Str:
        found = self.strs.get(id(node))
        if found is None:
            if type(node) is ast.JoinedStr:
                text = "".join(
                    part.value if type(part) is ast.Constant and isinstance(part.value, str) else "{}"
                    for part in node.values
                )
                found = Str(*self._pos(node), text, template=True)
            else:
                found = Str(*self._pos(node), node.value)  # type: ignore[attr-defined]
            self.strs[id(node)] = found
        return found

    def convert(self, node: ast.AST, parent: Obj | None, key: str | None) -> Node:
        kind = type(node)
        if kind is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            if isinstance(value, str):
                return self._str(node)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return Num(*self._pos(node), value)
            return Opaque(*self._pos(node))
        if kind is ast.JoinedStr:
            return self._str(node)
        if kind is ast.Call or kind is ast.Dict:
            self.done.add(id(node))
            obj = Obj(*self._pos(node), parent=parent, key=key)
            self.scan.objects.append(obj)
            if kind is ast.Call:
                obj.callee = _dotted(node.func)  # type: ignore[attr-defined]
                for keyword in node.keywords:  # type: ignore[attr-defined]
                    if keyword.arg is None:
                        self.convert(keyword.value, obj, None)
                        continue
                    value = self.convert(keyword.value, obj, keyword.arg)
                    where = Sym(*self._pos(keyword), keyword.arg)
                    obj.entries.append(Entry(keyword.arg, where, value))
                for argument in node.args:  # type: ignore[attr-defined]
                    self.convert(argument, obj, None)
            else:
                for key_node, value_node in zip(node.keys, node.values, strict=True):  # type: ignore[attr-defined]
                    if type(key_node) is ast.Constant and isinstance(key_node.value, str):
                        value = self.convert(value_node, obj, key_node.value)
                        obj.entries.append(Entry(key_node.value, self._str(key_node), value))
                    else:
                        self.convert(value_node, obj, None)
            return obj
        if kind is ast.List or kind is ast.Tuple or kind is ast.Set:
            return Lst(*self._pos(node), [self.convert(item, parent, key) for item in node.elts])  # type: ignore[attr-defined]
        if kind is ast.Name or kind is ast.Attribute:
            dotted = _dotted(node)
            if dotted:
                return Sym(*self._pos(node), dotted)
        return Opaque(*self._pos(node))


def _interesting(node: ast.AST) -> bool:
    """A call or dict some rule may read: a known SDK call, or one with a key the rules know.

    Others are not turned into objects (most calls in a file are `len(x)` or `log.info(...)`); calls and dicts
    inside them are still reached by the walk.
    """
    if type(node) is ast.Call:
        if any(keyword.arg in INTERESTING_KEYS for keyword in node.keywords):  # type: ignore[attr-defined]
            return True
        callee = node.func  # type: ignore[attr-defined]
        tail = callee.attr if type(callee) is ast.Attribute else callee.id if type(callee) is ast.Name else None
        return tail in INTERESTING_CALLS or tail == "create"
    return any(
        type(key) is ast.Constant and key.value in INTERESTING_KEYS
        for key in node.keys  # type: ignore[attr-defined]
    )


def _literal_type(node: ast.AST) -> bool:
    """`Literal` / `typing.Literal`: the strings in its brackets are a type's values, not something sent."""
    return (type(node) is ast.Name and node.id == "Literal") or (type(node) is ast.Attribute and node.attr == "Literal")  # type: ignore[attr-defined]


def _literal(node: ast.AST | None) -> bool:
    if type(node) is not ast.Constant:
        return False
    value = node.value  # type: ignore[attr-defined]
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _bound_names(node: ast.AST) -> list[str]:
    """Every plain name a binding statement, parameter list or import binds."""
    if type(node) is ast.arguments:
        every = [*node.posonlyargs, *node.args, *node.kwonlyargs, node.vararg, node.kwarg]  # type: ignore[attr-defined]
        return [item.arg for item in every if item is not None]
    if type(node) is ast.alias:
        return [node.asname or node.name.split(".")[0]]  # type: ignore[attr-defined]
    target = getattr(node, "targets", None) or [getattr(node, "target", None) or getattr(node, "optional_vars", None)]
    if len(target) == 1 and type(target[0]) is ast.Name:  # the common case, without ast.walk's generator
        return [target[0].id]
    return [item.id for part in target if part is not None for item in ast.walk(part) if type(item) is ast.Name]


# Nodes that bind names; plain literal assignments among them are the constants lint follows.
_BINDERS = frozenset(
    (
        ast.Assign,
        ast.AnnAssign,
        ast.AugAssign,
        ast.For,
        ast.AsyncFor,
        ast.NamedExpr,
        ast.comprehension,
        ast.withitem,
        ast.arguments,
        ast.alias,
    )
)
# Nodes the walk looks at before their children (constants aside); every other kind is only walked through.
_SPECIAL = frozenset((ast.Expr, ast.JoinedStr, ast.Call, ast.Dict, ast.Subscript, *_BINDERS))
_Constant = ast.Constant
_LEAVES = frozenset((ast.Name, ast.Load, ast.Store, ast.Del, ast.Pass, ast.Break, ast.Continue))
# Fields that hold no node: operators and contexts, and names, numbers and flags (identifiers, import levels).
_NOT_CHILDREN = frozenset(
    (
        *("ctx", "op", "ops", "type_comment", "type_ignores", "name", "module", "level", "attr", "id", "arg"),
        *("asname", "conversion", "is_async", "simple", "kind", "rest", "kwd_attrs", "tag"),
    )
)
_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(kind: type) -> tuple[str, ...]:
    found = _FIELDS.get(kind)
    if found is None:
        found = _FIELDS[kind] = tuple(name for name in kind._fields if name not in _NOT_CHILDREN)  # type: ignore[attr-defined]
    return found


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while type(node) is ast.Attribute:
        parts.append(node.attr)  # type: ignore[attr-defined]
        node = node.value  # type: ignore[attr-defined]
    if type(node) is ast.Name:
        parts.append(node.id)  # type: ignore[attr-defined]
        return ".".join(reversed(parts))
    if type(node) is ast.Call:  # genai.Client().models.generate_content
        inner = _dotted(node.func)  # type: ignore[attr-defined]
        if inner:
            parts.append(inner + "()")
            return ".".join(reversed(parts))
    return None
