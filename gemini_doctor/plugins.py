"""The entry points of one group, read as `importlib.metadata.entry_points(group=...)` reads them, for less.

Importing importlib.metadata (email, csv, zipfile) and parsing every installed distribution's entry points costs
some 30 ms of `check`'s start-up, before its first request. Here the `*.dist-info` and `*.egg-info` folders on
sys.path are listed, and only a file that names the group is parsed. The same distributions win: the first one
on sys.path of each name, as importlib.metadata has it. Where this reading could differ (a zip file or an
unpacked .egg on sys.path, a meta-path finder of its own that lists distributions), importlib.metadata is asked.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import sys
from dataclasses import dataclass
from importlib.machinery import PathFinder
from typing import Any

_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?(\[.*\])?\s*$")


@dataclass(frozen=True)
class Plugin:
    name: str
    value: str  # "module:attribute"

    def load(self) -> Any:
        """The object named, as importlib.metadata's EntryPoint.load finds it."""
        match = _VALUE.match(self.value)
        if match is None:
            raise ValueError(f"{self.value!r} is not an entry point's module:attribute")
        module = importlib.import_module(match.group("module"))
        attrs = filter(None, (match.group("attr") or "").split("."))
        return functools.reduce(getattr, attrs, module)


def entry_points(group: str) -> list[Plugin]:
    if not _plain_path():
        from importlib.metadata import entry_points as metadata_entry_points

        return [Plugin(entry.name, entry.value) for entry in metadata_entry_points(group=group)]
    found: list[Plugin] = []
    seen: set[str] = set()
    header = f"[{group}]"
    for folder in sys.path:
        for name, path in _distributions(folder or "."):
            if name in seen:
                continue
            seen.add(name)
            try:
                with open(os.path.join(path, "entry_points.txt"), encoding="utf-8") as file:
                    text = file.read()
            except OSError:
                continue
            if header in text:
                found.extend(_section(text, group))
    return found


def _plain_path() -> bool:
    """Whether every distribution importlib.metadata would find is a metadata folder in a folder on sys.path (not
    in a zip, not an unpacked .egg's EGG-INFO, not from a finder of its own)."""
    finders = [f for f in sys.meta_path if hasattr(f, "find_distributions") and f is not PathFinder]
    entries = [entry for entry in sys.path if entry]
    return not finders and not any(e.lower().endswith(".egg") or os.path.isfile(e) for e in entries)


def _distributions(folder: str) -> list[tuple[str, str]]:
    """(normalised name, path) of each distribution's metadata in `folder`, in the order of the folder's listing,
    as importlib.metadata takes them (a legacy .egg-info may be a file: it has no entry points)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = [name for name in names if name.lower().endswith((".dist-info", ".egg-info"))]
    return [(_normalised(name), os.path.join(folder, name)) for name in found]


def _normalised(folder_name: str) -> str:
    """A distribution's name from its metadata folder's (`Name-1.0.dist-info`), as PEP 503 normalises it."""
    stem = folder_name.lower().rpartition(".")[0].partition("-")[0]
    return re.sub(r"[-_.]+", "_", stem)


def _section(text: str, group: str) -> list[Plugin]:
    """The `name = value` lines of the `[group]` section of an entry_points.txt."""
    plugins: list[Plugin] = []
    inside = False
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            inside = line[1:-1].strip() == group
        elif inside and "=" in line:
            name, _, value = line.partition("=")
            plugins.append(Plugin(name.strip(), value.strip()))
    return plugins
