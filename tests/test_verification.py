"""MeshVerification: runs after the mesh is up, and only again when the mesh changes."""

from __future__ import annotations

from homelab_mesh.scripts import script

from tests.conftest import Evaluate
from tests.graph import must_precede
from tools.mock_engine import Evaluation


def test_runs_after_ztunnel_every_meshed_namespace_and_the_gateway(homelab: Evaluation) -> None:
    for name in (
        "istio-ztunnel",
        "istio-cni",
        "mesh-demo-apps-namespace",
        "mesh-tekton-builds-namespace",
        "mesh-localstack-namespace",
        "ingress-gateway",
        "mesh-localstack-ambient-network-policy",
    ):
        assert must_precede(homelab, name, "verify-mesh"), name


def test_checks_every_namespace_and_the_gateway(homelab: Evaluation) -> None:
    check = homelab.named("verify-mesh").inputs
    assert check["create"] == script("verify-mesh.sh")
    environment = check["environment"]
    assert environment["NAMESPACES"].split() == ["demo-apps", "localstack", "tekton-builds"]
    assert (environment["GATEWAY_NAMESPACE"], environment["GATEWAY_NAME"]) == ("istio-gateway", "ingress")
    assert environment["KUBE_CONTEXT"] == "homelab"


def test_reruns_only_when_version_or_namespaces_change(run: Evaluate, homelab: Evaluation) -> None:
    baseline = homelab.named("verify-mesh").inputs["triggers"]
    unrelated = run(
        {
            "routes": [
                {
                    "hostname": "demo-app1.local",
                    "namespace": "demo-apps",
                    "rules": [{"path": "/app", "service": "demo-app1", "port": 8080}],
                }
            ]
        }
    )
    assert unrelated.named("verify-mesh").inputs == homelab.named("verify-mesh").inputs
    upgraded = run({"istioVersion": "1.28.10"})
    assert upgraded.named("verify-mesh").inputs["triggers"] != baseline
    fewer = run({"meshedNamespaces": ["demo-apps", "localstack"], "namespaceOptions": None})
    assert fewer.named("verify-mesh").inputs["triggers"] != baseline


def test_can_be_switched_off_per_stack(run: Evaluate) -> None:
    assert "verify-mesh" not in run({"verifyMesh": False}).names()
