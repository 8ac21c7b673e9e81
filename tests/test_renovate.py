"""renovate.json, read as Renovate reads it (tests/renovate.py), against the repository's own files: offline.

Renovate's own validator runs in .github/workflows/renovate-config.yml; this suite checks what it cannot
know: that every pinned version here has a manager, that each manager finds exactly the pin it is meant
to, that an update rewrites only that pin, and that Istio moves one minor per pull request.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from homelab_mesh import demo_app, versions
from homelab_mesh.cert_manager import CERT_MANAGER_CHART
from homelab_mesh.settings.tls import DEFAULT_CERT_MANAGER_VERSION

from tests.renovate import (
    ROOT,
    Dependency,
    UnsupportedPattern,
    extract,
    extract_all,
    load_config,
    matches_any,
    proposal,
    python_regex,
    repository_files,
    settings_for,
    slash_regex,
)
from tools import renovate_config

# Where the pins live, by role: the one table to update when files move.
PATHS = {
    "versions": "components/homelab_mesh/versions.py",
    "project": "Pulumi.yaml",
    "tls settings": "components/homelab_mesh/settings/tls.py",
    "demo app": "components/homelab_mesh/demo_app.py",
    "e2e workflow": ".github/workflows/e2e.yml",
}
# Files that hold pinned versions, scanned for anything version-like no manager finds.
PIN_FILES = [
    r"^components/.*\.py$",
    r"^__main__\.py$",
    r"^Pulumi(\.[^/]+)?\.yaml$",
    r"^stacks/[^/]+\.yaml$",
    r"^\.github/workflows/[^/]+\.ya?ml$",
    r"^requirements[^/]*\.(txt|lock)$",
    r"^tools/lock-tool\.txt$",
    r"^\.github/renovate-validator/package\.json$",
]
STACK_FILES = [r"^Pulumi\.[^/]+\.yaml$", r"^stacks/[^/]+\.yaml$"]
# Renovate's own managers and their default file patterns at 44.39.2 (lib/modules/manager/<name>/index.ts).
BUILTIN_PATTERNS = {
    "github-actions": [
        r"/(^|/)(workflow-templates|\.(?:github|gitea|forgejo)/(?:workflows|actions))/.+\.ya?ml$/",
        r"/(^|/)action\.ya?ml$/",
    ],
    "npm": [r"/(^|/)package\.json$/"],
    "pip_requirements": [r"/(^|/)[\w-]*requirements([-._]\w+)?\.(txt|pip)$/"],
}
VERSION = re.compile(r"(?<![\w.])v?\d+\.\d+\.\d+(?![.\d])")
# `owner/repo@<commit> # vX.Y.Z`, as Renovate's github-actions manager reads and rewrites it
# (lib/modules/manager/github-actions/parse.ts: the comment after ` #` holds the version of a digest pin).
USES = re.compile(r"^\s+(?:-\s+)?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")

CONFIG = load_config()
FILES = repository_files()
DEPENDENCIES = extract_all(CONFIG, FILES)


def text(path: str) -> str:
    return (ROOT / path).read_text()


def found(name: str) -> list[Dependency]:
    return [dep for dep in DEPENDENCIES if dep.name == name]


def in_file(name: str, path: str) -> Dependency:
    [dep] = [dep for dep in found(name) if dep.path == path]
    return dep


def stack_files() -> list[str]:
    return [path for path in FILES if any(re.search(pattern, path) for pattern in STACK_FILES)]


def declared_default(key: str) -> str:
    return str(yaml.safe_load(text(PATHS["project"]))["config"][key]["default"])


# --- the configuration ------------------------------------------------------------------------------------------


def test_the_configuration_parses_and_builds_on_renovates_presets() -> None:
    assert CONFIG["$schema"] == "https://docs.renovatebot.com/renovate-schema.json"
    assert CONFIG["extends"] == ["config:recommended", "helpers:pinGitHubActionDigests"]
    assert all(manager["customType"] == "regex" for manager in CONFIG["customManagers"])


def test_the_istio_steps_are_the_ones_the_compatibility_table_generates() -> None:
    assert renovate_config.expected_text() == text("renovate.json"), (
        "renovate.json's Istio rules differ from the compatibility table: venv/bin/python -m tools.renovate_config"
    )


def patterns(config: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(where, pattern, anchors allowed) for every regex in the config."""
    found: list[tuple[str, str, bool]] = []
    for index, manager in enumerate(config["customManagers"]):
        found += [(f"customManagers[{index}].matchStrings", value, False) for value in manager["matchStrings"]]
        found += [(f"customManagers[{index}].managerFilePatterns", v, True) for v in manager["managerFilePatterns"]]
    found += [("pip_requirements", value, True) for value in config["pip_requirements"]["managerFilePatterns"]]
    for index, rule in enumerate(config["packageRules"]):
        for key in ("allowedVersions", "matchCurrentVersion", "matchPackageNames"):
            values = rule.get(key, [])
            for value in [values] if isinstance(values, str) else values:
                found.append((f"packageRules[{index}].{key}", value, True))
    return found


