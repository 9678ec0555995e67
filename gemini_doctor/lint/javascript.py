"""JavaScript / TypeScript (and JSON) front-end: a tolerant tokenizer, brackets matched into groups, and object
literals, arrays and calls read into the neutral shape.

It is not a parser: it never fails. An unterminated string ends at the line's end, a stray bracket is dropped,
a `{}` that is not an object literal (a block, an interface body) is only searched for object literals inside.
"""

from __future__ import annotations

import bisect
import itertools
import re

from gemini_doctor.lint.hot import hot_statements
from gemini_doctor.lint.nodes import Entry, Lst, Node, Num, Obj, Opaque, Scan, Str, Sym
from gemini_doctor.lint.rules import read_alone

# Whitespace and comments are skipped in the same match as the token after them (half the matches). Possessive
# repeats (no backtracking state kept): the token after them is optional, so nothing is ever given back.
_TOKEN = re.compile(
    r"""
    (?:[\s\ufeff]++|//[^\n]*+|/\*[\s\S]*?(?:\*/|\Z))*+
    (?:
      (?P<id>[A-Za-z_$\u0080-\U0010ffff][\w$\u0080-\U0010ffff]*+)
    | (?P<str>"[^"\\\n]*+(?:\\[\s\S][^"\\\n]*+)*+"?|'[^'\\\n]*+(?:\\[\s\S][^'\\\n]*+)*+'?)
    | (?P<tpl>`)
    | (?P<num>(?:0[xXbBoO][0-9a-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?)n?)
    | (?P<punct>\.\.\.|\?\.|=>|[^\s])
    )?
    """,
    re.VERBOSE,
)
_KINDS = ("", *sorted(_TOKEN.groupindex, key=_TOKEN.groupindex.__getitem__))  # group number → token kind
_STRING = re.compile(r""""[^"\\\n]*(?:\\[\s\S][^"\\\n]*)*"?|'[^'\\\n]*(?:\\[\s\S][^'\\\n]*)*'?""")
_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {")": "(", "]": "[", "}": "{"}
_VALUE_END = {"id", "num", "str", "tpl"}  # after these (and ) ] }) a `/` divides; elsewhere it starts a regex
_KEYWORDS_BEFORE_EXPR = {"return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do"}
_TS_TAILS = {"as", "satisfies"}
_METHOD_PREFIXES = {"async", "get", "set", "static", "*"}


class Tok:
    __slots__ = ("end", "kind", "start", "text", "value")

    def __init__(self, kind: str, text: str, start: int, end: int, value: str | None = None) -> None:
        self.kind, self.text, self.start, self.end, self.value = kind, text, start, end, value


class Group:
    __slots__ = ("close", "items", "kind", "open")

    def __init__(self, open_tok: Tok) -> None:
        self.open = open_tok
        self.kind = open_tok.text  # "(", "[" or "{"
        self.items: list[Tok | Group] = []
        self.close: Tok | None = None


def scan_javascript(source: str, language: str = "javascript", lowered: str | None = None) -> Scan:
    """The file read into the neutral shape; JavaScript and TypeScript read only their top-level statements that
    could hold a finding (the others blank lines: positions unchanged)."""
    if language != "json":
        source = hot_statements(source, "javascript", lowered).text or source
    return _Reader(source, language).read()


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] == "u" and len(code) > 1:
            digits = code[2:-1] if code[1] == "{" else code[1:]
            try:
                return chr(int(digits, 16))
            except (ValueError, OverflowError):
                return code
        if code[0] == "x" and len(code) == 3:
            return chr(int(code[1:], 16))
        if code in ("\n", "\r\n", "\r", "\u2028", "\u2029"):
            return ""
        return _SIMPLE_ESCAPES.get(code, code)

    return _ESCAPE.sub(one, body)


