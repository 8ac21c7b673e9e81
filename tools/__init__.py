"""The project's own tools (mock engine, plan, locks, URN pins). They work on the working tree: the package
under components/ comes first on the import path, before any installed copy of it."""

import sys
from pathlib import Path

PACKAGE_SOURCE = str(Path(__file__).resolve().parent.parent / "components")
if PACKAGE_SOURCE not in sys.path:
    sys.path.insert(0, PACKAGE_SOURCE)
