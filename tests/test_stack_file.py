"""load_stack_file: every way a stack file can be unusable ends in one message naming file, line and column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from homelab_mesh.settings.stack_file import StackFileError, load_stack_file


def error_for(tmp_path: Path, text: str) -> str:
    path = tmp_path / "Pulumi.lab.yaml"
    path.write_text(text)
    with pytest.raises(StackFileError) as caught:
        load_stack_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}")
    return message.removeprefix(str(path))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # libyaml says "did not find expected node content", PyYAML's own parser "expected the node content".
        ("config:\n  homelab-mesh:routes: [\n", ":3:1: (did not find expected|expected the) node content"),
        ("config:\n\thomelab-mesh:platform: k3s\n", re.escape(":2:1: a tab character; YAML indents with spaces only")),
        (
            "config:\n  homelab-mesh:platform: k3s\n  homelab-mesh:platform: k3d\n",
            re.escape(":3:3: duplicate key 'homelab-mesh:platform' (first at line 2)"),
        ),
        (
            "# comment\n\n- config: {}\n",
            re.escape(":3:1: the top level must be a mapping with a `config:` key, not a list"),
        ),
        ("just text\n", re.escape(":1:1: the top level must be a mapping with a `config:` key, not a string")),
        (
            "config:\n  homelab-mesh:routes:\n    - {hostname: a, hostname: b}\n",
            re.escape(":3:21: duplicate key 'hostname' (first at line 3)"),
        ),
        (
            "config:\n  - homelab-mesh:platform\n",
            re.escape(":2:3: `config:` must be a mapping of keys to values, not a list"),
        ),
    ],
    ids=["syntax", "tab", "duplicate", "list-root", "string-root", "nested-duplicate", "config-list"],
)
def test_errors_name_the_line_and_column(tmp_path: Path, text: str, expected: str) -> None:
    assert re.match(expected, error_for(tmp_path, text))


def test_unknown_top_level_keys_point_at_config(tmp_path: Path) -> None:
    message = error_for(tmp_path, "homelab-mesh:platform: k3s\n")
    assert "homelab-mesh:platform is not a key of a Pulumi stack file" in message
    assert "settings go under `config:`" in message


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(StackFileError, match="cannot be read"):
        load_stack_file(tmp_path / "Pulumi.none.yaml")


def test_an_empty_file_and_a_stack_init_salt_are_fine(tmp_path: Path) -> None:
    empty = tmp_path / "Pulumi.empty.yaml"
    empty.write_text("")
    assert load_stack_file(empty) == {}
    salted = tmp_path / "Pulumi.salted.yaml"
    salted.write_text("encryptionsalt: v1:abc\nconfig:\n  homelab-mesh:demoApp: true\n")
    assert load_stack_file(salted)["config"] == {"homelab-mesh:demoApp": True}


def test_every_top_level_key_pulumi_knows_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.lab.yaml"
    path.write_text(
        "secretsprovider: passphrase\nencryptedkey: abc\nencryptionsalt: v1:abc\nenvironment: [homelab]\nconfig: {}\n"
    )
    assert set(load_stack_file(path)) == {"secretsprovider", "encryptedkey", "encryptionsalt", "environment", "config"}
