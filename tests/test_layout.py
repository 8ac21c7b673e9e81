"""The program stays in small modules: no program file over 400 lines, one component per file.

Counted: `__main__.py` and every Python file under `components/` (the `homelab_mesh` package), `tools/` and
`benchmarks/` —
everything that runs in `pulumi up`, in the offline plan or on demand. Not counted: `tests/`. A test module
is a flat list of independent cases (test_bad_input.py is a table of bad configs); its length does not
hide structure the way a long program module does, and cutting it at a line count would scatter one
concern's cases over several files.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400
PROGRAM_DIRECTORIES = ("components", "tools", "benchmarks")
PACKAGE = ROOT / "components" / "homelab_mesh"


def program_files() -> list[Path]:
    files = [ROOT / "__main__.py"]
    for directory in PROGRAM_DIRECTORIES:
        files.extend(sorted((ROOT / directory).rglob("*.py")))
    return [path for path in files if "__pycache__" not in path.parts]


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_program_files_are_found() -> None:
    names = {relative(path) for path in program_files()}
    assert {
        "__main__.py",
        "components/homelab_mesh/ingress.py",
        "components/homelab_mesh/settings/reader.py",
        "tools/plan.py",
    } <= names


@pytest.mark.parametrize("path", program_files(), ids=relative)
def test_no_program_file_is_over_the_limit(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{relative(path)} has {lines} lines (limit {MAX_LINES}); split it by concern"


def components_in(path: Path) -> list[str]:
    """The ComponentResource classes a module defines."""
    tree = ast.parse(path.read_text())
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        and any(ast.unparse(base) == "pulumi.ComponentResource" for base in node.bases)
    ]


def test_components_are_recognised() -> None:
    assert components_in(PACKAGE / "ingress.py") == ["IngressGateway"]
    assert components_in(PACKAGE / "demo_app.py") == ["DemoApp"]


@pytest.mark.parametrize("path", sorted((ROOT / "components").rglob("*.py")), ids=relative)
def test_one_component_per_file(path: Path) -> None:
    found = components_in(path)
    assert len(found) <= 1, f"{relative(path)} defines {', '.join(found)}"
