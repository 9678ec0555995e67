"""`gemini-doctor lint` speed on generated trees, as a ratio to ruff on the same tree (the tool lint users compare
it with), and as files per second.

The realistic tree (default 50,000 source files): 60% .py, 20% .ts, 10% .js, 10% .json, 60-200 lines each; one in
ten calls Gemini (a third of those with a trap), plus a node_modules, a .venv and a .git folder (4,000 more files)
that both tools skip. Goals (issue 15): lint within 1.5x ruff's time on it, and within 5x on the worst case where
every file calls Gemini (no file can be passed over unparsed). ruff runs `check --no-cache --select E9` (parse
errors only: the least ruff does on a tree). `--compileall` adds CPython's own parse-everything baseline.
Rounds are interleaved (lint, then ruff); the ratio is the median of the rounds' ratios, each round's printed.
Prints medians and ratios; asserts nothing. The trees are made once per run (or kept in --tree DIR).

    python bench/bench_lint.py [--runs N] [--files N] [--tree DIR] [--compileall]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from timing import bytecode_environment, median_wall, wall

SHARE = {".py": 0.6, ".ts": 0.2, ".js": 0.1, ".json": 0.1}
GEMINI_SHARE = 0.1

PY_PLAIN = '''"""Module {n}: helpers for the {word} service."""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)
LIMITS = {{"{word}": {n}, "retries": 3, "timeout": 12.5, "labels": ["a", "b", "c"]}}


@dataclass
class {cls}:
    name: str
    size: int = {n}

    def describe(self) -> str:
        return f"{{self.name}} has {{self.size}} items"

'''
PY_FUNCTION = '''
def {word}_{i}(values: list[int], factor: float = 1.5) -> dict[str, float]:
    """Scale the values and summarise them."""
    scaled = [v * factor for v in values if v % {m} != 0]
    result = {{"count": len(scaled), "total": sum(scaled), "mean": sum(scaled) / max(1, len(scaled))}}
    if result["total"] > {n}:
        log.info("large batch %s", result)
    return result
'''
PY_GEMINI = """
from google import genai
from google.genai import types

client = genai.Client()


def draw_{i}(prompt: str):
    return client.models.generate_content(
        model="{model}",
        contents=prompt,
        config=types.GenerateContentConfig(
            response_modalities={modalities},
            image_config=types.ImageConfig(image_size="{size}", aspect_ratio="{ratio}"),
        ),
    )
"""
TS_PLAIN = """// Module {n}: {word} utilities.
import {{ readFile }} from "node:fs/promises";

export interface {cls} {{
  name: string;
  size: number;
  tags: string[];
}}

const LIMITS = {{ {word}: {n}, retries: 3, timeout: 12.5, labels: ["a", "b", "c"] }};
const pattern = /^[a-z]+\\/{n}$/i;

"""
TS_FUNCTION = """
export async function {word}{i}(path: string, factor = 1.5): Promise<Record<string, number>> {{
  const text = await readFile(path, "utf8");
  const values = text.split("\\n").map(Number).filter((v) => v % {m} !== 0);
  const total = values.reduce((a, b) => a + b * factor, 0);
  if (total > {n}) console.log(`large batch ${{total}} in ${{path}}`);
  return {{ count: values.length, total, mean: total / Math.max(1, values.length) }};
}}
"""
TS_GEMINI = """
import {{ GoogleGenAI, Modality }} from "@google/genai";
const ai = new GoogleGenAI({{ apiKey: process.env.GEMINI_API_KEY }});

