"""The component package's schema, components/schema.json: what `pulumi package add` gives another language,
generated offline by the SDK's analyzer from the components' annotations (components/homelab_mesh/provider.py).
tests/test_component_package.py fails when it is stale; regenerate it with

    venv/bin/python -m tools.schema
"""

from __future__ import annotations

import json
from typing import Any

import tools  # noqa: F401  (the working tree's package first on the import path)
from tools.mock_engine import ROOT

SCHEMA = ROOT / "components" / "schema.json"


def current_schema() -> dict[str, Any]:
    from homelab_mesh import __version__
    from homelab_mesh.provider import package_schema

    return package_schema(__version__)


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> None:
    SCHEMA.write_text(render(current_schema()))
    print(f"{SCHEMA.relative_to(ROOT)} written")


if __name__ == "__main__":
    main()
