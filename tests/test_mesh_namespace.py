"""MeshedNamespace: enrolment, un-enrolment order, NetworkPolicy and authorization for ambient."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from homelab_mesh.scripts import script
from homelab_mesh.settings import ConfigError

from tests.conftest import Evaluate
from tests.graph import creation_order, must_precede
from tools.mock_engine import Evaluation, evaluate

MESHED = ("demo-apps", "tekton-builds", "localstack")
STARTER = Path(__file__).resolve().parent.parent / "stacks" / "starter.yaml"
GATEWAY_PRINCIPAL = "cluster.local/ns/istio-gateway/sa/ingress-istio"


@pytest.mark.parametrize("namespace", MESHED)
def test_an_existing_namespace_is_labelled_not_owned(homelab: Evaluation, namespace: str) -> None:
    """The homelab's namespaces exist without the stack: a server-side apply patch sets only the label, so
    neither a destroy nor a renamed resource can delete the namespace."""
    registration = homelab.named(f"mesh-{namespace}-namespace")
    assert registration.type == "kubernetes:core/v1:NamespacePatch"
    assert registration.inputs["metadata"] == {"name": namespace, "labels": {"istio.io/dataplane-mode": "ambient"}}
    assert registration.parent == homelab.named(f"mesh-{namespace}").urn
    assert not homelab.of_type("kubernetes:core/v1:Namespace") or all(
        r.inputs["metadata"]["name"] != namespace for r in homelab.of_type("kubernetes:core/v1:Namespace")
    )


def test_create_true_makes_the_stack_create_and_retain_the_namespace(run: Evaluate) -> None:
    evaluation = run(overrides={"namespaceOptions": {"localstack": {"networkPolicy": "restricted", "create": True}}})
    created = evaluation.named("mesh-localstack-namespace")
    assert created.type == "kubernetes:core/v1:Namespace"
    assert created.inputs["metadata"]["labels"]["istio.io/dataplane-mode"] == "ambient"
    assert created.retain_on_delete is True
    # The others stay label-only.
    assert evaluation.named("mesh-demo-apps-namespace").type == "kubernetes:core/v1:NamespacePatch"


def test_the_demo_apps_namespace_is_created_unless_told_otherwise(run: Evaluate) -> None:
    starter = run(stack="starter", stack_file=STARTER)
    assert starter.named("mesh-demo-apps-namespace").type == "kubernetes:core/v1:Namespace"
    labelled = run(
        stack="starter", stack_file=STARTER, overrides={"namespaceOptions": {"demo-apps": {"create": False}}}
    )
    assert labelled.named("mesh-demo-apps-namespace").type == "kubernetes:core/v1:NamespacePatch"


def test_create_must_be_a_boolean(config_error: Any) -> None:
    error = config_error(overrides={"namespaceOptions": {"localstack": {"create": "yes"}}})
    assert error.problems == [
        'homelab-mesh:namespaceOptions.localstack.create: input should be a valid boolean, got "yes"'
    ]


@pytest.mark.parametrize("namespace", MESHED)
def test_destroy_unenrols_before_the_dataplane_goes(homelab: Evaluation, namespace: str) -> None:
    for agent in ("istio-ztunnel", "istio-cni"):
        assert must_precede(homelab, agent, f"mesh-{namespace}-namespace")
        assert must_precede(homelab, agent, f"mesh-{namespace}-unenrol")
    order = creation_order(homelab)
    # Destroy runs in reverse creation order: the un-enrol command goes before ztunnel and istio-cni.
    deletion = order[::-1]
    assert deletion.index(f"mesh-{namespace}-unenrol") < deletion.index("istio-ztunnel") < deletion.index("istio-cni")


NAMESPACE_POLICIES = (
    "mesh-localstack-ambient-network-policy",
    "mesh-localstack-peer-authentication",
    "mesh-localstack-l4-authorization",
    "mesh-localstack-waypoint",
    "mesh-localstack-waypoint-authorization",
    "mesh-localstack-use-waypoint",
)


@pytest.fixture(scope="module")
def fully_policed() -> Evaluation:
    """localstack with every policy a namespace can have."""
    return evaluate(
        "homelab",
        overrides={
            "namespaceOptions": {
                "localstack": {
                    "networkPolicy": "restricted",
                    "mtls": "PERMISSIVE",
                    "allowFrom": [{"ipBlocks": ["192.168.1.0/24"]}],
                    "waypoint": True,
                },
            }
        },
    )


def test_unenrol_runs_before_the_namespace_policies_are_deleted(fully_policed: Evaluation) -> None:
    """The engine deletes dependents before their dependencies, on destroy and when the namespace leaves the
    stack alike: the un-enrol command depends on every policy, so it runs while they are all still in place.
    Through the Namespace it still depends on ztunnel and istio-cni, so it also runs before they go; and the
    routes and the verification that depend on the namespace are deleted before it."""
    unenrol = "mesh-localstack-unenrol"
    assert {r.name for r in fully_policed.children("mesh-localstack")} >= {*NAMESPACE_POLICIES, unenrol}
    for policy in NAMESPACE_POLICIES:
        assert must_precede(fully_policed, policy, unenrol), policy
        assert not must_precede(fully_policed, unenrol, policy), policy
    for agent in ("istio-ztunnel", "istio-cni", "mesh-localstack-namespace"):
        assert must_precede(fully_policed, agent, unenrol), agent
    assert must_precede(fully_policed, "mesh-localstack-unenrol", "verify-mesh")
    deletion = creation_order(fully_policed)[::-1]
    position = deletion.index(unenrol)
    assert all(position < deletion.index(policy) for policy in NAMESPACE_POLICIES)
    assert position < deletion.index("istio-ztunnel") and position < deletion.index("istio-cni")
    # Un-enrolling clears the use-waypoint label itself; the waypoint still goes only after that patch does.
    assert deletion.index("mesh-localstack-use-waypoint") < deletion.index("mesh-localstack-waypoint")


def test_unenrol_depends_on_the_policies_a_namespace_actually_has(homelab: Evaluation) -> None:
    assert homelab.dependency_names("mesh-tekton-builds-unenrol") >= {
        "mesh-tekton-builds-namespace",
        "mesh-tekton-builds-l4-authorization",
    }
    assert homelab.dependency_names("mesh-localstack-unenrol") >= {
        "mesh-localstack-namespace",
        "mesh-localstack-l4-authorization",
        "mesh-localstack-ambient-network-policy",
    }


def test_unenrol_command_removes_the_labels_on_delete(homelab: Evaluation) -> None:
    unenrol = homelab.named("mesh-localstack-unenrol")
    assert unenrol.type == "command:local:Command"
    assert unenrol.inputs["delete"] == script("unenrol-namespace.sh")
    assert "create" not in unenrol.inputs
    assert unenrol.inputs["environment"] == {"NAMESPACE": "localstack", "KUBE_CONTEXT": "homelab"}
    assert "mesh-localstack-namespace" in homelab.dependency_names("mesh-localstack-unenrol")
    assert "rollout restart" not in unenrol.inputs["delete"]


def test_removing_a_namespace_from_the_stack_removes_its_resources(run: Evaluate, homelab: Evaluation) -> None:
    evaluation = run(
        {
            "meshedNamespaces": ["demo-apps", "tekton-builds"],
            "namespaceOptions": {"tekton-builds": {"allowFrom": ["demo-apps"]}},
        }
    )
    gone = set(homelab.names()) - set(evaluation.names())
    assert {
        "mesh-localstack-namespace",
        "mesh-localstack-unenrol",
        "mesh-localstack",
        "mesh-localstack-ambient-network-policy",
    } <= gone
    assert evaluation.outputs["meshedNamespaces"] == ["demo-apps", "tekton-builds"]


def _rules(policy: dict[str, Any], direction: str) -> list[dict[str, Any]]:
    return policy["spec"][direction]


def test_open_namespaces_get_no_network_policy(homelab: Evaluation) -> None:
    policies = [r.name for r in homelab.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")]
    assert policies == ["mesh-localstack-ambient-network-policy"]


def test_restricted_namespace_policy_is_correct_for_ambient(homelab: Evaluation) -> None:
    policy = homelab.named("mesh-localstack-ambient-network-policy").inputs
    assert policy["metadata"]["namespace"] == "localstack"
    spec = policy["spec"]
    assert spec["podSelector"] == {}
    assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"]
    ambient_peers = [{"namespaceSelector": {"matchLabels": {"istio.io/dataplane-mode": "ambient"}}}]
    hbone = [{"protocol": "TCP", "port": 15008}]
    assert {"from": ambient_peers, "ports": hbone} in spec["ingress"]
    assert {"from": [{"ipBlock": {"cidr": "169.254.7.127/32"}}]} in spec["ingress"]
    assert {"to": ambient_peers, "ports": hbone} in spec["egress"]
    dns = next(rule for rule in spec["egress"] if {"protocol": "UDP", "port": 53} in rule["ports"])
    assert {"protocol": "TCP", "port": 53} in dns["ports"]
    assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    istio_system = next(
        rule
        for rule in spec["egress"]
        if rule["to"][0].get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
        == "istio-system"
    )
    assert sorted(port["port"] for port in istio_system["ports"]) == [15008, 15012, 15017]


def _l4_sources(evaluation: Evaluation, namespace: str) -> list[dict[str, Any]]:
    policy = evaluation.named(f"mesh-{namespace}-l4-authorization").inputs
    assert policy["spec"]["action"] == "ALLOW"
    return [source["source"] for rule in policy["spec"]["rules"] for source in rule["from"]]


def test_routed_namespace_admits_itself_and_the_ingress_gateway(homelab: Evaluation) -> None:
    sources = _l4_sources(homelab, "demo-apps")
    assert {"namespaces": ["demo-apps"]} in sources
    assert {"principals": [GATEWAY_PRINCIPAL]} in sources


def test_peer_namespaces_are_admitted_but_the_gateway_is_not_without_routes(homelab: Evaluation) -> None:
    sources = _l4_sources(homelab, "tekton-builds")
    assert sources == [{"namespaces": ["tekton-builds", "demo-apps"]}]


def test_default_deny_off_opens_the_namespace(run: Evaluate) -> None:
    evaluation = run({"namespaceOptions": {"localstack": {"defaultDeny": False}}})
    assert "mesh-localstack-l4-authorization" not in evaluation.names()
    assert "mesh-demo-apps-l4-authorization" in evaluation.names()


def test_waypoint_takes_l7_rules_and_ztunnel_keeps_l4(run: Evaluate) -> None:
    evaluation = run(
        {
            "namespaceOptions": {
                "demo-apps": {
                    "waypoint": True,
                    "rules": [
                        {"from": ["tekton-builds"], "methods": ["GET"], "paths": ["/api/*"]},
                        {"from": ["localstack"], "ports": [8080]},
                    ],
                }
            }
        }
    )
    waypoint = evaluation.named("mesh-demo-apps-waypoint").inputs
    assert waypoint["spec"]["gatewayClassName"] == "istio-waypoint"
    assert waypoint["spec"]["listeners"] == [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]
    assert waypoint["metadata"]["name"] == "waypoint"
    # The namespace switches to the waypoint by a patch applied once the waypoint is Programmed, so that
    # removing the waypoint drops the label first.
    assert "istio.io/use-waypoint" not in evaluation.named("mesh-demo-apps-namespace").inputs["metadata"]["labels"]
    use_waypoint = evaluation.named("mesh-demo-apps-use-waypoint")
    assert use_waypoint.type == "kubernetes:core/v1:NamespacePatch"
    assert use_waypoint.inputs["kind"] == "Namespace"
    assert use_waypoint.inputs["metadata"] == {"name": "demo-apps", "labels": {"istio.io/use-waypoint": "waypoint"}}
    assert must_precede(evaluation, "mesh-demo-apps-waypoint", "mesh-demo-apps-use-waypoint")
    assert must_precede(evaluation, "mesh-demo-apps-waypoint-authorization", "mesh-demo-apps-use-waypoint")

    l7 = evaluation.named("mesh-demo-apps-waypoint-authorization").inputs["spec"]
    assert l7["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "waypoint"}]
    assert {
        "from": [{"source": {"namespaces": ["tekton-builds"]}}],
        "to": [{"operation": {"methods": ["GET"], "paths": ["/api/*"]}}],
    } in l7["rules"]

    l4_rules = evaluation.named("mesh-demo-apps-l4-authorization").inputs["spec"]["rules"]
    assert not any("methods" in str(rule) or "paths" in str(rule) for rule in l4_rules)
    assert {
        "from": [{"source": {"namespaces": ["localstack"]}}],
        "to": [{"operation": {"ports": ["8080"]}}],
    } in l4_rules
    assert "mesh-demo-apps-waypoint" in evaluation.dependency_names("mesh-demo-apps-waypoint-authorization")


def test_namespace_mtls_override(run: Evaluate) -> None:
    evaluation = run(
        {
            "namespaceOptions": {
                "localstack": {"mtls": "PERMISSIVE", "networkPolicy": "restricted", "defaultDeny": False}
            }
        }
    )
    peer = evaluation.named("mesh-localstack-peer-authentication").inputs
    assert peer["metadata"] == {"name": "default", "namespace": "localstack"}
    assert peer["spec"] == {"mtls": {"mode": "PERMISSIVE"}}
    overrides = {r for r in evaluation.names() if r.endswith("-peer-authentication")} - {
        "istio-mesh-peer-authentication"
    }
    assert overrides == {"mesh-localstack-peer-authentication"}


# --- plaintext clients: PERMISSIVE needs an ipBlocks source where defaultDeny holds ---------------------------------

LAN = "192.168.1.0/24"


def test_permissive_with_an_ip_block_admits_that_source_in_the_ztunnel_policy(run: Evaluate) -> None:
    evaluation = run(
        {
            "namespaceOptions": {
                "localstack": {"mtls": "PERMISSIVE", "allowFrom": ["demo-apps", {"ipBlocks": [LAN, "10.0.0.7"]}]}
            }
        }
    )

    assert evaluation.named("mesh-localstack-peer-authentication").inputs["spec"] == {"mtls": {"mode": "PERMISSIVE"}}
    policy = evaluation.named("mesh-localstack-l4-authorization").inputs
    assert policy["spec"]["action"] == "ALLOW"
    sources = policy["spec"]["rules"][0]["from"]
    # ipBlocks, not remoteIpBlocks: the field ztunnel enforces at L4.
    assert {"source": {"ipBlocks": [LAN, "10.0.0.7/32"]}} in sources
    assert {"source": {"namespaces": ["localstack", "demo-apps"]}} in sources
    assert not any("remoteIpBlocks" in entry["source"] for entry in sources)


def test_a_mesh_wide_permissive_mode_is_fine_where_each_namespace_says_how_plaintext_gets_in(run: Evaluate) -> None:
    evaluation = run(
        {
            "mtlsMode": "PERMISSIVE",
            "namespaceOptions": {
                "demo-apps": {"allowFrom": [{"ipBlocks": [LAN]}]},
                "tekton-builds": {"mtls": "STRICT"},
                "localstack": {"defaultDeny": False},
            },
        }
    )

    assert evaluation.named("istio-mesh-peer-authentication").inputs["spec"] == {"mtls": {"mode": "PERMISSIVE"}}
    assert "mesh-localstack-l4-authorization" not in evaluation.names()


@pytest.mark.parametrize(
    ("overrides", "key", "says"),
    [
        (
            {"namespaceOptions": {"localstack": {"mtls": "PERMISSIVE"}}},
            "namespaceOptions.localstack.mtls",
            'add the clients\' addresses to allowFrom, e.g. {"ipBlocks": ["192.168.1.0/24"]}',
        ),
        (
            {"mtlsMode": "PERMISSIVE", "namespaceOptions": {"localstack": {"defaultDeny": False}}},
            "mtlsMode",
            "demo-apps, tekton-builds still deny every plaintext client",
        ),
        (
            {"namespaceOptions": {"localstack": {"allowFrom": [{"ipBlocks": [LAN]}]}}},
            "namespaceOptions.localstack.allowFrom[0]",
            "the namespace's mTLS mode is STRICT, which refuses them first",
        ),
        (
            {
                "namespaceOptions": {
                    "localstack": {"mtls": "PERMISSIVE", "allowFrom": [{"ipBlocks": ["192.168.1.300/24"]}]}
                }
            },
            "namespaceOptions.localstack.allowFrom[0]",
            '"192.168.1.300/24" is not a CIDR block such as 192.168.1.0/24',
        ),
        (
            {
                "namespaceOptions": {
                    "localstack": {"mtls": "PERMISSIVE", "allowFrom": [{"ipBlocks": ["192.168.1.1/24"]}]}
                }
            },
            "namespaceOptions.localstack.allowFrom[0]",
            "has host bits set",
        ),
        (
            {"namespaceOptions": {"localstack": {"mtls": "PERMISSIVE", "allowFrom": [{"cidrs": [LAN]}]}}},
            "namespaceOptions.localstack.allowFrom[0]",
            "is neither a meshed namespace nor a plaintext source",
        ),
    ],
    ids=["namespace-permissive", "mesh-permissive", "ip-block-under-strict", "bad-cidr", "host-bits", "unknown-key"],
)
def test_plaintext_sources_are_checked(
    config_error: Callable[..., ConfigError], overrides: dict[str, Any], key: str, says: str
) -> None:
    error = str(config_error(overrides))

    assert f"homelab-mesh:{key}: " in error
    assert says in error


# --- routed traffic through the waypoint (ingressUseWaypoint) -------------------------------------------------------

GATEWAY_PRINCIPAL = "cluster.local/ns/istio-gateway/sa/ingress-istio"


def test_ingress_use_waypoint_labels_the_namespace_and_admits_the_gateway_at_the_waypoint(run: Evaluate) -> None:
    evaluation = run({"namespaceOptions": {"demo-apps": {"waypoint": True, "ingressUseWaypoint": True}}})

    patch = evaluation.named("mesh-demo-apps-use-waypoint").inputs
    assert patch["metadata"]["labels"] == {"istio.io/use-waypoint": "waypoint", "istio.io/ingress-use-waypoint": "true"}
    waypoint_sources = evaluation.named("mesh-demo-apps-waypoint-authorization").inputs["spec"]["rules"][0]["from"]
    assert {"source": {"principals": [GATEWAY_PRINCIPAL]}} in waypoint_sources
    # The label goes on only once the policy that admits the gateway is in place.
    assert must_precede(evaluation, "mesh-demo-apps-waypoint-authorization", "mesh-demo-apps-use-waypoint")


def test_without_ingress_use_waypoint_routed_traffic_skips_the_waypoint_and_its_policy_admits_no_gateway(
    run: Evaluate,
) -> None:
    evaluation = run({"namespaceOptions": {"demo-apps": {"waypoint": True}}})

    assert (
        "istio.io/ingress-use-waypoint"
        not in evaluation.named("mesh-demo-apps-use-waypoint").inputs["metadata"]["labels"]
    )
    waypoint_sources = evaluation.named("mesh-demo-apps-waypoint-authorization").inputs["spec"]["rules"][0]["from"]
    assert not any("principals" in entry["source"] for entry in waypoint_sources)


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"demo-apps": {"ingressUseWaypoint": True}}, "but it has none; set waypoint: true"),
        ({"localstack": {"waypoint": True, "ingressUseWaypoint": True}}, "no route leads to the namespace"),
    ],
    ids=["no-waypoint", "not-routed"],
)
def test_ingress_use_waypoint_needs_a_waypoint_and_a_route(
    config_error: Callable[..., ConfigError], options: dict[str, Any], says: str
) -> None:
    (name,) = options
    error = str(config_error({"namespaceOptions": options}))

    assert f"homelab-mesh:namespaceOptions.{name}.ingressUseWaypoint: " in error
    assert says in error


def test_services_switch_to_the_waypoint_only_once_it_is_programmed(run: Evaluate) -> None:
    """pulumi-kubernetes waits for the annotation's condition before the waypoint counts as created, so the
    use-waypoint label (which depends on it) never points Services at a waypoint that cannot serve yet."""
    dev = run(stack="dev")
    waypoint = dev.named("mesh-sandbox-waypoint")
    assert waypoint.inputs["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Programmed"}
    assert waypoint.urn in dev.named("mesh-sandbox-use-waypoint").dependencies