@pytest.mark.parametrize(("where", "pattern", "anchors"), patterns(CONFIG), ids=lambda value: str(value)[:60])
def test_every_pattern_is_re2_as_renovate_compiles_it(where: str, pattern: str, anchors: bool) -> None:
    if where.endswith("matchStrings"):
        python_regex(pattern, anchors=False)
    else:
        slash_regex(pattern.replace("{{major}}", "1").replace("{{minor}}", "2"), anchors=anchors)


@pytest.mark.parametrize(
    "pattern",
    [r"(?<=v)\d+", r"(?<!v)\d+", r"\d+(?=\.)", r"\d+(?!\.)", r"(a)\1", r"(?<a>x)\k<a>", r"(?i)x", r"\d++", r"(?>a)"],
)
def test_the_re2_check_refuses_what_re2_lacks(pattern: str) -> None:
    with pytest.raises(UnsupportedPattern):
        python_regex(pattern, anchors=True)


def test_a_match_string_may_not_anchor_on_lines_and_named_groups_translate() -> None:
    with pytest.raises(UnsupportedPattern, match="ends of the file"):
        python_regex(r"^version: (?<currentValue>\S+)$", anchors=False)
    compiled = python_regex(r"version: (?<currentValue>[\d.]+)", anchors=False)
    assert (match := compiled.search("a\nversion: 1.2.3\n")) and match.group("currentValue") == "1.2.3"


# --- what the managers find ----------------------------------------------------------------------------------


def expected_pins() -> list[tuple[str, str, str]]:
    """(depName, file, version) of every pin a custom manager is meant to find, read from the program."""
    project = PATHS["project"]
    expected = [
        ("istio", PATHS["versions"], versions.DEFAULT_ISTIO_VERSION),
        ("istio", project, declared_default("istioVersion")),
        ("gateway-api", PATHS["versions"], versions.DEFAULT_GATEWAY_API_VERSION),
        ("gateway-api", project, declared_default("gatewayApiVersion")),
        ("metallb", PATHS["versions"], versions.DEFAULT_METALLB_VERSION),
        ("metallb", project, declared_default("metallbVersion")),
        ("cert-manager", PATHS["tls settings"], DEFAULT_CERT_MANAGER_VERSION),
        ("cert-manager", project, declared_default("certManagerVersion")),
    ]
    repository, _, tag = demo_app.IMAGE.partition("@")[0].rpartition(":")
    expected.append((repository, PATHS["demo app"], tag))
    for path in stack_files():
        config = yaml.safe_load(text(path))["config"]
        for key, name in (("istioVersion", "istio"), ("gatewayApiVersion", "gateway-api")):
            if f"homelab-mesh:{key}" in config:
                expected.append((name, path, str(config[f"homelab-mesh:{key}"])))
    for path in FILES:
        if path.startswith(".github/workflows/"):
            for job in yaml.safe_load(text(path))["jobs"].values():
                # The e2e adoption scenario's tools: istioctl at the homelab's Istio release, and helm.
                for variable, name in (("ISTIOCTL_VERSION", "istio"), ("HELM_VERSION", "helm")):
                    if variable in (job.get("env") or {}):
                        expected.append((name, path, str(job["env"][variable])))
                for step in job["steps"]:
                    inputs = step.get("with") or {}
                    if step.get("uses", "").startswith("pulumi/actions@"):
                        expected.append(("pulumi", path, str(inputs["pulumi-version"])))
                    if step.get("uses", "").startswith("helm/kind-action@"):
                        node, _, tag = inputs["node_image"].partition("@")[0].partition(":")
                        expected += [("kind", path, inputs["version"]), (node, path, tag)]
                        expected.append(("kubectl", path, inputs["kubectl_version"]))
    return sorted(expected)


