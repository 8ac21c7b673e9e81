"""Reading raw config values and reporting problems: `homelab-mesh:<key>[index].<field>: <what is wrong>`."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import pulumi
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

T = TypeVar("T")

# Enough digits for any bound this program sets; a longer number is refused before int() sees it.
MAX_INTEGER_DIGITS = 9


class ConfigError(pulumi.RunError):
    """Bad stack configuration; the message names every offending key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        heading = "invalid stack configuration" if len(problems) > 1 else "invalid stack configuration:"
        super().__init__(heading + ("\n  " if len(problems) > 1 else " ") + "\n  ".join(problems))


class Model(BaseModel):
    """A structured setting: camelCase keys, no unknown keys, no type coercion."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, alias_generator=to_camel)


class Reader:
    """Reads raw config values of one project and collects every problem found."""

    def __init__(self, project: str, raw: Callable[[str], str | None]) -> None:
        self.project = project
        self.raw = raw
        self.problems: list[str] = []

    def key(self, name: str) -> str:
        return f"{self.project}:{name}"

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{self.key(path)}: {message}")

    def has_failed(self, name: str) -> bool:
        """Whether a problem was already reported for this key or inside it: checks that refer to the key's
        values skip what they cannot know, instead of adding a misleading follow-on problem."""
        key = self.key(name)
        return any(problem.startswith(key) and problem[len(key)] in ":[." for problem in self.problems)

    def differs_from(self, name: str, default: object) -> bool:
        """Whether the user set this key. Pulumi hands the program every default declared in Pulumi.yaml, so
        a key counts as set when it holds something other than that default (`default=None`: when present)."""
        value = self.raw(self.key(name))
        return value is not None and _parsed(value) != default

    def text(self, name: str, default: str) -> str:
        value = self.raw(self.key(name))
        return default if value is None else value

    def json_value(self, name: str, default: T, expected: type, noun: str) -> T | Any:
        value = self.raw(self.key(name))
        if value is None:
            return default
        parsed = _parsed(value)
        if not isinstance(parsed, expected):
            self.fail(name, f"must be {noun}, got {_shown(parsed)}")
            return default
        return parsed

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(self.key(name))
        if value is None:
            return default
        if value.lower() not in ("true", "false"):
            self.fail(name, f"must be true or false, got {_shown(value)}")
            return default
        return value.lower() == "true"

    def integer(self, name: str, default: int, lowest: int, highest: int) -> int:
        value = self.raw(self.key(name))
        if value is None:
            return default
        digits = value.strip()
        well_formed = digits.isascii() and digits.isdigit() and len(digits) <= MAX_INTEGER_DIGITS
        if not well_formed or not lowest <= int(digits) <= highest:
            self.fail(name, f"must be a whole number from {lowest} to {highest}, got {_shown(value)}")
            return default
        return int(digits)

    def choice(self, name: str, default: str, choices: Iterable[str]) -> Any:
        value = self.text(name, default)
        options = tuple(choices)
        if value not in options:
            self.fail(name, f"{_shown(value)} is not one of {', '.join(options)}")
            return default
        return value

    def check(self, path: str, check: Callable[[Any], T], value: Any) -> T | None:
        try:
            return check(value)
        except ValueError as error:
            self.fail(path, str(error))
            return None

    def string_list(self, name: str) -> list[str]:
        items = self.json_value(name, [], list, "a list of strings")
        for index, item in enumerate(items):
            if not isinstance(item, str):
                self.fail(f"{name}[{index}]", f"must be a string, got {_shown(item)}")
        return [item for item in items if isinstance(item, str)]

    def model(self, path: str, model: type[BaseModel], value: Any) -> Any:
        try:
            return model.model_validate(value)
        except ValidationError as error:
            for detail in error.errors(include_url=False):
                message = _describe(detail)
                if detail["type"] == "extra_forbidden":
                    message += did_you_mean(str(detail["loc"][-1]), _field_names(model))
                self.fail(path + _location(detail["loc"]), message)
            return None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    guess = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {guess[0]}?)" if guess else ""


def _field_names(model: type[BaseModel]) -> set[str]:
    """The camelCase keys of a model and of every model nested in it."""
    found: set[str] = set()
    pending = [model]
    while pending:
        current = pending.pop()
        for name, field in current.model_fields.items():
            found.add(field.alias or name)
            pending.extend(_nested_models(field.annotation))
    return found


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in getattr(annotation, "__args__", ()) for model in _nested_models(argument)]


def _parsed(value: str) -> Any:
    """A config value as the stack file held it: structured values reach the program as JSON text."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def _shown(value: Any, limit: int = 80) -> str:
    """A value quoted for a message, cut short so that a huge value cannot flood the output."""
    text = json.dumps(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _location(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def _describe(detail: Mapping[str, Any]) -> str:
    kind = detail["type"]
    if kind == "value_error":
        return str(detail["ctx"]["error"])
    if kind == "extra_forbidden":
        return "is not a known setting"
    if kind == "missing":
        return "is required"
    if kind == "literal_error":
        return f"{_shown(detail['input'])} is not one of {detail['ctx']['expected']}"
    return f"{detail['msg'][0].lower()}{detail['msg'][1:]}, got {_shown(detail['input'])}"


def read_url(reader: Reader, name: str, default: str) -> str:
    """A Helm chart repository: https:// or oci://."""
    value = reader.text(name, default)
    if not re.fullmatch(r"(https://|oci://)[^\s/]+(/[^\s]*)?", value):
        reader.fail(name, f"{_shown(value)} is not an https:// or oci:// chart repository URL")
    return value.rstrip("/")
