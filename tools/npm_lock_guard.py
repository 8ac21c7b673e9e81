"""Did an `npm install` take anything from the registry that the committed package-lock.json does not hold?

`pulumi package add` links the generated SDK into a Node.js program and then runs a plain `npm install`
(pulumi/pulumi v3.259.0, sdk/nodejs/npm/npm.go `Link`; pkg/cmd/pulumi/packages/packages.go `LinkPackages`).
With the program's dependencies installed from its lock first (`npm ci --ignore-scripts`), that install should
add only the link and the local SDK's own entry: npm keeps every locked version that satisfies a range and
checks each tarball against the lock's integrity. This compares the lock before and after and names every
package entry that is new or changed, other than a link and the linked folder itself:

    python3 tools/npm_lock_guard.py <committed package-lock.json> <package-lock.json after the install>

Exit status 0: nothing else came in; 1: the names of what did, and what to do.
"""

import json
import sys
from pathlib import Path
from typing import Any


def registry_entries(lock: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """{path in node_modules: (version, integrity)} of every package installed from a registry: links and
    linked folders (outside node_modules) are the program's own."""
    return {
        path: (entry.get("version", ""), entry.get("integrity", ""))
        for path, entry in lock.get("packages", {}).items()
        if path.startswith("node_modules/") or "/node_modules/" in path
        if not entry.get("link")
    }


def unlocked(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What `after` holds from a registry that `before` did not, or held at another version or integrity."""
    locked = registry_entries(before)
    return sorted(
        f"{path} {version}"
        for path, (version, integrity) in registry_entries(after).items()
        if locked.get(path) != (version, integrity)
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    before, after = (json.loads(Path(name).read_text()) for name in argv)
    extra = unlocked(before, after)
    if extra:
        print(
            "npm installed packages the committed package-lock.json does not hold: "
            + ", ".join(extra)
            + ". Lock them (npm install --package-lock-only in the example, with the generated SDK's"
            " dependencies satisfied by the example's own) and commit the lock.",
            file=sys.stderr,
        )
        return 1
    print(f"nothing from the registry beyond the lock ({len(registry_entries(after))} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
