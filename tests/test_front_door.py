"""FrontDoorCheck: after the Gateway and every route, checks the front door; re-runs only when what it checks
changes; carries the CA certificate but never a key."""

from __future__ import annotations

import json

import pytest
from homelab_mesh.scripts import script

from tests.conftest import Evaluate
from tests.graph import must_precede
from tests.test_secrets import KEY_MARKERS, PROVIDED_CERTIFICATE
from tools.mock_engine import MOCK_VALIDITY_END, Evaluation, evaluate, is_secret, unwrap

CHECK = "check-front-door"


def test_runs_after_the_gateway_the_redirect_and_every_route(homelab: Evaluation) -> None:
    routes = [r.name for r in homelab.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")]
    assert sorted(routes) == ["ingress-http-to-https-redirect", "routes-demo-app1-local", "routes-harbor-local"]
    for name in ("ingress-gateway", *routes):
        assert must_precede(homelab, name, CHECK), name
    check = homelab.named(CHECK)
    assert check.type == "command:local:Command"
    assert check.parent == homelab.named("front-door").urn
    assert homelab.named("front-door").type == "homelab-mesh:index:FrontDoorCheck"


def test_checks_each_hostname_and_route_rule_at_the_gateway_address(homelab: Evaluation) -> None:
    check = homelab.named(CHECK).inputs
    assert check["create"] == script("check-front-door.sh")
    assert "delete" not in check and "update" not in check
    environment = check["environment"]
    # The Gateway's address as the engine reports it (the mock engine's Gateway status).
    assert environment["GATEWAY_ADDRESS"] == "192.0.2.10"
    assert environment["HOSTNAMES"].split() == ["demo-app1.local", "harbor.local"]
    assert environment["ROUTE_RULES"].splitlines() == [
        "demo-app1.local demo-apps demo-app1 /",
        "harbor.local harbor harbor /",
    ]
    assert environment["CA_CERTIFICATE_PEM"] == homelab.outputs["caCertificatePem"]
    assert environment["KUBE_CONTEXT"] == "homelab"
    assert environment["TIMEOUT_SECONDS"] == "300"


@pytest.fixture(scope="module")
def two_rules() -> Evaluation:
    return evaluate(
        "homelab",
        overrides={
            "routes": [
                {
                    "hostname": "demo-app1.local",
                    "namespace": "demo-apps",
                    "rules": [
                        {"path": "/healthz", "match": "Exact", "service": "demo-health", "port": 8080},
                        {"path": "/api/v1", "service": "demo-api", "port": 8080},
                    ],
                }
            ]
        },
    )


def test_every_rule_of_a_route_is_listed(two_rules: Evaluation) -> None:
    assert two_rules.named(CHECK).inputs["environment"]["ROUTE_RULES"].splitlines() == [
        "demo-app1.local demo-apps demo-health /healthz",
        "demo-app1.local demo-apps demo-api /api/v1",
    ]


def test_provided_certificates_are_checked_against_the_system_trust(provided: Evaluation) -> None:
    environment = provided.named(CHECK).inputs["environment"]
    assert "CA_CERTIFICATE_PEM" not in environment
    assert PROVIDED_CERTIFICATE not in json.dumps(unwrap(provided.named(CHECK).inputs))


@pytest.mark.parametrize("tls_mode", ["private-ca", "provided"])
def test_no_secret_and_no_key_in_the_environment(homelab: Evaluation, provided: Evaluation, tls_mode: str) -> None:
    evaluation = homelab if tls_mode == "private-ca" else provided
    inputs = evaluation.named(CHECK).inputs
    # The environment is shown in plain text by `pulumi up`; a secret in it would make every output secret.
    assert not any(is_secret(value) for value in inputs["environment"].values())
    assert not any(is_secret(value) for value in inputs["triggers"])
    text = json.dumps(unwrap(inputs))
    assert not [marker for marker in KEY_MARKERS if marker in text]


def test_reruns_only_when_what_it_checks_changes(
    run: Evaluate, homelab: Evaluation, provided: Evaluation, two_rules: Evaluation
) -> None:
    baseline = homelab.named(CHECK).inputs
    unrelated = run({"istioVersion": "1.28.10", "meshedNamespaces": ["demo-apps"], "namespaceOptions": None})
    assert unrelated.named(CHECK).inputs == baseline
    changes = {
        "hostnames": run({"gatewayHostnames": ["demo-app1.local", "harbor.local", "grafana.local"]}),
        "routes": two_rules,
        "ca": provided,
    }
    for what, evaluation in changes.items():
        assert evaluation.named(CHECK).inputs["triggers"] != baseline["triggers"], what
    # The address is a trigger as the Gateway reports it (192.0.2.10 is the mock engine's Gateway status): a
    # new address re-runs the check.
    assert "192.0.2.10" in baseline["triggers"]
    # Each certificate's end of validity, as pulumi-tls reports it, is one too: a renewal re-runs the check, so
    # the new certificate is proven from the outside (the mock engine's certificates all end at one date).
    assert baseline["triggers"].count(MOCK_VALIDITY_END) == len(homelab.outputs["certificateExpiry"])
    assert provided.named(CHECK).inputs["triggers"].count(MOCK_VALIDITY_END) == 0


def test_runs_only_when_enabled_and_there_is_a_gateway(run: Evaluate) -> None:
    assert CHECK not in run({"verifyFrontDoor": False}).names()
    # Independent of the mesh verification: a runner may reach the API but not the LAN address, or the reverse.
    assert CHECK in run({"verifyMesh": False}).names()
    assert CHECK not in run({"gatewayHostnames": [], "routes": []}).names()
