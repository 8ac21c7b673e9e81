"""The homelab_mesh package: the program uses only its public API, and the wheel standard tooling builds from
components/ carries everything the components need (their scripts) and installs without the repository."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import homelab_mesh

from tests.conftest import installed_venv

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_SOURCE = ROOT / "components"


def requirement_lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")}


def test_the_program_imports_the_public_api_only() -> None:
    tree = ast.parse((ROOT / "__main__.py").read_text())
    imported = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom | ast.Import)]
    from_package = [node for node in imported if isinstance(node, ast.ImportFrom) and node.module == "homelab_mesh"]
    assert from_package, "__main__.py builds the program from the package"
    assert all(
        not (isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("homelab_mesh.", "components")))
        for node in imported
    ), "__main__.py reaches into the package's internals"
    names = {alias.name for node in from_package for alias in node.names}
    assert names <= set(homelab_mesh.__all__), names - set(homelab_mesh.__all__)


def test_the_package_declares_the_programs_dependency_ranges() -> None:
    project = tomllib.loads((PACKAGE_SOURCE / "pyproject.toml").read_text())["project"]
    program = requirement_lines((ROOT / "requirements.txt").read_text())
    # setuptools builds the package; it is not one of its run-time dependencies.
    assert set(project["dependencies"]) == {line for line in program if not line.startswith("setuptools")}


def test_the_wheel_is_versioned_from_one_place(wheel: Path) -> None:
    assert wheel.name == f"homelab_mesh-{homelab_mesh.__version__}-py3-none-any.whl"
    assert re.fullmatch(r"\d+\.\d+\.\d+", homelab_mesh.__version__)


def test_the_installed_package_runs_its_scripts_without_the_repository(wheel: Path, tmp_path: Path) -> None:
    """Installed in a fresh virtualenv and imported from outside the checkout, the package still finds every
    script its components run (package data), with the shared kubectl helper in place."""
    venv = installed_venv(wheel, tmp_path / "venv")
    probe = (
        "import homelab_mesh, pathlib; from homelab_mesh.scripts import SCRIPTS, script;"
        "print(pathlib.Path(homelab_mesh.__file__).parent);"
        "print(sorted(p.name for p in SCRIPTS.glob('*.sh')));"
        "print('kube_with_stdin()' in script('unenrol-namespace.sh'))"
    )
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    location, scripts, helper_in_place = result.stdout.splitlines()
    assert Path(location).is_relative_to(venv)
    shipped = sorted(path.name for path in (PACKAGE_SOURCE / "homelab_mesh" / "scripts").glob("*.sh"))
    assert scripts == str(shipped) and len(shipped) >= 8
    assert helper_in_place == "True"


def test_a_virtualenv_without_the_package_gets_the_set_up_command_not_a_traceback() -> None:
    """`pulumi install` (or the CLI's own virtualenv) installs requirements.txt only: the program then names the
    README's set-up command in a RunError, which the CLI prints without a stack trace."""
    probe = "import sys, runpy; sys.modules['homelab_mesh'] = None; runpy.run_path('__main__.py', run_name='__main__')"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("pulumi.errors.RunError: the homelab_mesh package is not installed"), last
    command = last.split("set-up command, ", 1)[1]
    setup = next(line for line in (ROOT / "README.md").read_text().splitlines() if "./components" in line)
    for part in command.split(" && "):
        assert part in setup, part
