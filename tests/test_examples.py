"""examples/: the Python example runs from the built wheel in a fresh virtualenv on the mock engine; the YAML
and TypeScript examples name only component types and properties the package schema has (components/
schema.json). Running them for real needs the Pulumi CLI (`pulumi package add`, docs/library.md)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import installed_venv

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCHEMA = json.loads((ROOT / "components" / "schema.json").read_text())
# Runs in the example's virtualenv: the mock engine from this checkout, the package only from the wheel.
DRIVER = """
import json, sys
sys.path.insert(0, {root!r})
import tools
sys.path.remove(tools.PACKAGE_SOURCE)
from pathlib import Path
from tools.mock_engine import evaluate, is_secret
example = Path({example!r})
evaluation = evaluate("dev", root=example, program=example / "__main__.py")
import homelab_mesh
print(json.dumps({{
    "package": homelab_mesh.__file__,
    "registrations": {{
        r.name: [r.type, sorted(evaluation.dependency_names(r.name))] for r in evaluation.registrations.values()
    }},
    "outputs": evaluation.outputs,
}}))
"""


@pytest.fixture(scope="module")
def python_example(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    venv = installed_venv(wheel, tmp_path_factory.mktemp("example") / "venv")
    driver = DRIVER.format(root=str(ROOT), example=str(EXAMPLES / "python"))
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", driver], capture_output=True, text=True, timeout=120, cwd=venv.parent
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_the_python_example_uses_the_installed_wheel(python_example: dict[str, Any]) -> None:
    assert "/venv/" in python_example["package"] and str(ROOT / "components") not in python_example["package"]


def test_the_python_example_builds_the_mesh_a_namespace_and_its_route(python_example: dict[str, Any]) -> None:
    registrations = python_example["registrations"]
    components = {name: kind for name, (kind, _) in registrations.items() if kind.startswith("homelab-mesh:")}
    assert {kind.rpartition(":")[2] for kind in components.values()} >= {
        "MetalLB",
        "IstioAmbient",
        "GatewayApiCrds",
        "MeshedNamespace",
        "IngressGateway",
        "HttpRoutes",
    }
    # The route waits for the Gateway and for its namespace's enrolment and policy.
    _, route_waits_for = registrations["routes-echo-home-arpa"]
    assert {"front-door-gateway", "apps-namespace", "apps-l4-authorization"} <= set(route_waits_for)
    # On the example's own provider.
    assert registrations["cluster"][0] == "pulumi:providers:kubernetes"
    assert python_example["outputs"]["urls"] == ["https://echo.home.arpa/"]


def _yaml_resources() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text())["resources"]


def _check_properties(properties: dict[str, Any], spec: dict[str, Any], where: str) -> list[str]:
    """Property names (recursively through object types) the schema does not have."""
    unknown = []
    for name, value in properties.items():
        prop = spec.get(name)
        if prop is None:
            unknown.append(f"{where}.{name}")
            continue
        ref = prop.get("$ref") or prop.get("items", {}).get("$ref") or ""
        if ref.startswith("#/types/"):
            kind = SCHEMA["types"][ref.removeprefix("#/types/")]
            values = value if isinstance(value, list) else [value]
            for item in values:
                if isinstance(item, dict) and "properties" in kind:
                    unknown += _check_properties(item, kind["properties"], f"{where}.{name}")
                elif (
                    "enum" in kind
                    and isinstance(item, str)
                    and not item.startswith("${")
                    and item not in [member["value"] for member in kind["enum"]]
                ):
                    unknown.append(f"{where}.{name}={item}")
    return unknown


def test_the_yaml_example_names_only_what_the_schema_has() -> None:
    resources = _yaml_resources()
    components = {name: body for name, body in resources.items() if body["type"].startswith("homelab-mesh:")}
    assert len(components) >= 5
    unknown: list[str] = []
    for name, body in components.items():
        schema = SCHEMA["resources"].get(body["type"])
        if schema is None:
            unknown.append(body["type"])
            continue
        unknown += _check_properties(body.get("properties", {}), schema["inputProperties"], name)
        missing = set(schema.get("requiredInputs", [])) - set(body.get("properties", {}))
        unknown += [f"{name}: required {prop} missing" for prop in sorted(missing)]
    assert unknown == []


def test_the_yaml_example_reads_only_declared_outputs() -> None:
    text = (EXAMPLES / "yaml" / "Pulumi.yaml").read_text()
    resources = _yaml_resources()
    for resource, output in re.findall(r"\$\{([a-zA-Z0-9-]+)\.([a-zA-Z0-9]+)\}", text):
        kind = resources[resource]["type"]
        if kind.startswith("homelab-mesh:"):
            assert output in SCHEMA["resources"][kind]["properties"], f"{resource}.{output}"


def test_the_typescript_example_uses_the_generated_sdk_names() -> None:
    """`pulumi package add` generates a class per component (`new homelabMesh.<Class>`) with camelCase args
    (pulumi/pulumi pkg/codegen/nodejs): every class and property the example names is in the schema."""
    source = (EXAMPLES / "typescript" / "index.ts").read_text()
    constructed = re.findall(r"new homelabMesh\.(\w+)\(\s*\"[^\"]+\",\s*(\{.*?\n\})", source, flags=re.S)
    assert len(constructed) >= 5
    for component, body in constructed:
        schema = SCHEMA["resources"].get(f"homelab-mesh:index:{component}")
        assert schema is not None, component
        top_level = re.findall(r"^    (\w+):", body, flags=re.M)
        assert set(top_level) <= set(schema["inputProperties"]), (
            component,
            set(top_level) - set(schema["inputProperties"]),
        )
        assert set(schema.get("requiredInputs", [])) <= set(top_level), component
    declared = dict(re.findall(r"const (\w+) = new homelabMesh\.(\w+)", source))
    for resource, output in re.findall(r"(?<![\w.\"])(\w+)\.(\w+)\b", source):
        if resource in declared:
            properties = SCHEMA["resources"][f"homelab-mesh:index:{declared[resource]}"]["properties"]
            assert output in properties, f"{resource}.{output}"


TYPESCRIPT = EXAMPLES / "typescript"
# What `pulumi package add` writes into the local SDK's package.json: typescript and @types/node as
# dependencies (its postinstall compiles it), and @pulumi/pulumi (pulumi/pulumi v3.259.0,
# pkg/codegen/nodejs/gen.go: genNPMPackageMetadata, MinimumTypescriptVersion, MinimumNodeTypesVersion,
# MinimumValidSDKVersion).
LOCAL_SDK_DEPENDENCIES = {"@pulumi/pulumi": "^3.142.0", "typescript": "^4.7.0", "@types/node": "^20"}


def _caret_allows(caret: str, version: str) -> bool:
    """npm's `^X.Y.Z` / `^X` for X >= 1: the same major, at least X.Y.Z."""
    floor = [int(part) for part in caret.removeprefix("^").split(".")]
    found = [int(part) for part in version.split(".")[:3]]
    return found[0] == floor[0] and found >= floor + [0] * (3 - len(floor))


