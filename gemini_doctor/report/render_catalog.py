"""`errors` without colour: the catalog's table laid out by hand, exactly as Rich lays out the table
`render_rich` prints at a terminal (tests/test_render_catalog.py compares the two, at the widths where the title
column starts to wrap and others).

Building and rendering that Rich table for the whole catalog costs more than the rest of the command (about 0.1 s,
the import of rich.console and rich.table aside); laid out here, piped `errors` imports neither. Where only Rich
can say (a title column narrower than its longest word, so words would be folded; an emoji code), `plain_catalog`
answers None and the caller renders the Rich table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rich.cells import cell_len  # Rich's measure of a character's width: light, unlike rich.console

from gemini_doctor.report.document import Entry

HEADERS = ("code", "slug", "category", "HTTP", "title")
GAP = 2  # Rich's cell padding (0, 1), with no edge padding: one space after a cell, one before the next
WORD = re.compile(r"\s*\S+\s*")  # a word and the spaces after it, as Rich divides a line
EMOJI_CODE = re.compile(r":\S+?:")  # Rich prints :smile: as an emoji: such a title is left to Rich


def catalog_rows(catalog: Iterable[Entry]) -> list[tuple[str, str, str, str, str]]:
    """One row per entry: code, slug, category, HTTP status ("–" for none), title."""
    return [(e.code, e.slug, e.category, str(e.http_status or "–"), e.title) for e in catalog]


def plain_catalog(catalog: Sequence[Entry], width: int | None) -> str | None:
    """The table as text, `width` None: nothing wrapped. Codes, slugs, categories never wrap; a title too long
    for what is left of the width wraps, its lines under the title column. None: only Rich can say (a word would
    have to be folded, or a cell holds an emoji code)."""
    rows = [HEADERS, *catalog_rows(catalog)]
    widths = [max(cell_len(row[column]) for row in rows) for column in range(len(HEADERS))]
    indent = sum(w + GAP for w in widths[:-1])
    room = widths[-1] if width is None or indent + widths[-1] <= width else width - indent
    titles = [row[-1] for row in rows]
    if max(cell_len(word) for title in titles for word in title.split() or [""]) > room:
        return None
    if any(EMOJI_CODE.search(cell) for row in rows for cell in row):
        return None
    lines = []
    for row in rows:
        head = "".join(cell + " " * (w + GAP - cell_len(cell)) for cell, w in zip(row[:-1], widths, strict=False))
        for number, line in enumerate(_wrapped(row[-1], room)):
            lines.append((head if number == 0 else " " * indent) + line)
    return "".join(line.rstrip() + "\n" for line in lines)


def _wrapped(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` cells, broken between words as Rich breaks them (no word is longer)."""
    lines: list[str] = []
    line, offset = "", 0
    for word in WORD.findall(text):
        if offset and width - offset < cell_len(word.rstrip()):
            lines.append(line)
            line, offset = "", 0
        line += word
        offset += cell_len(word)
    return [*lines, line] if lines or line else [""]