def test_the_managers_find_exactly_the_pinned_versions() -> None:
    assert sorted((dep.name, dep.path, dep.value) for dep in DEPENDENCIES) == expected_pins()


def test_each_pin_is_looked_up_where_the_program_gets_it_from() -> None:
    sources = {
        (dep.name, dep.fields["datasource"], dep.fields.get("packageName"), dep.fields.get("registryUrl"))
        for dep in DEPENDENCIES
    }
    demo_repository = demo_app.IMAGE.partition("@")[0].rpartition(":")[0]
    assert sources == {
        ("istio", "github-releases", "istio/istio", None),
        # The program downloads the CRDs from the release's assets (versions.GATEWAY_API_STANDARD_INSTALL_URL).
        ("gateway-api", "github-releases", "kubernetes-sigs/gateway-api", None),
        ("metallb", "helm", None, versions.DEFAULT_METALLB_CHART_REPOSITORY),
        ("cert-manager", "docker", CERT_MANAGER_CHART.removeprefix("oci://"), None),
        (demo_repository, "docker", None, None),
        ("pulumi", "pypi", None, None),
        ("kind", "github-releases", "kubernetes-sigs/kind", None),
        ("kindest/node", "docker", None, None),
        ("kubectl", "github-releases", "kubernetes/kubernetes", None),
        ("helm", "github-releases", "helm/helm", None),
    }


def test_images_are_pinned_by_tag_and_digest() -> None:
    digests = {
        dep.name: dep.fields.get("currentDigest") for dep in DEPENDENCIES if dep.fields["datasource"] == "docker"
    }
    assert digests[demo_app.IMAGE.partition("@")[0].rpartition(":")[0]] == demo_app.IMAGE.partition("@")[2]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digests["kindest/node"] or "")


def test_each_gateway_api_pin_carries_the_istio_minor_of_its_file() -> None:
    gateways = found("gateway-api")
    # The e2e workflow pins istioctl (the seed's Istio), and no Gateway API beside it.
    istio_files = {dep.path for dep in found("istio")} - {".github/workflows/e2e.yml"}
    assert {dep.path for dep in gateways} == istio_files
    for dep in gateways:
        istio = in_file("istio", dep.path).value
        assert dep.fields["depType"] == "with-istio-" + ".".join(istio.split(".")[:2]), dep.where()


def scan(path: str, content: str) -> list[tuple[int, str]]:
    """(line, text) of every pin-like line: a module constant holding a version, a YAML or JSON value
    holding one, an action reference, a `name==version` requirement."""
    pins = []
    for number, line in enumerate(content.splitlines(), 1):
        code = re.sub(r"(^|\s)#.*", "", line)
        if path.endswith(".py"):
            pinned = bool(re.match(r"[A-Z][A-Z0-9_]* = ", code) and VERSION.search(code))
        elif path.endswith((".yaml", ".yml")):
            pinned = bool(re.match(r"\s+(-\s+)?uses:", code) or VERSION.search(code))
        elif path.endswith(".json"):
            pinned = bool(VERSION.search(code))
        else:
            pinned = bool(re.match(r"[\w.-]+(\[[\w,]+\])?==", code))
        if pinned:
            pins.append((number, line.strip()))
    return pins