def _typescript_lock() -> dict[str, Any]:
    return json.loads((TYPESCRIPT / "package-lock.json").read_text())


def test_the_typescript_examples_lock_is_its_package_json_with_every_tarball_hashed() -> None:
    """`npm ci` installs exactly this lock, checking each package against its integrity."""
    lock = _typescript_lock()
    package = json.loads((TYPESCRIPT / "package.json").read_text())
    assert lock["lockfileVersion"] == 3
    root = lock["packages"][""]
    for field in ("dependencies", "devDependencies"):
        assert root.get(field) == package.get(field), field
    installed = {path: entry for path, entry in lock["packages"].items() if path}
    assert installed
    for path, entry in installed.items():
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]+=*", entry.get("integrity", "")), path


def test_the_typescript_example_already_holds_what_the_generated_sdk_depends_on() -> None:
    """The local SDK `pulumi package add` links in needs typescript ^4.7, @types/node ^20 and @pulumi/pulumi:
    with the example's own top-level copies in range, npm's install adds only the link (the e2e guard,
    tools/npm_lock_guard.py, fails the job otherwise). TypeScript 5 at the top would bring a second one."""
    packages = _typescript_lock()["packages"]
    for name, caret in LOCAL_SDK_DEPENDENCIES.items():
        version = packages[f"node_modules/{name}"]["version"]
        assert _caret_allows(caret, version), (name, version, caret)
    assert (
        not _caret_allows("^4.7.0", "5.0.0") and _caret_allows("^20", "20.19.1") and not _caret_allows("^20", "22.0.0")
    )


def test_the_typescript_example_runs_on_the_releases_the_workflows_pin() -> None:
    """@pulumi/kubernetes at the pulumi-kubernetes release of requirements.lock (the provider plugin the
    examples job installs); @pulumi/pulumi no newer than the Pulumi CLI the workflows install (the SDK of
    requirements.lock): a CLI runs the SDKs released before it."""
    lock = (ROOT / "requirements.lock").read_text()
    python = dict(re.findall(r"^([\w.-]+)==(\S+)", lock, flags=re.M))
    packages = _typescript_lock()["packages"]
    assert packages["node_modules/@pulumi/kubernetes"]["version"] == python["pulumi-kubernetes"]
    node_sdk = [int(part) for part in packages["node_modules/@pulumi/pulumi"]["version"].split(".")]
    assert node_sdk <= [int(part) for part in python["pulumi"].split(".")]


LIBRARY = ROOT / "docs" / "library.md"
PREAMBLE = """
import pulumi
import pulumi_kubernetes as k8s
from homelab_mesh import *  # noqa: F403

provider = k8s.Provider("cluster", cluster_identifier="homelab")
on_cluster = pulumi.ResourceOptions(providers={"kubernetes": provider})
cluster = {"identifier": "homelab"}
"""


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", LIBRARY.read_text(), flags=re.S | re.M)


def test_the_librarys_yaml_examples_name_only_what_the_schema_has() -> None:
    resources: dict[str, Any] = {}
    for block in _blocks("yaml"):
        resources.update(yaml.safe_load(block))
    components = {name: body for name, body in resources.items() if body["type"].startswith("homelab-mesh:")}
    assert {body["type"] for body in components.values()} == set(SCHEMA["resources"])
    unknown: list[str] = []
    for name, body in components.items():
        schema = SCHEMA["resources"][body["type"]]
        unknown += _check_properties(body.get("properties", {}), schema["inputProperties"], name)
        missing = set(schema.get("requiredInputs", [])) - set(body.get("properties", {}))
        unknown += [f"{name}: required {prop} missing" for prop in sorted(missing)]
    assert unknown == []


def test_the_librarys_python_examples_run_together(tmp_path: Path) -> None:
    """Every Python example of docs/library.md, in order, as one program on the mock engine."""
    from tools.mock_engine import evaluate

    program = tmp_path / "__main__.py"
    program.write_text(PREAMBLE + "\n".join(_blocks("python")))
    evaluation = evaluate("dev", root=EXAMPLES / "python", program=program)
    kinds = {
        r.type.rpartition(":")[2] for r in evaluation.registrations.values() if r.type.startswith("homelab-mesh:index:")
    }
    assert kinds == {token.rpartition(":")[2] for token in SCHEMA["resources"]}
    assert evaluation.outputs["caCertificatePem"].startswith("-----BEGIN CERTIFICATE-----")
