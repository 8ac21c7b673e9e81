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


@pytest.mark.xdist_group("wheel")
def test_the_python_example_uses_the_installed_wheel(python_example: dict[str, Any]) -> None:
    assert "/venv/" in python_example["package"] and str(ROOT / "components") not in python_example["package"]


@pytest.mark.xdist_group("wheel")
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
    package = json.loads((EXAMPLES / "typescript" / "package.json").read_text())
    assert "@pulumi/homelab-mesh" in package["dependencies"]
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