class _Reader:
    def __init__(self, source: str, language: str) -> None:
        self.src = source
        self.scan = Scan(language)
        # Where each line starts: the lengths of the lines before it, and their line breaks, summed.
        self.line_starts = [0, *itertools.accumulate(map((1).__add__, map(len, source.split("\n")[:-1])))]
        self.strs: dict[int, Str] = {}

    # positions -----------------------------------------------------------------------------------------------
    def _span(self, start: int, end: int) -> tuple[int, int, int, int]:
        """(line, column, end line, end column) of two offsets, 1-based; an end before the start is the start."""
        starts = self.line_starts
        line = bisect.bisect_right(starts, start)
        end = max(start, end)
        end_line = bisect.bisect_right(starts, end)
        return line, start - starts[line - 1] + 1, end_line, end - starts[end_line - 1] + 1

    # tokens --------------------------------------------------------------------------------------------------
    def tokens(self) -> list[Tok]:
        src, out = self.src, []
        pos, size = 0, len(src)
        last: Tok | None = None
        finditer, kinds = _TOKEN.finditer, _KINDS
        while pos < size:
            restart = None
            for m in finditer(src, pos):
                group = m.lastindex
                if group is None:  # only whitespace and comments were left
                    break
                kind = kinds[group]
                start, end = m.span(group)
                if kind == "tpl":
                    last, restart = self._template(start)
                    out.append(last)
                    break
                text = src[start:end]
                if kind == "punct" and text == "/" and not self._divides(last):
                    last, restart = self._regex(start)
                    out.append(last)
                    break
                if kind == "str":
                    body = text[1:-1] if end - start > 1 and text[-1] == text[0] else text[1:]
                    last = Tok(kind, text, start, end, body if "\\" not in body else _unescape(body))
                else:
                    last = Tok(kind, text, start, end)
                out.append(last)
            if restart is None:
                break
            pos = restart
        return out

    @staticmethod
    def _divides(last: Tok | None) -> bool:
        if last is None:
            return False
        if last.kind == "id":
            return last.text not in _KEYWORDS_BEFORE_EXPR
        if last.kind in _VALUE_END or last.kind == "regex":
            return True
        return last.text in (")", "]", "}")

    def _regex(self, start: int) -> tuple[Tok, int]:
        src, pos, in_class = self.src, start + 1, False
        while pos < len(src):
            char = src[pos]
            if char == "\n":
                return Tok("punct", "/", start, start + 1), start + 1  # not a regex after all: a lone slash
            if char == "\\":
                pos += 2
                continue
            if char == "[":
                in_class = True
            elif char == "]":
                in_class = False
            elif char == "/" and not in_class:
                pos += 1
                while pos < len(src) and (src[pos].isalnum() or src[pos] == "_"):
                    pos += 1
                return Tok("regex", src[start:pos], start, pos), pos
            pos += 1
        return Tok("punct", "/", start, start + 1), start + 1

    def _template(self, start: int) -> tuple[Tok, int]:
        """A template literal; its text with `${…}` read as "{}" (expressions inside are not searched)."""
        src, pos, parts, chunk = self.src, start + 1, [], start + 1
        size = len(src)
        while pos < size:
            char = src[pos]
            if char == "\\":
                pos += 2
                continue
            if char == "`":
                parts.append(src[chunk:pos])
                pos += 1
                break
            if char == "$" and src.startswith("${", pos):
                parts.append(src[chunk:pos])
                parts.append("{}")
                pos = self._skip_expression(pos + 2)
                chunk = pos
                continue
            pos += 1
        else:
            parts.append(src[chunk:pos])
        return Tok("tpl", src[start:pos], start, pos, _unescape("".join(parts))), pos

    def _skip_expression(self, pos: int) -> int:
        depth, src, size = 1, self.src, len(self.src)
        while pos < size:
            char = src[pos]
            if char in "\"'":
                m = _STRING.match(src, pos)
                pos = m.end() if m else pos + 1
                continue
            if char == "`":
                pos = self._template(pos)[1]
                continue
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return pos + 1
            pos += 1
        return pos

    # groups --------------------------------------------------------------------------------------------------
    @staticmethod
    def groups(tokens: list[Tok]) -> list:
        root: list = []
        stack: list[Group] = []
        opened: list[str] = []  # the kinds of the groups in `stack`
        current = root
        for tok in tokens:
            text = tok.text
            if tok.kind != "punct" or (text not in _OPEN and text not in _CLOSE):
                current.append(tok)
            elif text in _OPEN:
                group = Group(tok)
                current.append(group)
                stack.append(group)
                opened.append(text)
                current = group.items
            elif _CLOSE[text] in opened:  # else a stray closer: dropped
                opener = _CLOSE[text]
                while stack:
                    group = stack.pop()
                    opened.pop()
                    if group.kind == opener:
                        group.close = tok
                        break
                current = stack[-1].items if stack else root
        return root

    # reading -------------------------------------------------------------------------------------------------
    def read(self) -> Scan:
        tokens = self.tokens()
        for tok in tokens:
            if (tok.kind == "str" or tok.kind == "tpl") and read_alone(tok.value or ""):
                self.scan.strings.append(self._string(tok))
        self.search(self.groups(tokens), None, None)
        self.scan.objects.sort(key=lambda o: (o.line, o.col))
        return self.scan

    def _string(self, tok: Tok) -> Str:
        found = self.strs.get(tok.start)
        if found is None:
            text = tok.value or ""
            found = Str(*self._span(tok.start, tok.end), text, template=tok.kind == "tpl" and "{}" in text)
            self.strs[tok.start] = found
        return found

    def _group_span(self, group: Group) -> tuple[int, int, int, int]:
        end = group.close.end if group.close else group.open.end
        return self._span(group.open.start, end)

    def search(self, items: list, parent: Obj | None, key: str | None) -> None:
        """Find every object literal, array and call in a run of items that is not itself a value."""
        for index, item in enumerate(items):
            if isinstance(item, Group):
                callee = _callee(items, index) if item.kind == "(" else None
                self.group_value(item, parent, key, callee)

    def group_value(self, group: Group, parent: Obj | None, key: str | None, callee: str | None = None) -> Node:
        if group.kind == "{":
            obj = self.object(group, parent, key)
            if obj is not None:
                return obj
            self.search(group.items, parent, key)  # a block: look inside
            return Opaque(*self._group_span(group))
        if group.kind == "[":
            return Lst(*self._group_span(group), [self.value(seg, parent, key) for seg in _split(group.items) if seg])
        for segment in _split(group.items):  # ( … ): call arguments or a parenthesised expression
            node = self.value(segment, parent, key)
            if callee and isinstance(node, Obj) and node.callee is None:
                node.callee = callee
        return Opaque(*self._group_span(group))

    def object(self, group: Group, parent: Obj | None, key: str | None) -> Obj | None:
        items = group.items
        for item in items:
            if type(item) is Tok and item.text == ";" and item.kind == "punct":
                return None
        segments = _split(items)
        plan = []
        for segment in segments:
            if not segment:
                continue
            shape = _entry_shape(segment)
            if shape is None:
                return None
            plan.append((shape, segment))
        obj = Obj(*self._group_span(group), parent=parent, key=key)
        self.scan.objects.append(obj)
        for shape, segment in plan:
            if shape == "pair":
                name_tok = segment[0]
                name = name_tok.value if name_tok.kind == "str" else name_tok.text
                rest = segment[2:] if segment[1].text == ":" else segment[3:]  # `key?: value` in a type
                where = Sym(*self._span(name_tok.start, name_tok.end), name)
                obj.entries.append(Entry(name, where, self.value(rest, obj, name)))
            elif shape == "shorthand":
                tok = segment[0]
                span = self._span(tok.start, tok.end)
                obj.entries.append(Entry(tok.text, Sym(*span, tok.text), Opaque(*span)))
            else:  # spread, computed key, method: only look inside
                self.search(segment, obj, None)
        return obj

    def value(self, segment: list, parent: Obj | None, key: str | None) -> Node:
        for index in range(1, len(segment)):  # `x as const`, `x satisfies T`
            item = segment[index]
            if isinstance(item, Tok) and item.kind == "id" and item.text in _TS_TAILS:
                self.search(segment[index:], parent, key)
                segment = segment[:index]
                break
        if len(segment) == 1:
            item = segment[0]
            if isinstance(item, Group):
                return self.group_value(item, parent, key)
            if item.kind in ("str", "tpl"):
                return self._string(item)
            if item.kind == "num":
                try:
                    number: int | float = int(item.text.replace("_", ""), 0)
                except ValueError:
                    try:
                        number = float(item.text.replace("_", "").rstrip("n"))
                    except ValueError:
                        return Opaque(*self._span(item.start, item.end))
                return Num(*self._span(item.start, item.end), number)
            if item.kind == "id":
                return Sym(*self._span(item.start, item.end), item.text)
            return Opaque(*self._span(item.start, item.end))
        if segment and _is_dotted(segment):
            first, last = segment[0], segment[-1]
            return Sym(*self._span(first.start, last.end), "".join(t.text for t in segment).replace("?.", "."))
        self.search(segment, parent, key)
        if not segment:
            return Opaque(0, 0, 0, 0)
        first, last = segment[0], segment[-1]
        start = first.open.start if isinstance(first, Group) else first.start
        end = (last.close or last.open).end if isinstance(last, Group) else last.end
        return Opaque(*self._span(start, end))


