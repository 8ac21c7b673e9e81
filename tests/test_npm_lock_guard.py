"""tools/npm_lock_guard.py: what `pulumi package add`'s npm install may add to the TypeScript example's lock."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tools.mock_engine import ROOT
from tools.npm_lock_guard import unlocked

GUARD = ROOT / "tools" / "npm_lock_guard.py"
LOCKED = {
    "": {"name": "example", "dependencies": {"@pulumi/pulumi": "3.270.0"}},
    "node_modules/@pulumi/pulumi": {"version": "3.270.0", "integrity": "sha512-pulumi"},
    "node_modules/typescript": {"version": "4.9.5", "integrity": "sha512-ts4"},
}
LINKED = {
    "node_modules/@pulumi/homelab-mesh": {"resolved": "sdks/homelab-mesh", "link": True},
    "sdks/homelab-mesh": {"name": "@pulumi/homelab-mesh", "version": "0.1.0", "dependencies": {"typescript": "^4.7.0"}},
}


def lock(packages: dict[str, Any]) -> dict[str, Any]:
    return {"lockfileVersion": 3, "packages": packages}


def test_the_link_and_the_linked_folder_alone_pass() -> None:
    assert unlocked(lock(LOCKED), lock({**LOCKED, **LINKED})) == []


def test_a_second_typescript_under_the_sdk_is_named() -> None:
    nested = {"sdks/homelab-mesh/node_modules/typescript": {"version": "4.9.5", "integrity": "sha512-ts4"}}
    assert unlocked(lock(LOCKED), lock({**LOCKED, **LINKED, **nested})) == [
        "sdks/homelab-mesh/node_modules/typescript 4.9.5"
    ]


def test_a_locked_package_at_another_version_or_tarball_is_named() -> None:
    moved = {**LOCKED, "node_modules/typescript": {"version": "5.9.3", "integrity": "sha512-ts5"}}
    assert unlocked(lock(LOCKED), lock(moved)) == ["node_modules/typescript 5.9.3"]
    retarred = {**LOCKED, "node_modules/typescript": {"version": "4.9.5", "integrity": "sha512-other"}}
    assert unlocked(lock(LOCKED), lock(retarred)) == ["node_modules/typescript 4.9.5"]


def test_the_command_fails_naming_the_package_and_passes_otherwise(tmp_path: Path) -> None:
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    before.write_text(json.dumps(lock(LOCKED)))
    for packages, status in (({**LOCKED, **LINKED}, 0), ({**LOCKED, "node_modules/left-pad": {"version": "1.3.0"}}, 1)):
        after.write_text(json.dumps(lock(packages)))
        result = subprocess.run(
            [sys.executable, str(GUARD), str(before), str(after)], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == status, result.stderr
        assert ("node_modules/left-pad 1.3.0" in result.stderr) == (status == 1)