def builtin_owner(path: str, line: str) -> str | None:
    """The Renovate manager that finds this line without a custom manager, if any."""
    if matches_any(path, BUILTIN_PATTERNS["github-actions"]) and re.match(r"(-\s+)?uses:", line):
        return "github-actions"
    if matches_any(path, BUILTIN_PATTERNS["npm"]):
        return "npm"
    lock_patterns = BUILTIN_PATTERNS["pip_requirements"] + CONFIG["pip_requirements"]["managerFilePatterns"]
    if matches_any(path, lock_patterns) and "==" in line:
        return "pip_requirements"
    return None


def test_the_scan_sees_pins_and_skips_comments_and_addresses() -> None:
    sample = 'A = "1.2"\nIMAGE = "quay.io/x/y:1.2.3"\n# OLD = "1.2.3"\nPOOL = "192.168.1.240/28"\nx = "2.0.0"\n'
    assert scan("components/x.py", sample) == [(2, 'IMAGE = "quay.io/x/y:1.2.3"')]
    workflow = "    steps:\n      - uses: a/b@c # v1.0.0\n        with:\n          tool: v2.1.0 # pinned\n"
    assert [number for number, _ in scan("w.yml", workflow)] == [2, 4]
    assert scan("stacks/s.yaml", "  - 172.18.255.200-172.18.255.220 # 1.2.3\n") == []


def unmanaged_pins(config: dict[str, Any]) -> list[str]:
    """`file:line: text` of every pin-like line that neither a custom manager nor a built-in one finds."""
    custom = {(dep.path, dep.line) for dep in extract_all(config, FILES)}
    unmanaged = []
    for path in pin_files():
        for number, line in scan(path, text(path)):
            if builtin_owner(path, line) is None and (path, number) not in custom:
                unmanaged.append(f"{path}:{number}: {line}")
    return unmanaged


def pin_files() -> list[str]:
    return [path for path in FILES if any(re.search(pattern, path) for pattern in PIN_FILES)]


def test_no_pinned_version_escapes_the_managers() -> None:
    assert set(PATHS.values()) <= set(pin_files())
    unmanaged = unmanaged_pins(CONFIG)
    assert not unmanaged, (
        "pinned versions no Renovate manager finds (add a custom manager to renovate.json):\n" + "\n".join(unmanaged)
    )
    scanned = {(path, number) for path in pin_files() for number, _ in scan(path, text(path))}
    custom = {(dep.path, dep.line) for dep in DEPENDENCIES}
    assert custom <= scanned, f"custom managers match lines that pin nothing: {sorted(custom - scanned)}"


def test_a_pin_without_its_manager_is_named_by_file_and_line() -> None:
    without_metallb = {
        **CONFIG,
        "customManagers": [m for m in CONFIG["customManagers"] if m.get("depNameTemplate") != "metallb"],
    }
    metallb = {f"{dep.path}:{dep.line}" for dep in found("metallb")}
    assert {entry.split(": ")[0] for entry in unmanaged_pins(without_metallb)} == metallb
    assert len(metallb) == 2


@pytest.mark.parametrize("path", [path for path in FILES if path.startswith(".github/workflows/")])
def test_every_action_reference_is_in_the_form_renovate_updates(path: str) -> None:
    for number, line in scan(path, text(path)):
        if builtin_owner(path, line) == "github-actions":
            assert USES.match(text(path).splitlines()[number - 1]), f"{path}:{number}: {line}"