export async function draw{i}(prompt: string) {{
  return ai.models.generateContent({{
    model: "{model}",
    contents: prompt,
    config: {{ responseModalities: {modalities}, imageConfig: {{ imageSize: "{size}", aspectRatio: "{ratio}" }} }},
  }});
}}
"""
JSON_PLAIN = (
    '{{"name": "pkg-{n}", "version": "1.{m}.0", "scripts": {{"build": "tsc", "test": "vitest"}}, '
    '"dependencies": {{"left-pad": "^1.3.0", "{word}": "^{m}.0.0"}}, "files": [{files}]}}\n'
)
JSON_GEMINI = (
    '{{"contents": [{{"parts": [{{"text": "a {word}"}}]}}], "generationConfig": {{"responseModalities": {modalities}, '
    '"imageConfig": {{"imageSize": "{size}", "aspectRatio": "{ratio}"}}}}}}\n'
)
WORDS = ["billing", "orders", "images", "search", "users", "reports", "cache", "queue", "auth", "media"]
GOOD = {"model": "gemini-3-pro-image", "modalities": '["IMAGE"]', "size": "2K", "ratio": "16:9"}
TRAPS = [
    {"size": "2k"},
    {"modalities": '["TEXT"]'},
    {"model": "gemini-3-pro-image-preview"},
    {"ratio": "1:8"},
]


def gemini_values(rng: random.Random) -> dict[str, str]:
    values = dict(GOOD)
    if rng.random() < 1 / 3:
        values.update(rng.choice(TRAPS))
    return values


def source(suffix: str, rng: random.Random, n: int, gemini: bool) -> str:
    word, cls = rng.choice(WORDS), f"Record{n}"
    fill = {"n": n, "m": rng.randint(2, 9), "word": word, "cls": cls}
    if suffix == ".json":
        if gemini:
            return JSON_GEMINI.format(**fill, **gemini_values(rng))
        return JSON_PLAIN.format(**fill, files=", ".join(f'"src/f{i}.ts"' for i in range(rng.randint(3, 40))))
    head, body, call = (PY_PLAIN, PY_FUNCTION, PY_GEMINI) if suffix == ".py" else (TS_PLAIN, TS_FUNCTION, TS_GEMINI)
    parts = [head.format(**fill)]
    parts += [body.format(**fill, i=i) for i in range(rng.randint(5, 20))]
    if gemini:
        parts.append(call.format(i=n, **gemini_values(rng)))
    return "".join(parts)


def make_tree(root: Path, files: int, gemini_share: float, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    counts = {suffix: round(files * share) for suffix, share in SHARE.items()}
    made = 0
    for suffix, count in counts.items():
        for n in range(count):
            folder = root / "src" / f"pkg{n % 50}" / f"sub{n % 7}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"m{n}{suffix}").write_text(source(suffix, rng, n, rng.random() < gemini_share))
            made += 1
    for junk, count in (("node_modules/dep/lib", 2000), (".venv/lib/python3.11/site-packages/x", 1000), (".git", 1000)):
        folder = root / junk
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(count):
            (folder / f"j{n}.js" if "node" in junk else folder / f"j{n}.py").write_text(PY_GEMINI.format(i=n, **GOOD))
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return {"files": made, **{k: v for k, v in counts.items()}}


def lint_command(tree: Path, report: Path) -> list[str]:
    return [sys.executable, "-m", "gemini_doctor", "lint", str(tree), "--format", "json", "--output", str(report)]


def ruff_command(tree: Path) -> list[str] | None:
    ruff = shutil.which("ruff")
    return [ruff, "check", "--no-cache", "--select", "E9", "--exit-zero", "--quiet", str(tree)] if ruff else None


def trees(base: Path, files: int) -> tuple[Path, Path]:
    mixed, every = base / f"mixed-{files}", base / f"every-{files}"
    for tree, share in ((mixed, GEMINI_SHARE), (every, 1.0)):
        if not (tree / "done").exists():
            shutil.rmtree(tree, ignore_errors=True)
            make_tree(tree, files, share)
            (tree / "done").write_text("")
    return mixed, every


def compare(label: str, tree: Path, report: Path, runs: int) -> None:
    """Rounds interleaved (lint, then ruff, in each), so that a change in the machine's load between runs (a
    shared 2-core machine varies by a quarter) falls on both; the ratio printed is the median of the rounds'."""
    lint, ruff = lint_command(tree, report), ruff_command(tree)
    environment = bytecode_environment()  # the package from bytecode, as an installed copy runs
    wall(lint, environment)  # warm the disk cache
    walls, bases = [], []
    for _ in range(runs):
        walls.append(wall(lint, environment))
        if ruff:
            bases.append(wall(ruff))
    document = json.loads(report.read_text())
    seconds = statistics.median(walls)
    if bases:
        ratios = sorted(w / b for w, b in zip(walls, bases, strict=True))
        ratio = (
            f"ratio {statistics.median(ratios):4.2f}x ruff ({statistics.median(bases):5.2f} s; "
            f"rounds {', '.join(f'{r:.2f}' for r in ratios)})"
        )
    else:
        ratio = "ruff not installed"
    print(
        f"{label:48s} {seconds:6.2f} s  {document['files'] / seconds:7.0f} files/s  {ratio}  "
        f"({document['files']} files, {document['files_parsed']} parsed, {len(document['findings'])} findings)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--files", type=int, default=50000)
    parser.add_argument("--tree", help="keep the generated trees in this folder (made once, reused)")
    parser.add_argument("--compileall", action="store_true", help="also time python -m compileall on the tree")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(options.tree) if options.tree else Path(folder)
        base.mkdir(parents=True, exist_ok=True)
        mixed, every = trees(base, options.files)
        print(f"tree: {options.files} source files + 4000 in node_modules/.venv/.git; median of {options.runs} runs")
        report = Path(folder) / "report.json"
        compare("lint, 1 file in 10 calls Gemini", mixed, report, options.runs)
        compare("lint, every file calls Gemini", every, report, options.runs)
        if options.compileall:
            command = [sys.executable, "-m", "compileall", "-q", "-f", "-x", r"node_modules|\.venv|\.git", str(mixed)]
            print(f"{'python -m compileall -f (the .py files only)':48s} {median_wall(command, options.runs):6.2f} s")


if __name__ == "__main__":
    main()
