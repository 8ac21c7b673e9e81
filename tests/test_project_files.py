"""Pulumi.yaml declares the settings the program reads; the configuration reference documents every one."""

from __future__ import annotations

from pathlib import Path

import yaml
from homelab_mesh.settings import KNOWN_KEYS, SCALAR_KEYS, parse_settings

ROOT = Path(__file__).resolve().parent.parent
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())


def test_project_runs_python_with_pip_and_venv() -> None:
    assert PROJECT["name"] == "homelab-mesh"
    assert PROJECT["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}


def test_every_scalar_setting_is_declared_with_type_default_and_description() -> None:
    declared = PROJECT["config"]
    assert set(declared) == set(SCALAR_KEYS)
    for key, declaration in declared.items():
        assert declaration["type"] in ("string", "boolean", "integer", "array"), key
        assert "default" in declaration and declaration["description"], key
        if declaration["type"] == "array":
            assert declaration["items"] == {"type": "string"}, key


def test_declared_defaults_are_the_programs_defaults() -> None:
    """A stack that sets nothing and one that sets every declared default must read the same."""
    defaults = {f"homelab-mesh:{key}": d["default"] for key, d in PROJECT["config"].items()}

    def as_config_text(value: object) -> str:
        if isinstance(value, bool):
            return str(value).lower()
        return yaml.safe_dump(value, default_flow_style=True).strip() if isinstance(value, list) else str(value)

    pools = {"homelab-mesh:addressPools": '[{"name": "lan", "addresses": ["10.0.0.0/30"]}]'}
    texts = {**pools, **{key: as_config_text(value) for key, value in defaults.items()}}
    with_defaults = parse_settings("homelab-mesh", "t", texts.get, texts)
    without = parse_settings("homelab-mesh", "t", pools.get, pools)
    assert with_defaults == without


def test_the_configuration_reference_documents_every_key() -> None:
    reference = (ROOT / "docs" / "configuration.md").read_text()
    missing = sorted(key for key in KNOWN_KEYS if f"`{key}`" not in reference)
    assert missing == []


def test_the_readme_lists_every_key() -> None:
    """README's Settings list is where a newcomer finds the keys' names, each leading to the reference."""
    settings = (ROOT / "README.md").read_text().partition("\n## Settings\n")[2].partition("\n## ")[0]
    missing = sorted(key for key in KNOWN_KEYS if f"`{key}`" not in settings)
    assert missing == []
