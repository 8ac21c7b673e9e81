"""The hash-locked requirement files still answer for requirements*.txt.

tools/lock.sh (uv, from PyPI) writes the locks; the suite cannot run it offline, and Renovate's hosted app
cannot run it at all (renovate.json asks for it as a post-upgrade task, which only a self-hosted Renovate
that allows the command executes). So a change to a requirement that leaves its lock behind fails here,
naming the command to run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK_COMMAND = "bash tools/lock.sh"
# Each lock and the requirement file it is made from (tools/lock.sh).
LOCKS = {"requirements.lock": "requirements.txt", "requirements-dev.lock": "requirements-dev.txt"}
# tools/lock.sh resolves for Python 3.11 and every later release (uv --universal --python-version 3.11).
PYTHONS = ("3.11", "3.12", "3.13", "3.14")


def requirements(path: Path) -> list[Requirement]:
    """The requirements of a file and of the files it includes with `-r`."""
    found: list[Requirement] = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            found += requirements(path.parent / line.removeprefix("-r ").strip())
            continue
        found.append(Requirement(line))
    return found


def pins(lock_text: str) -> dict[str, list[Version]]:
    """Every `name==version` of a lock, by canonical name (a universal lock may pin one per Python)."""
    pinned: dict[str, list[Version]] = {}
    for name, version in re.findall(r"^([A-Za-z0-9][\w.-]*)==([^\s;\\]+)", lock_text, re.MULTILINE):
        pinned.setdefault(canonicalize_name(name), []).append(Version(version))
    return pinned


def stale(requirement_file: str, wanted: list[Requirement], lock: str, lock_text: str) -> list[str]:
    """What the lock fails to provide, each with the command that regenerates it."""
    problems = []
    if f"#    {LOCK_COMMAND}" not in lock_text.splitlines()[1]:
        problems.append(f"{lock}: its header does not name `{LOCK_COMMAND}`, the only command that writes it")
    pinned = pins(lock_text)
    for requirement in wanted:
        applies = requirement.marker is None or any(
            requirement.marker.evaluate({"python_version": python, "python_full_version": f"{python}.0"})
            for python in PYTHONS
        )
        versions = pinned.get(canonicalize_name(requirement.name), [])
        if applies and not any(requirement.specifier.contains(version, prereleases=True) for version in versions):
            found = ", ".join(str(version) for version in versions) or "nothing"
            problems.append(
                f"{lock} pins {requirement.name} {found}, outside {requirement_file}'s `{requirement}`: "
                f"the lock is stale; regenerate both locks with `{LOCK_COMMAND}`"
            )
    return problems


@pytest.mark.parametrize(("lock", "source"), LOCKS.items())
def test_each_lock_pins_a_release_of_every_requirement(lock: str, source: str) -> None:
    wanted = requirements(ROOT / source)
    assert len(wanted) >= 7
    problems = stale(source, wanted, lock, (ROOT / lock).read_text())
    assert not problems, "\n".join(problems)


def test_a_raised_bound_or_a_new_requirement_makes_the_lock_stale() -> None:
    lock_text = (ROOT / "requirements.lock").read_text()
    wanted = [Requirement("pydantic>=99.0"), Requirement("a-new-package>=1.0"), Requirement("pulumi>=3.0,<4")]
    problems = stale("requirements.txt", wanted, "requirements.lock", lock_text)
    assert len(problems) == 2
    assert all(problem.endswith(f"regenerate both locks with `{LOCK_COMMAND}`") for problem in problems)
    assert "a-new-package nothing" in problems[1]


def test_a_requirement_for_another_python_only_needs_a_pin_there() -> None:
    lock_text = (ROOT / "requirements-dev.lock").read_text()
    later_only = Requirement('cloudcoil-models-cert-manager==1.21.1.1; python_version >= "3.14"')
    never = Requirement('cloudcoil-models-cert-manager==9.9.9; python_version < "3.0"')
    assert stale("requirements-dev.txt", [later_only, never], "requirements-dev.lock", lock_text) == []


def test_a_hand_written_lock_is_refused() -> None:
    assert stale("requirements.txt", [], "requirements.lock", "# hand-written\n#    pip freeze\n") != []
