"""Two instances of every public component in one stack (one per cluster, each on its own provider): the
engine accepts them only if no two resources share a URN, and a URN holds the parent's type but not its name,
so every child's name derives from its component's (issue 25)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.mock_engine import ROOT, Evaluation, evaluate

PROGRAM = ROOT / "tests" / "two_instances_program.py"
PUBLIC_AND_NESTED = {
    "AddressHandover",
    "CertManager",
    "DemoApp",
    "FrontDoorCheck",
    "GatewayApiCrds",
    "GatewayCertificates",
    "HttpRoutes",
    "IngressGateway",
    "IssuerCheck",
    "IstioAmbient",
    "MeshVerification",
    "MeshedNamespace",
    "MetalLB",
    "Monitoring",
    "UpgradeGuard",
}
# Children named after the component, though not with it as a prefix (kept: their names never collided).
SUFFIXED = {"FrontDoorCheck": "check-{}", "AddressHandover": "gateway-{}"}


@pytest.fixture(scope="module")
def both() -> Evaluation:
    return evaluate("homelab", program=PROGRAM)


def components(evaluation: Evaluation) -> list:
    return [r for r in evaluation.registrations.values() if not r.custom and r.type.startswith("homelab-mesh:")]


def test_two_of_every_component_register_without_a_duplicate_urn(both: Evaluation) -> None:
    kinds = [r.type.rpartition(":")[2] for r in components(both)]
    # Each IstioAmbient installs its own Gateway API CRDs beside it, too.
    expected = {**dict.fromkeys(PUBLIC_AND_NESTED, 2), "GatewayApiCrds": 4}
    assert {kind: kinds.count(kind) for kind in kinds} == expected


def test_every_child_is_named_after_its_component(both: Evaluation) -> None:
    for component in components(both):
        children = [r for r in both.registrations.values() if r.parent == component.urn]
        assert children, component.name
        kind = component.type.rpartition(":")[2]
        for child in children:
            if kind in SUFFIXED:
                assert child.name == SUFFIXED[kind].format(component.name), child.name
            else:
                assert child.name.startswith(f"{component.name}-"), (component.name, child.name)


def test_each_instance_stays_on_its_own_provider(both: Evaluation) -> None:
    for cluster in ("east", "west"):
        provider = both.named(cluster).urn
        namespaces = [r for r in both.of_type("kubernetes:core/v1:Namespace") if r.name.startswith(f"{cluster}-")]
        assert namespaces
        assert all(r.provider.startswith(f"{provider}::") for r in namespaces)


def test_the_mock_engine_refuses_a_duplicate_urn(tmp_path: Path) -> None:
    """What the test above relies on: a second resource with the same URN fails the program, as in the engine."""
    program = tmp_path / "program.py"
    program.write_text(
        "import pulumi\nfrom homelab_mesh.kubernetes import namespace\nnamespace('twice')\nnamespace('twice')\n"
    )
    with pytest.raises(Exception, match="Duplicate resource URN"):
        evaluate("homelab", program=program)