def _split(items: list) -> list[list]:
    """Items split at top-level commas."""
    segments: list[list] = []
    current: list = []
    for item in items:
        if isinstance(item, Tok) and item.kind == "punct" and item.text == ",":
            segments.append(current)
            current = []
        else:
            current.append(item)
    segments.append(current)
    return segments


def _entry_shape(segment: list) -> str | None:
    first = segment[0]
    if isinstance(first, Tok):
        if first.text == "..." and first.kind == "punct":
            return "spread"
        if first.kind in ("id", "str", "num") and len(segment) >= 2:
            second = segment[1]
            if isinstance(second, Tok) and second.kind == "punct":
                if second.text == ":":
                    return "pair"
                if second.text == "?" and len(segment) >= 3 and getattr(segment[2], "text", "") == ":":
                    return "pair"
        if first.kind == "id" and len(segment) == 1:
            return "shorthand"
        if first.kind == "id" or first.text == "*":  # methods: name(…) {…}, async name(…) {…}, get x() {…}
            rest = segment[1:] if first.text in _METHOD_PREFIXES else segment
            while rest and isinstance(rest[0], Tok) and (rest[0].kind in ("id", "str") or rest[0].text == "*"):
                rest = rest[1:]
            if len(rest) >= 2 and isinstance(rest[0], Group) and rest[0].kind == "(" and isinstance(rest[-1], Group):
                return "method"
    elif first.kind == "[" and len(segment) >= 2 and getattr(segment[1], "text", "") in (":", "("):
        return "computed"
    return None


def _is_dotted(segment: list) -> bool:
    """`a.b.c` (or `a?.b`): identifiers joined by dots."""
    if len(segment) % 2 == 0:
        return False
    for index, item in enumerate(segment):
        if not isinstance(item, Tok):
            return False
        if index % 2 == 0 and item.kind != "id":
            return False
        if index % 2 == 1 and item.text not in (".", "?."):
            return False
    return True


def _callee(items: list, index: int) -> str | None:
    """The dotted name right before a `(` group: `ai.models.generateContent` in `ai.models.generateContent({…})`."""
    parts: list[str] = []
    position = index - 1
    while position >= 0:
        item = items[position]
        if not isinstance(item, Tok) or item.kind != "id":
            break
        parts.append(item.text)
        if position >= 1 and isinstance(items[position - 1], Tok) and items[position - 1].text in (".", "?."):
            position -= 2
            continue
        break
    if not parts:
        return None
    return ".".join(reversed(parts))
