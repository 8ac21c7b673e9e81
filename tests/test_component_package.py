"""The component package (docs/library.md): its schema, checked in and current, with a description for every
component and property; and every public component hosted the way the component provider host hosts it, from
camelCase inputs through the SDK's ComponentProvider.construct, on the mock engine."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import homelab_mesh
import pulumi
import pytest
from homelab_mesh import ComponentArgsError
from homelab_mesh.provider import COMPONENTS

from tools.mock_engine import ROOT, Evaluation, evaluate, is_secret, unwrap
from tools.schema import SCHEMA, current_schema, render

PUBLIC = [
    "MetalLB",
    "GatewayApiCrds",
    "IstioAmbient",
    "IngressGateway",
    "HttpRoutes",
    "MeshedNamespace",
    "CertManager",
    "IssuerCheck",
    "Monitoring",
    "MeshVerification",
    "FrontDoorCheck",
    "UpgradeGuard",
    "DemoApp",
    "AddressHandover",
]
CLUSTER = {"identifier": "test-cluster", "context": "kind-kind"}
ROUTE = {"hostname": "echo.home.arpa", "namespace": "demo-apps", "rules": [{"service": "echo", "port": 80}]}


def test_the_checked_in_schema_is_current() -> None:
    assert SCHEMA.read_text() == render(current_schema()), "regenerate it: venv/bin/python -m tools.schema"


def test_the_package_hosts_every_public_component_under_its_index_token() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert schema["name"] == "homelab-mesh"
    assert schema["version"] == homelab_mesh.__version__
    assert sorted(schema["resources"]) == sorted(f"homelab-mesh:index:{name}" for name in PUBLIC)
    assert all(name in homelab_mesh.__all__ for name in PUBLIC)


def _described(schema: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for token, resource in schema["resources"].items():
        yield token, resource.get("description", "")
        for group in ("inputProperties", "properties"):
            for name, prop in resource.get(group, {}).items():
                yield f"{token}.{group}.{name}", prop.get("description", "")
    for token, kind in schema["types"].items():
        yield token, kind.get("description", "")
        for name, prop in kind.get("properties", {}).items():
            yield f"{token}.{name}", prop.get("description", "")


def test_every_component_type_and_property_has_a_description() -> None:
    undescribed = [where for where, text in _described(json.loads(SCHEMA.read_text())) if not text.strip()]
    assert undescribed == []


def test_the_schema_refers_to_the_kubernetes_provider_and_the_order_enum() -> None:
    schema = json.loads(SCHEMA.read_text())
    istio = schema["resources"]["homelab-mesh:index:IstioAmbient"]
    crds = schema["types"]["homelab-mesh:index:ManagedGatewayApiArgs"]["properties"]["provider"]
    # A provider handle: the analyzer refers to the Kubernetes package's own type (a schema dependency).
    assert crds["$ref"] == "/kubernetes/v4.34.2/schema.json#/resources/pulumi:providers:kubernetes"
    assert {"name": "kubernetes", "version": "4.34.2"} in schema["dependencies"]
    assert istio["inputProperties"]["order"]["$ref"] == "#/types/homelab-mesh:index:Order"


# Every component from the least a caller can pass, camelCase as another language sends it.
CASES: list[dict[str, Any]] = [
    {"type": "UpgradeGuard", "inputs": {"istioVersion": "1.28.1", "gatewayApiVersion": "v1.4.1", "cluster": CLUSTER}},
    {
        "type": "AddressHandover",
        "inputs": {"service": "istio-system/istio-ingressgateway", "address": "192.168.1.240", "cluster": CLUSTER},
    },
    {
        "type": "MetalLB",
        "inputs": {
            "addressPools": [{"name": "lan", "addresses": ["192.168.1.240-192.168.1.250"], "autoAssign": False}],
            "cluster": CLUSTER,
        },
    },
    {"type": "GatewayApiCrds", "inputs": {"version": "v1.4.1"}},
    {"type": "IstioAmbient", "inputs": {"platform": "k3s", "mtlsMode": "PERMISSIVE", "order": "rollback"}},
    {
        "type": "MeshedNamespace",
        "inputs": {
            "name": "demo-apps",
            "cluster": CLUSTER,
            "routed": True,
            "options": {
                "create": True,
                "networkPolicy": "restricted",
                "allowFrom": [{"namespace": "monitoring"}, {"ipBlocks": ["192.168.1.0/24"]}],
                "rules": [{"fromNamespaces": ["monitoring"], "ports": [8080]}],
            },
        },
    },
    {"type": "DemoApp", "inputs": {}},
    {"type": "CertManager", "inputs": {}},
    {"type": "IssuerCheck", "inputs": {"issuer": {"kind": "ClusterIssuer", "name": "company-ca"}, "cluster": CLUSTER}},
    {"type": "IngressGateway", "inputs": {"hostnames": ["echo.home.arpa"], "routes": [ROUTE]}},
    {"type": "HttpRoutes", "inputs": {"routes": [ROUTE], "hstsMaxAgeSeconds": 300}},
    {"type": "Monitoring", "inputs": {"cluster": CLUSTER, "metallbVersion": "0.15.3", "gateway": True}},
    {"type": "MeshVerification", "inputs": {"istioVersion": "1.28.1", "namespaces": ["demo-apps"], "cluster": CLUSTER}},
    {
        "type": "FrontDoorCheck",
        "inputs": {"address": "192.168.1.240", "hostnames": ["echo.home.arpa"], "routes": [ROUTE], "cluster": CLUSTER},
    },
]
BAD_CASES: list[dict[str, Any]] = [
    {
        "type": "MetalLB",
        "inputs": {"addressPools": [{"name": "lan", "addresses": ["not-an-address"]}], "cluster": {"identifier": ""}},
    },
    {"type": "HttpRoutes", "inputs": {"routes": [{**ROUTE, "namespace": "kube-system"}]}},
    {"type": "IstioAmbient", "inputs": {"version": "v1.28.1", "gatewayApiCrds": {"version": "v0.1.0"}}},
]


def _hosted(cases: list[dict[str, Any]], prefix: str) -> Evaluation:
    named = [
        {**case, "name": f"{prefix}-{case['type'].lower()}", "type": f"homelab-mesh:index:{case['type']}"}
        for case in cases
    ]
    os.environ["HOSTED_CASES"] = json.dumps(named)
    try:
        return evaluate("homelab", program=ROOT / "tests" / "hosted_program.py")
    finally:
        del os.environ["HOSTED_CASES"]


@pytest.fixture(scope="module")
def hosted() -> Evaluation:
    return _hosted(CASES, "hosted")


def test_every_public_component_is_covered_by_a_hosted_case() -> None:
    assert sorted(case["type"] for case in CASES) == sorted(PUBLIC) == sorted(c.__name__ for c in COMPONENTS)


@pytest.mark.parametrize("component", PUBLIC)
def test_each_component_builds_when_hosted(hosted: Evaluation, component: str) -> None:
    name = f"hosted-{component.lower()}"
    assert f"{name}:error" not in hosted.outputs, hosted.outputs.get(f"{name}:error")
    registration = hosted.named(name)
    assert registration.type == f"homelab-mesh:index:{component}"
    assert any(r.parent == registration.urn for r in hosted.registrations.values())


def test_hosted_inputs_arrive_mapped_to_the_args(hosted: Evaluation) -> None:
    """camelCase names, enum values and nested types reach the component as its Python args."""
    pool = unwrap(hosted.named("hosted-metallb-address-pool-lan").inputs)
    assert pool["spec"] == {"addresses": ["192.168.1.240-192.168.1.250"], "autoAssign": False}
    istiod = hosted.release("istiod")
    assert unwrap(istiod.inputs)["values"]["global"]["platform"] == "k3s"
    # rollback: istiod waits for the node agents going back first (ztunnel, then istio-cni).
    assert "hosted-istioambient-cni" in hosted.dependency_names(istiod.name)
    route = unwrap(hosted.named("hosted-httproutes-echo-home-arpa").inputs)
    assert route["spec"]["rules"][0]["filters"][0]["responseHeaderModifier"]["set"][0]["value"] == "max-age=300"


def test_declared_outputs_reach_the_caller(hosted: Evaluation) -> None:
    assert hosted.outputs["hosted-ingressgateway"]["urls"] == ["https://echo.home.arpa/"]
    assert hosted.outputs["hosted-ingressgateway"]["caCertificatePem"].startswith("-----BEGIN CERTIFICATE-----")
    assert hosted.outputs["hosted-metallb"]["pools"] == ["lan"]
    assert hosted.outputs["hosted-meshednamespace"]["meshedNamespace"] == "demo-apps"
    assert hosted.outputs["hosted-upgradeguard"]["order"] == "first-install"


def test_a_secret_kubeconfig_stays_secret_through_the_host() -> None:
    cluster = {**CLUSTER, "kubeconfig": "apiVersion: v1\nkind: Config\n"}
    evaluation = _hosted([{"type": "Monitoring", "inputs": {"cluster": cluster}}], "secret")
    environment = evaluation.named("secret-monitoring-prometheus-operator-crds").inputs["environment"]
    # The SDK marks the whole environment secret once a value in it is.
    assert is_secret(environment) and unwrap(environment)["KUBECONFIG_DATA"] == cluster["kubeconfig"]


def test_bad_input_through_the_host_names_every_bad_argument() -> None:
    outputs = _hosted(BAD_CASES, "bad").outputs
    metallb = outputs["bad-metallb:error"]
    assert "invalid component arguments" in metallb
    assert "MetalLB bad-metallb: addressPools[0].addresses[0]:" in metallb
    assert "MetalLB bad-metallb: cluster.identifier: is required" in metallb
    routes = outputs["bad-httproutes:error"]
    # The stack file's words for the same check (tests/test_config_errors.py).
    assert (
        "HttpRoutes bad-httproutes: routes[0].namespace: \"kube-system\" runs the cluster's or the mesh's own" in routes
    )
    istio = outputs["bad-istioambient:error"]
    assert 'IstioAmbient bad-istioambient: version: "v1.28.1" is not a pinned release version such as 1.2.3' in istio
    assert not [name for name in outputs if not name.endswith(":error")]


def test_a_python_caller_gets_the_same_named_error_before_anything_registers() -> None:
    with pytest.raises(ComponentArgsError) as raised:
        homelab_mesh.MetalLB("lan", {"address_pools": [], "cluster": CLUSTER})  # type: ignore[typeddict-item]
    assert isinstance(raised.value, pulumi.RunError)
    assert raised.value.problems == ["MetalLB lan: addressPools: needs at least one pool (LAN addresses for MetalLB)"]


def test_the_same_check_says_the_same_through_the_stack_file(config_error: Any) -> None:
    route = {**ROUTE, "namespace": "kube-system"}
    through_stack = config_error({"routes": [route]}).problems
    with pytest.raises(ComponentArgsError) as raised:
        homelab_mesh.HttpRoutes("routes", {"routes": [route]})  # type: ignore[typeddict-item]
    (problem,) = raised.value.problems
    assert problem.startswith("HttpRoutes routes: routes[0].namespace: ")
    assert any(stack.partition(": ")[2] == problem.split(": ", 2)[2] for stack in through_stack), through_stack