# Inputs of actions that Renovate's github-actions manager reads itself, with the dependency name it gives
# them (renovate 44.121.2, dist/modules/manager/github-actions/known-actions/*.js and extract.js).
BUILTIN_ACTION_INPUTS = {
    ("actions/setup-python", "python-version"): "python",
    ("actions/setup-node", "node-version"): "node",
    ("pulumi/actions", "pulumi-version"): "pulumi",
    ("helm/kind-action", "version"): "kubernetes-sigs/kind",
    ("helm/kind-action", "node_image"): "kindest/node",
    ("helm/kind-action", "kubectl_version"): "kubernetes/kubernetes",
}


def builtin_input_disabled(dep_name: str) -> bool:
    """Whether the last packageRule matching the built-in `uses-with` dependency turns it off."""
    enabled = True
    for rule in CONFIG["packageRules"]:
        conditions = {key: value for key, value in rule.items() if key.startswith("match")}
        if (
            conditions.keys() == {"matchManagers", "matchDepTypes", "matchDepNames"}
            and "github-actions" in rule["matchManagers"]
            and "uses-with" in rule["matchDepTypes"]
            and dep_name in rule["matchDepNames"]
            and "enabled" in rule
        ):
            enabled = rule["enabled"]
    return not enabled


@pytest.mark.parametrize("path", [path for path in FILES if path.startswith(".github/workflows/")])
def test_no_line_is_updated_by_two_managers(path: str) -> None:
    """Each action input Renovate reads itself is held on purpose or found by exactly one custom manager,
    whose copy wins: the built-in one is turned off."""
    custom_lines = {dep.line for dep in DEPENDENCIES if dep.path == path}
    lines = text(path).splitlines()
    for job in yaml.safe_load(text(path))["jobs"].values():
        for step in job["steps"]:
            action = step.get("uses", "").partition("@")[0]
            for name in step.get("with") or {}:
                dep_name = BUILTIN_ACTION_INPUTS.get((action, name))
                if dep_name is None:
                    continue
                assert builtin_input_disabled(dep_name), f"{path}: {action} {name} would get two pull requests"
                numbers = {number for number, line in enumerate(lines, 1) if line.strip().startswith(f"{name}:")}
                if dep_name not in ("python", "node"):
                    assert numbers & custom_lines, f"{path}: {action} {name}: no custom manager finds it"


def bumped(version: str) -> str:
    *head, patch = version.split(".")
    return ".".join([*head, str(int(patch) + 1)])


@pytest.mark.parametrize("path", sorted({dep.path for dep in DEPENDENCIES}))
def test_an_update_rewrites_each_pin_and_nothing_else(path: str) -> None:
    """Every pin of the file updated in turn as Renovate's autoReplace does: the first occurrence of the
    dependency's replaceString, its currentValue replaced inside it."""
    content = text(path)
    deps = [dep for dep in DEPENDENCIES if dep.path == path]
    for dep in deps:
        # The first occurrence is this pin's own text, or an identical pin's that is updated in turn.
        first = content.index(dep.replace_string)
        assert any(other.start == first and other.replace_string == dep.replace_string for other in deps), dep.where()
    for dep in deps:
        at = content.index(dep.replace_string)
        new_string = dep.replace_string.replace(dep.value, bumped(dep.value), 1)
        content = content[:at] + new_string + content[at + len(dep.replace_string) :]
    changed = [(old, new) for old, new in zip(text(path).splitlines(), content.splitlines(), strict=True) if old != new]
    assert len(changed) == len({dep.line for dep in deps})
    config = load_config()
    again = [
        dep
        for index, manager in enumerate(config["customManagers"])
        for dep in extract(manager, index, path, content)
        if matches_any(path, manager["managerFilePatterns"])
    ]
    assert sorted((dep.name, dep.value) for dep in again) == sorted((dep.name, bumped(dep.value)) for dep in deps)


# --- one Istio minor per pull request ------------------------------------------------------------------------

