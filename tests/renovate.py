"""Renovate's reading of renovate.json, emulated offline for tests/test_renovate.py.

Each step follows Renovate's source at tag 44.39.2 (github.com/renovatebot/renovate):
- patterns are RE2 (lib/util/regex.ts `regEx`, the `re2` package) in JavaScript syntax: named groups are
  `(?<name>...)`, and RE2 has no lookaround, backreferences, atomic groups or possessive quantifiers;
- a custom manager's matchStrings are compiled with the `g` flag only (custom/regex/strategies.ts), so `^`
  and `$` match at the ends of the file, never at line ends;
- `managerFilePatterns` written `/.../` are regexes tested against the repository-relative path
  (util/string-match.ts `getRegexPredicate`, workers/repository/extract/file-match.ts), after the
  `ignorePaths` of config:recommended (`:ignoreModulesAndTests`, config/presets/internal/default.preset.ts);
- `any` yields a dependency per match of each matchString; `recursive` matches each string inside the
  previous match, passing the groups down, and the last match is the replaceString
  (custom/regex/strategies.ts); each `<field>Template` is a Handlebars template over all the groups, the
  groups otherwise fill the fields of the same name (custom/regex/utils.ts `createDependency`,
  custom/utils.ts `validMatchFields`); a dependency needs a name, a value or digest and a datasource;
- an update replaces the first occurrence of the replaceString in the file
  (workers/repository/update/branch/auto-replace.ts `doAutoReplace`);
- packageRules apply in order, a later match overriding an earlier one; `allowedVersions` written `/.../`
  is a regex over the release's version string, after Handlebars fills `major`/`minor`/`patch` of the
  current version (workers/repository/process/lookup/filter.ts `filterVersions`).
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONFIG_PATH = ROOT / "renovate.json"
IGNORED_DIRECTORIES = {
    "node_modules",
    "bower_components",
    "vendor",
    "examples",
    "__tests__",
    "test",
    "tests",
    "__fixtures__",
}
MATCH_FIELDS = (
    "depName",
    "packageName",
    "currentValue",
    "currentDigest",
    "datasource",
    "versioning",
    "extractVersion",
    "registryUrl",
    "depType",
    "indentation",
)


class UnsupportedPattern(ValueError):
    """A construct RE2 (or Renovate's use of it) does not support."""


def load_config() -> dict[str, Any]:
    return json.loads(CONFIG_PATH.read_text())


def python_regex(pattern: str, *, anchors: bool) -> re.Pattern[str]:
    """Compile an RE2/JavaScript pattern with Python's `re`, refusing what RE2 lacks.

    `anchors=False` for matchStrings: Renovate compiles them without the `m` flag."""
    out: list[str] = []
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            escaped = pattern[index + 1 : index + 2]
            if escaped.isdigit() and escaped != "0":
                raise UnsupportedPattern(f"backreference \\{escaped} in {pattern!r}")
            if escaped == "k":
                raise UnsupportedPattern(f"named backreference in {pattern!r}")
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern.startswith("[^]", index) or pattern.startswith("[]", index):
                raise UnsupportedPattern(f"empty or ']'-first character class in {pattern!r}")
        elif char in "^$" and not anchors:
            raise UnsupportedPattern(
                f"{char!r} in a matchString matches only at the ends of the file (no `m` flag): {pattern!r}"
            )
        elif pattern.startswith("(?", index):
            rest = pattern[index + 2 :]
            name = re.match(r"<([A-Za-z_]\w*)>", rest)
            if name:
                out.append(f"(?P<{name.group(1)}>")
                index += 2 + len(name.group(0))
                continue
            if not rest.startswith(":"):
                raise UnsupportedPattern(f"group '(?{rest[:3]}' (only (?: and (?<name> are used here) in {pattern!r}")
        elif char in "*+?}" and pattern[index + 1 : index + 2] == "+":
            raise UnsupportedPattern(f"possessive quantifier in {pattern!r}")
        out.append(char)
        index += 1
    return re.compile("".join(out), re.ASCII)


def slash_regex(value: str, *, anchors: bool = True) -> tuple[re.Pattern[str], bool]:
    """`/regex/`, `/regex/i` or `!/regex/` as Renovate writes a regex in a string: (pattern, positive)."""
    match = re.fullmatch(r"(!?)/(.*)/(i?)", value, re.DOTALL)
    if match is None:
        raise UnsupportedPattern(f"{value!r} is not a /regex/ (globs are not used in this config)")
    compiled = python_regex(match.group(2), anchors=anchors)
    if match.group(3):
        compiled = re.compile(compiled.pattern, re.ASCII | re.IGNORECASE)
    return compiled, match.group(1) != "!"


def matches_any(path: str, patterns: list[str]) -> bool:
    return any(slash_regex(pattern)[0].search(path) for pattern in patterns)


def repository_files() -> list[str]:
    """The files Renovate sees: the committed ones, less config:recommended's ignorePaths."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
    ).stdout
    paths = [path for path in listed.split("\0") if path and (ROOT / path).is_file()]
    return [path for path in paths if not IGNORED_DIRECTORIES & set(path.split("/")[:-1])]


def fill(template: str, groups: dict[str, str]) -> str:
    """The Handlebars this config uses: `{{name}}` and `{{{name}}}` only."""
    filled = re.sub(r"\{\{\{?\s*(\w+)\s*\}?\}\}", lambda match: groups[match.group(1)], template)
    if "{{" in filled:
        raise UnsupportedPattern(f"template {template!r} uses more Handlebars than variables")
    return filled


@dataclass(frozen=True)
class Dependency:
    manager: int
    path: str
    line: int
    fields: dict[str, str]
    replace_string: str
    start: int

    @property
    def name(self) -> str:
        return self.fields.get("depName") or self.fields["packageName"]

    @property
    def value(self) -> str:
        return self.fields.get("currentValue", "")

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def dependency(manager: dict[str, Any], groups: dict[str, str], path: str) -> dict[str, str]:
    variables = {**groups, "packageFile": path, "packageFileDir": str(Path(path).parent)}
    fields: dict[str, str] = {}
    for field in MATCH_FIELDS:
        template = manager.get(f"{field}Template")
        if template:
            fields[field] = fill(template, variables)
        elif groups.get(field):
            fields[field] = groups[field]
    return fields


def extract(manager: dict[str, Any], index: int, path: str, content: str) -> list[Dependency]:
    regexes = [python_regex(pattern, anchors=False) for pattern in manager["matchStrings"]]
    strategy = manager.get("matchStringsStrategy", "any")
    found: list[tuple[dict[str, str], str, int, int]] = []  # groups, replaceString, its start, the value's start

    def recurse(text: str, offset: int, level: int, groups: dict[str, str], value_at: int) -> None:
        if level == len(regexes):
            found.append((groups, text, offset, value_at))
            return
        for match in regexes[level].finditer(text):
            named = {key: value for key, value in match.groupdict().items() if value is not None}
            value_group = next((key for key in ("currentValue", "currentDigest") if key in named), None)
            at = offset + match.start(value_group) if value_group else value_at
            recurse(match.group(0), offset + match.start(), level + 1, {**groups, **named}, at)

    if strategy == "recursive":
        recurse(content, 0, 0, {}, 0)
    elif strategy == "any":
        for regex in regexes:
            for match in regex.finditer(content):
                named = {key: value for key, value in match.groupdict().items() if value is not None}
                value_group = next((key for key in ("currentValue", "currentDigest") if key in named), None)
                found.append((named, match.group(0), match.start(), match.start(value_group or 0)))
    else:
        raise UnsupportedPattern(f"matchStringsStrategy {strategy!r} is not emulated")
    dependencies = []
    for groups, replace_string, start, value_at in found:
        fields = dependency(manager, groups, path)
        named = fields.get("depName") or fields.get("packageName")
        if not (named and (fields.get("currentValue") or fields.get("currentDigest")) and fields.get("datasource")):
            continue  # Renovate drops it (custom/utils.ts `isValidDependency`)
        line = content.count("\n", 0, value_at) + 1
        dependencies.append(Dependency(index, path, line, fields, replace_string, start))
    return dependencies


def extract_all(config: dict[str, Any], files: list[str]) -> list[Dependency]:
    dependencies: list[Dependency] = []
    for index, manager in enumerate(config["customManagers"]):
        for path in files:
            if matches_any(path, manager["managerFilePatterns"]):
                dependencies.extend(extract(manager, index, path, (ROOT / path).read_text()))
    return dependencies


def rule_applies(rule: dict[str, Any], dep: Dependency, update_type: str | None = None) -> bool:
    """The match* conditions this config uses, all of which must hold."""
    version = dep.value
    checks = {
        "matchManagers": lambda values: "custom.regex" in values,
        "matchDepNames": lambda values: dep.fields.get("depName") in values,
        "matchDepTypes": lambda values: dep.fields.get("depType") in values,
        "matchDatasources": lambda values: dep.fields.get("datasource") in values,
        "matchCurrentVersion": lambda value: bool(slash_regex(value)[0].search(version)),
        "matchUpdateTypes": lambda values: update_type in values,
        "matchPackageNames": lambda values: any(
            slash_regex(value)[0].search(dep.fields.get("packageName", dep.name)) for value in values
        ),
    }
    for key, value in rule.items():
        if key.startswith("match"):
            if key not in checks:
                return False  # a condition of another manager's dependencies, never a custom one
            if not checks[key](value):
                return False
    return True


def settings_for(config: dict[str, Any], dep: Dependency, update_type: str | None = None) -> dict[str, Any]:
    settings: dict[str, Any] = {"enabled": True}
    for rule in config["packageRules"]:
        if rule_applies(rule, dep, update_type):
            settings.update({key: value for key, value in rule.items() if not key.startswith("match")})
    return settings


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.lstrip("v").split("."))


def proposal(config: dict[str, Any], dep: Dependency, releases: list[str]) -> str | None:
    """The release Renovate would propose from these stable releases: the highest allowed one above current."""
    settings = settings_for(config, dep)
    if not settings["enabled"]:
        return None
    major, minor, patch = version_key(dep.value)
    candidates = [release for release in releases if version_key(release) > version_key(dep.value)]
    allowed = settings.get("allowedVersions")
    if allowed is not None:
        pattern, positive = slash_regex(fill(allowed, {"major": str(major), "minor": str(minor), "patch": str(patch)}))
        candidates = [release for release in candidates if bool(pattern.search(release)) == positive]
    return max(candidates, key=version_key, default=None)
