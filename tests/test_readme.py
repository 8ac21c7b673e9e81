"""The configuration reference (docs/configuration.md) agrees with Pulumi.yaml; the recipes and fixes in docs/
target the stack's context; README's first deploy starts from the starter stack."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from homelab_mesh.settings import KNOWN_KEYS, SCALAR_KEYS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
CONFIGURATION = (DOCS / "configuration.md").read_text()
DECLARED: dict[str, Any] = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
TYPE_NAMES = {"string": "string", "boolean": "boolean", "integer": "integer", "array": "list of strings"}
# `| `key` | type | default | ...`, or several keys in one row: `| `a`, `b` | type | default | ... |`
ROW = re.compile(r"^\| (`\w+`(?:, `\w+`)*) \| ([^|]+?) \| ([^|]+?) \|", re.MULTILINE)


def rows() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for keys, type_name, default in ROW.findall(CONFIGURATION):
        for key in re.findall(r"`(\w+)`", keys):
            found[key] = (type_name.strip(), default.strip())
    return found


def section(markdown: str, title: str) -> str:
    """The text under `## title`, up to the next `## ` heading (a `# ` line may be a shell comment)."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, re.MULTILINE | re.DOTALL)
    assert match, f"no '## {title}' section"
    return match.group(1)


def test_every_setting_has_a_row_with_its_type_and_default() -> None:
    assert sorted(KNOWN_KEYS - set(rows())) == []


def test_scalar_rows_match_the_declared_type_and_default() -> None:
    table = rows()
    for key in SCALAR_KEYS:
        type_name, default = table[key]
        assert type_name == TYPE_NAMES[DECLARED[key]["type"]], key
        shown = re.match(r"`([^`]*)`", default)
        assert shown, f"{key}: the default column should start with the default in backticks"
        assert yaml.safe_load(shown.group(1) or '""') == DECLARED[key]["default"], key


def code(markdown: str) -> list[str]:
    """The fenced blocks and inline code spans of a piece of Markdown."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", markdown, re.MULTILINE | re.DOTALL)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", markdown, flags=re.MULTILINE | re.DOTALL)
    return fenced + re.findall(r"`([^`\n]+)`", prose)


def test_every_kubectl_command_in_recipes_and_troubleshooting_names_the_context() -> None:
    recipes = section((DOCS / "operations.md").read_text(), "Recipes")
    for title, markdown in (("Recipes", recipes), ("Troubleshooting", (DOCS / "troubleshooting.md").read_text())):
        commands = [command for snippet in code(markdown) for command in re.findall(r"\bkubectl\s[^\n|]*", snippet)]
        assert commands, title
        assert [command for command in commands if not command.startswith("kubectl --context ")] == [], title


def test_the_first_deploy_starts_from_the_starter_stack() -> None:
    deploy = section(README, "Deploy")
    assert deploy.index("stacks/starter.yaml") < deploy.index("Pulumi.homelab.yaml")
    assert "pulumi stack init" in deploy