ISTIO_RELEASES = [
    *(f"1.27.{patch}" for patch in range(10)),
    *(f"1.28.{patch}" for patch in range(13)),
    *(f"1.29.{patch}" for patch in range(11)),
    *(f"1.30.{patch}" for patch in range(7)),
    *(f"1.31.{patch}" for patch in range(4)),
    "1.32.0",
    "1.32.1",
    "1.33.0",
    "2.0.0",
]
GATEWAY_API_RELEASES = [f"v1.{minor}.{patch}" for minor in range(3, 8) for patch in range(3)] + ["v2.0.0"]


def sample(name: str, version: str, istio_minor: str | None = None) -> Dependency:
    fields = {"depName": name, "currentValue": version, "datasource": "github-releases"}
    if istio_minor:
        fields["depType"] = f"with-istio-{istio_minor}"
    return Dependency(manager=0, path="sample", line=1, fields=fields, replace_string="", start=0)


@pytest.mark.parametrize(
    ("istio", "gateway_api", "istio_to", "gateway_api_to"),
    [
        # renovate 44.121.2 (--platform=local --dry-run=lookup, these releases served as custom datasources)
        # proposed the same for each row, in the same branches.
        # The homelab's path (docs/upgrading.md): each pull request one minor, with the paired Gateway API.
        ("1.28.2", "v1.4.1", "1.29.10", None),
        ("1.29.9", "v1.4.1", "1.30.6", "v1.5.1"),
        ("1.30.5", "v1.5.1", "1.31.3", "v1.6.1"),
        # The newest minor of the table: Istio may go to the next (the suite then asks for its row), the
        # Gateway API only to a patch of its minor.
        ("1.31.1", "v1.6.1", "1.32.1", "v1.6.2"),
        # Already beyond the pairing: no downgrade.
        ("1.28.8", "v1.5.1", "1.29.10", None),
        # A minor the table does not know gets nothing.
        ("1.27.3", "v1.3.0", None, None),
    ],
)
def test_istio_moves_one_minor_with_the_gateway_api_the_table_pairs(
    istio: str, gateway_api: str, istio_to: str | None, gateway_api_to: str | None
) -> None:
    minor = ".".join(istio.split(".")[:2])
    istio_dep, gateway_dep = sample("istio", istio), sample("gateway-api", gateway_api, minor)
    assert proposal(CONFIG, istio_dep, ISTIO_RELEASES) == istio_to
    assert proposal(CONFIG, gateway_dep, GATEWAY_API_RELEASES) == gateway_api_to
    if istio_to:
        group = settings_for(CONFIG, istio_dep)["groupName"]
        assert settings_for(CONFIG, gateway_dep)["groupName"] == group, "one pull request per step"


@pytest.mark.parametrize("current", [release for release in ISTIO_RELEASES if release.startswith("1.")])
def test_no_istio_update_skips_a_minor(current: str) -> None:
    proposed = proposal(CONFIG, sample("istio", current), ISTIO_RELEASES)
    if proposed is not None:
        assert int(proposed.split(".")[1]) - int(current.split(".")[1]) <= 1, f"{current} -> {proposed}"


def test_each_step_is_its_own_pull_request() -> None:
    groups = {
        settings_for(CONFIG, sample("istio", f"{minor[0]}.{minor[1]}.0"))["groupName"] for minor in versions.SUPPORT
    }
    assert len(groups) == len(versions.SUPPORT)


def test_a_major_update_is_never_grouped() -> None:
    assert CONFIG["separateMajorMinor"] is True
    for dep in DEPENDENCIES:
        assert settings_for(CONFIG, dep, "major").get("groupName") is None, dep.where()
    # Renovate's non-custom managers: the last rule naming a group is the one that takes it away from majors.
    last_group_rule = max(index for index, rule in enumerate(CONFIG["packageRules"]) if "groupName" in rule)
    assert CONFIG["packageRules"][last_group_rule] == {
        "description": CONFIG["packageRules"][last_group_rule]["description"],
        "matchUpdateTypes": ["major"],
        "groupName": None,
    }


