"""The house: the package's own shape (issue 15): no hidden import side effects, short functions, mypy clean."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gemini_doctor"
MAX_LINES = 60
# Functions still allowed over the limit, as "path:name" (none left: lint/rules._request and _endpoints were split).
NOT_YET: set[str] = set()


def long_functions(root: Path = PACKAGE, limit: int = MAX_LINES) -> list[str]:
    """`path:name (N lines)` for every function or method in the package longer than `limit` lines."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > limit:
                    found.append(f"{path.relative_to(root).as_posix()}:{node.name} ({length} lines)")
    return found


def test_no_function_in_the_package_is_over_60_lines():
    over = [f for f in long_functions() if f.split(" (")[0] not in NOT_YET]
    assert over == [], over


def test_the_length_check_finds_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(61))
    (tmp_path / "m.py").write_text(f"def short():\n    pass\n\n\nasync def long():\n{body}\n")
    assert long_functions(tmp_path) == ["m.py:long (62 lines)"]


def test_importing_the_probes_leaves_trio_alone():
    code = (
        "import sys; import gemini_doctor.probes; assert 'trio' not in sys.modules; "
        "import gemini_doctor.probes.gemini; assert 'trio' not in sys.modules, 'trio imported'; "
        "from gemini_doctor.probes import hidden\n"
        "with hidden('trio'):\n    assert sys.modules['trio'] is None\n"
        "assert 'trio' not in sys.modules; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "ok", result.stderr


def test_the_package_is_mypy_clean():
    """mypy over the package with pyproject's [tool.mypy]; the modules it still exempts are listed there."""
    result = subprocess.run([sys.executable, "-m", "mypy"], capture_output=True, text=True, timeout=170, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
