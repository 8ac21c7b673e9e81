"""deploy/preview-rbac.yaml: the pull-request preview's identity reads what the program manages, writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.mock_engine import Evaluation, evaluate

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "deploy" / "preview-rbac.yaml"
SERVICE_ACCOUNT = {"kind": "ServiceAccount", "name": "pulumi-preview", "namespace": "pulumi-preview"}
READ_VERBS = {"get", "list", "watch"}
# Read rights of the built-in `view` ClusterRole that the program's kinds rely on (Kubernetes RBAC docs,
# "User-facing roles": view reads most namespaced objects, but not Secrets, Roles or RoleBindings).
# What the built-in `view` ClusterRole reads among the kinds the program registers (Kubernetes RBAC docs,
# "User-facing roles": view covers most namespaced objects, not Secrets, RBAC or cluster-scoped kinds).
VIEW_READS = {
    ("", "namespaces"),
    ("", "configmaps"),
    ("", "services"),
    ("", "serviceaccounts"),
    ("apps", "deployments"),
    ("networking.k8s.io", "networkpolicies"),
}
# Types that are not one Kubernetes object of their own kind: the provider, Helm releases (their record is a
# Secret, see below) and the remote ConfigFile component (its children are CRDs).
NOT_OBJECTS = {"pulumi:providers:kubernetes", "kubernetes:helm.sh/v3:Release", "kubernetes:yaml/v2:ConfigFile"}

Document = dict[str, Any]


def documents() -> list[Document]:
    return [document for document in yaml.safe_load_all(MANIFEST.read_text()) if document]


def of_kind(kind: str) -> list[Document]:
    return [document for document in documents() if document["kind"] == kind]


def role(name: str) -> Document:
    [found] = [document for document in of_kind("ClusterRole") if document["metadata"]["name"] == name]
    return found


def rules_of_bound_roles(binding_kind: str) -> list[dict[str, Any]]:
    return [rule for binding in of_kind(binding_kind) for rule in role_rules(binding["roleRef"]["name"])]


def role_rules(name: str) -> list[dict[str, Any]]:
    return [] if name == "view" else role(name)["rules"]


def kubernetes_object(type_token: str) -> tuple[str, str]:
    """`kubernetes:security.istio.io/v1:AuthorizationPolicy` -> ("security.istio.io", "authorizationpolicies")."""
    _, group_version, kind = type_token.split(":")
    group = "" if group_version.startswith("core/") else group_version.rsplit("/", 1)[0]
    kind = kind.removesuffix("Patch").lower()
    consonant_y = kind.endswith("y") and kind[-2] not in "aeiou"
    if consonant_y:
        return group, kind[:-1] + "ies"
    return group, kind + ("es" if kind.endswith("s") else "s")


@pytest.fixture(scope="module")
def stacks(homelab: Evaluation) -> list[Evaluation]:
    everything = {"tlsMode": "cert-manager", "monitoring": True, "gatewayReplicas": 2, "demoApp": True}
    return [homelab, evaluate("dev"), evaluate("homelab", overrides=everything)]


def test_the_manifest_holds_one_identity_and_its_bindings() -> None:
    kinds = sorted(document["kind"] for document in documents())
    identity = ["Namespace", "ServiceAccount", "Secret"]
    rbac = ["ClusterRole", "ClusterRole", "ClusterRoleBinding", "ClusterRoleBinding", *["RoleBinding"] * 3]
    assert kinds == sorted(identity + rbac)
    [account] = of_kind("ServiceAccount")
    assert {"kind": "ServiceAccount", **account["metadata"]} == SERVICE_ACCOUNT
    [token] = of_kind("Secret")
    assert token["type"] == "kubernetes.io/service-account-token"
    assert token["metadata"]["annotations"]["kubernetes.io/service-account.name"] == SERVICE_ACCOUNT["name"]
    for binding in of_kind("ClusterRoleBinding") + of_kind("RoleBinding"):
        assert binding["subjects"] == [SERVICE_ACCOUNT], binding["metadata"]["name"]


def test_the_built_in_view_role_is_bound_cluster_wide() -> None:
    refs = [binding["roleRef"] for binding in of_kind("ClusterRoleBinding")]
    assert {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"} in refs


def test_no_wildcards_and_no_verb_but_reading() -> None:
    for cluster_role in of_kind("ClusterRole"):
        for rule in cluster_role["rules"]:
            for field in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
                assert "*" not in rule.get(field, []), f"{cluster_role['metadata']['name']}: {field} has *"
            assert set(rule["verbs"]) <= READ_VERBS, f"{cluster_role['metadata']['name']}: {rule['verbs']}"


def test_secrets_are_readable_only_where_helm_keeps_its_release_records(stacks: list[Evaluation]) -> None:
    assert not any("secrets" in rule["resources"] for rule in rules_of_bound_roles("ClusterRoleBinding"))
    secret_bindings = [
        binding
        for binding in of_kind("RoleBinding")
        if any("secrets" in rule["resources"] for rule in role_rules(binding["roleRef"]["name"]))
    ]
    for binding in secret_bindings:
        assert all(set(rule["verbs"]) <= {"get", "list"} for rule in role_rules(binding["roleRef"]["name"]))
    readable = {binding["metadata"]["namespace"] for binding in secret_bindings}
    release_namespaces = {
        release.inputs["namespace"] for stack in stacks for release in stack.of_type("kubernetes:helm.sh/v3:Release")
    }
    tls_namespaces = {
        secret.inputs["metadata"]["namespace"]
        for stack in stacks
        for secret in stack.of_type("kubernetes:core/v1:Secret")
        if secret.inputs.get("type") == "kubernetes.io/tls"
    }
    assert readable == release_namespaces == {"istio-system", "metallb-system", "cert-manager"}
    assert tls_namespaces and not tls_namespaces & readable, "the gateway's TLS keys stay unreadable"


def test_every_kind_the_program_manages_is_readable(stacks: list[Evaluation]) -> None:
    readable = set(VIEW_READS)
    for rule in rules_of_bound_roles("ClusterRoleBinding"):
        if {"get", "list"} <= set(rule["verbs"]):
            readable |= {(group, resource) for group in rule["apiGroups"] for resource in rule["resources"]}
    managed = {
        kubernetes_object(registration.type)
        for stack in stacks
        for registration in stack.registrations.values()
        if registration.type.startswith("kubernetes:") and registration.type not in NOT_OBJECTS
    }
    managed.discard(("", "secrets"))  # covered above, by namespace
    managed.add(("apiextensions.k8s.io", "customresourcedefinitions"))  # the Gateway API CRDs (ConfigFile)
    assert ("security.istio.io", "authorizationpolicies") in managed
    assert managed - readable == set()


def test_the_object_names_of_type_tokens() -> None:
    assert kubernetes_object("kubernetes:core/v1:NamespacePatch") == ("", "namespaces")
    assert kubernetes_object("kubernetes:gateway.networking.k8s.io/v1:Gateway") == (
        "gateway.networking.k8s.io",
        "gateways",
    )
    assert kubernetes_object("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute") == (
        "gateway.networking.k8s.io",
        "httproutes",
    )
    assert kubernetes_object("kubernetes:security.istio.io/v1:AuthorizationPolicy") == (
        "security.istio.io",
        "authorizationpolicies",
    )