def test_the_pulumi_cli_moves_with_the_locked_sdk() -> None:
    """Same package (pypi `pulumi`) as the lock's pin, so Renovate puts both in one branch."""
    for dep in found("pulumi"):
        assert dep.fields["datasource"] == "pypi"
        assert settings_for(CONFIG, dep, "minor")["groupName"] == "locked Python dependencies"
        assert settings_for(CONFIG, dep)["postUpgradeTasks"]["commands"] == ["bash tools/lock.sh"]


# --- the compatibility table knows every pinned Istio ----------------------------------------------------------


def newest_patch_line(minor: tuple[int, int]) -> int:
    """The line of the versions module that holds this minor's newest patch."""
    newest = versions.SUPPORT[minor].newest_patch
    lines = text(PATHS["versions"]).splitlines()
    return next(number for number, line in enumerate(lines, 1) if f"({', '.join(map(str, newest))})" in line)


def table_problem(dep: Dependency) -> str | None:
    """Why the table cannot answer for this pinned Istio release yet, and what to edit."""
    version = versions.parse_version(dep.value)
    assert version, dep.where()
    minor = f"{version[0]}.{version[1]}"
    announcements = f"https://istio.io/latest/news/releases/{minor}.x"
    row = versions.SUPPORT.get(version[:2])
    if row is None:
        return (
            f"{dep.where()}: Istio {minor} is not in the compatibility table ({versions.known_minors()}): add its "
            f"MinorSupport row to {PATHS['versions']} SUPPORT from upstream: the Kubernetes range and end of "
            "life from https://istio.io/latest/docs/releases/supported-releases/ (istio.io "
            f"data/compatibility/supportStatus.yml) and {announcements}/announcing-{minor}/, the Gateway API "
            f"it is built against from github.com/istio/istio {dep.value}:go.mod and what it still runs from "
            "pkg/config/schema/gatewayapi/minimumversions.go; then venv/bin/python -m tools.renovate_config"
        )
    if version[2] > row.newest_patch[2]:
        return (
            f"{dep.where()}: Istio {dep.value} is newer than the table's newest {minor} patch "
            f"{versions.format_version(row.newest_patch)}: set it to {version} at {PATHS['versions']}:"
            f"{newest_patch_line(version[:2])} once {announcements}/announcing-{dep.value}/ and "
            f"github.com/istio/istio {dep.value}:go.mod (sigs.k8s.io/gateway-api) show its Gateway API range"
        )
    return None


def test_every_pinned_istio_release_is_known_to_the_table() -> None:
    problems = [problem for dep in found("istio") if (problem := table_problem(dep))]
    assert not problems, "\n".join(problems)


def test_a_new_minor_asks_for_its_row_and_names_the_upstream_pages() -> None:
    problem = table_problem(sample("istio", "1.32.0"))
    assert problem and "not in the compatibility table" in problem
    for page in ("supported-releases", "announcing-1.32/", "1.32.0:go.mod", "tools.renovate_config"):
        assert page in problem


def test_a_newer_patch_names_the_line_that_holds_the_newest_patch() -> None:
    latest = max(versions.SUPPORT)
    newest = versions.SUPPORT[latest].newest_patch
    ahead = versions.format_version((*latest, newest[2] + 1))
    problem = table_problem(sample("istio", ahead))
    line = newest_patch_line(latest)
    assert problem and f"{PATHS['versions']}:{line}" in problem and f"announcing-{ahead}/" in problem
    assert str(newest) in text(PATHS["versions"]).splitlines()[line - 1]
    assert table_problem(sample("istio", versions.format_version(newest))) is None


def test_each_file_pins_an_istio_and_gateway_api_pair_that_runs() -> None:
    for dep in found("gateway-api"):
        istio = versions.parse_version(in_file("istio", dep.path).value)
        gateway_api = versions.parse_version(dep.value)
        assert istio and gateway_api
        assert versions.runs_with(istio, gateway_api), (
            f"{dep.where()}: {versions.gateway_api_incompatibility(istio, gateway_api)}"
        )
