"""Checks of a `Pulumi.<stack>.yaml` file itself: YAML syntax, duplicate keys and top-level keys.

The CLI reads the stack file before the program runs; these checks catch what it would ignore or what
reaches the program already flattened (a duplicate key keeps only its last value in PyYAML).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# The top-level keys of a stack file: `ProjectStack` in pulumi/pulumi sdk/go/common/workspace/project.go.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")


class StackFileError(ValueError):
    """A stack file that cannot be used; the message names the file and, where known, line and column."""


# libyaml's parser where PyYAML was built with it (ten times faster); the constructor stays Python either way.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                mark = key_node.start_mark
                raise yaml.MarkedYAMLError(
                    problem=f"duplicate key {key!r} (first at line {seen[key]})", problem_mark=mark
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def load_stack_file(path: Path) -> dict[str, Any]:
    """The stack file's mapping; StackFileError for bad YAML, duplicate keys, a non-mapping root or unknown
    top-level keys, each naming the file (and the line and column where YAML knows them)."""
    try:
        text = path.read_text()
    except OSError as error:
        raise StackFileError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = error.problem or "invalid YAML"
        if mark and _character_at(text, mark.line, mark.column) == "\t":
            problem = "a tab character; YAML indents with spaces only"
        raise StackFileError(f"{path}{where}: {problem}") from None
    except yaml.YAMLError as error:
        raise StackFileError(f"{path}: invalid YAML ({error})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StackFileError(
            f"{path}{_position(text)}: the top level must be a mapping with a `config:` key, not a {_kind(data)}"
        )
    unknown = sorted(str(key) for key in data if key not in STACK_FILE_KEYS)
    if unknown:
        raise StackFileError(
            f"{path}: {', '.join(unknown)} {'is not a key' if len(unknown) == 1 else 'are not keys'} of a Pulumi "
            f"stack file (known: {', '.join(STACK_FILE_KEYS)}); settings go under `config:`"
        )
    config = data.get("config")
    if config is not None and not isinstance(config, dict):
        raise StackFileError(
            f"{path}{_position(text, 'config')}: `config:` must be a mapping of keys to values, not a {_kind(config)}"
        )
    return data


def _position(text: str, key: str | None = None) -> str:
    """`:line:column` of the document's root node, or of the value of one of its top-level keys."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if key is not None and isinstance(node, yaml.MappingNode):
        node = next((value for name, value in node.value if name.value == key), node)
    if node is None:
        return ""
    return f":{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def _character_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    return lines[line][column : column + 1] if line < len(lines) else ""


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "value")
