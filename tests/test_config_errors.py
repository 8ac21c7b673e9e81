"""Config mistakes a newcomer makes, and the hardening of raw input: each refused with one clear message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import homelab_mesh.settings as settings_package
import pytest
from homelab_mesh.settings import ConfigError

from tools.mock_engine import evaluate

ConfigErrorOf = Callable[..., ConfigError]
ROOT = Path(__file__).resolve().parent.parent
LAN_POOL: dict[str, Any] = {"name": "homelab-lan", "addresses": ["192.168.1.240-192.168.1.250"]}


def only_problem(error: ConfigError) -> str:
    assert len(error.problems) == 1, error.problems
    return error.problems[0]


# --- keys under a misspelt project prefix ----------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["homelab_mesh", "homelabmesh", "Homelab-Mesh", "homelab-mash"])
def test_a_misspelt_project_prefix_is_refused_with_the_right_key(config_error: ConfigErrorOf, prefix: str) -> None:
    error = config_error(overrides={f"{prefix}:kubeContext": "homelab"})

    assert only_problem(error) == (
        f"{prefix}:kubeContext: {prefix!r} is not this project's name, so the key is ignored "
        "(did you mean homelab-mesh:kubeContext?)"
    )


@pytest.mark.parametrize("key", ["pulumi:disable-default-providers", "command:x", "tls:x"])
def test_other_packages_config_is_left_alone(run: Callable[..., Any], key: str) -> None:
    assert run(overrides={key: "x"}).registrations


# --- unknown keys at any depth -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "key", "hint"),
    [
        (
            {"namespaceOptions": {"localstack": {"networkPolicy": "restricted", "alowFrom": []}}},
            "namespaceOptions.localstack.alowFrom",
            "(did you mean allowFrom?)",
        ),
        (
            {"namespaceOptions": {"localstack": {"rules": [{"from": ["demo-apps"], "method": ["GET"]}]}}},
            "namespaceOptions.localstack.rules[0].method",
            "(did you mean methods?)",
        ),
        (
            {"addressPools": [{**LAN_POOL, "autoassign": False}]},
            "addressPools[0].autoassign",
            "(did you mean autoAssign?)",
        ),
        (
            {"resources": {"istiod": {"requests": {"memory": "64Mi", "cpus": "10m"}}}},
            "resources.istiod.requests.cpus",
            "(did you mean cpu?)",
        ),
    ],
    ids=["namespace-option", "rule-field", "pool-field", "quantity-field"],
)
def test_unknown_nested_keys_are_refused_with_a_guess(
    config_error: ConfigErrorOf, overrides: dict[str, Any], key: str, hint: str
) -> None:
    error = config_error(overrides=overrides)

    assert only_problem(error) == f"homelab-mesh:{key}: is not a known setting {hint}"


# --- no misleading follow-on errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"meshedNamespaces": "demo-apps"}, "meshedNamespaces"),
        ({"meshedNamespaces": ["demo-apps", "tekton-builds", "Localstack"]}, "meshedNamespaces[2]"),
        ({"gatewayHostnames": ["demo-app1.local", "Harbor.local"]}, "gatewayHostnames[1]"),
        ({"gatewayHostnames": "demo-app1.local"}, "gatewayHostnames"),
        ({"externalNamespaces": ["Harbor"]}, "externalNamespaces[0]"),
        ({"addressPools": [{"name": "homelab-lan", "addresses": ["192.168.1.240-192.168.1.2500"]}]}, "addressPools"),
    ],
    ids=["meshed-not-a-list", "meshed-bad-item", "hostname-bad-item", "hostnames-not-a-list", "external-bad", "pool"],
)
def test_a_first_error_causes_no_follow_on_errors(
    config_error: ConfigErrorOf, overrides: dict[str, Any], key: str
) -> None:
    """Options, peers and routes that refer to an entry that could not be read are not reported again."""
    error = config_error(overrides=overrides)

    assert len(error.problems) == 1, error.problems
    assert error.problems[0].startswith(f"homelab-mesh:{key}")


# --- the stack file itself ------------------------------------------------------------------------------------


def test_the_program_refuses_its_own_broken_stack_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The program checks the stack file beside it, where the CLI reads it (here: a project root in tmp)."""
    monkeypatch.setattr(settings_package, "PROJECT_ROOT", tmp_path)
    stack_file = tmp_path / "Pulumi.broken.yaml"
    stack_file.write_text("config:\n  homelab-mesh:platform: k3s\n  homelab-mesh:platform: k3d\n")

    with pytest.raises(ConfigError) as caught:
        evaluate("broken", stack_file=stack_file)

    assert only_problem(caught.value) == f"{stack_file}:3:3: duplicate key 'homelab-mesh:platform' (first at line 2)"


# --- hardening of raw values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["9" * 5000, "1" * 10, "1e3", "٣٠٠", " ", "0x10"],
    ids=["5000-digits", "10-digits", "exp", "arabic", "blank", "hex"],
)
def test_integers_are_bounded_before_conversion(config_error: ConfigErrorOf, value: str) -> None:
    error = config_error(overrides={"verifyTimeoutSeconds": value})

    problem = only_problem(error)
    assert problem.startswith("homelab-mesh:verifyTimeoutSeconds: must be a whole number from 30 to 3600, got ")
    assert len(problem) < 200


@pytest.mark.parametrize("value", ["30", "3600"])
def test_both_ends_of_an_integer_range_are_accepted(run: Callable[..., Any], value: str) -> None:
    verify = run(overrides={"verifyTimeoutSeconds": value}).named("verify-mesh")
    assert verify.inputs["environment"]["TIMEOUT_SECONDS"] == value


@pytest.mark.parametrize("context", ["-n kube-system", "home lab", "ctx\n", "a;rm -rf /", "x" * 254, "$(id)"])
def test_kube_context_must_be_a_context_name(config_error: ConfigErrorOf, context: str) -> None:
    error = config_error(overrides={"kubeContext": context + "!" if context.endswith("\n") else context})

    assert only_problem(error).startswith("homelab-mesh:kubeContext: is not a kubeconfig context name")


@pytest.mark.parametrize("context", ["homelab", "k3d-homelab-dev", "admin@k3s", "arn:aws:eks:eu-west-1:1:cluster/x"])
def test_real_context_names_are_accepted(run: Callable[..., Any], context: str) -> None:
    provider = run(overrides={"kubeContext": context}).of_type("pulumi:providers:kubernetes")[0]
    assert provider.inputs["context"] == context


@pytest.mark.parametrize(
    ("address", "what"),
    [
        ("0.0.0.0/0", "'this network' addresses (0.0.0.0/8)"),
        ("::/0", "the unspecified address (::/128)"),
        ("127.0.0.1-127.0.0.9", "loopback addresses (127.0.0.0/8)"),
        ("::1/128", "loopback addresses (::1/128)"),
        ("169.254.1.0/24", "link-local addresses (169.254.0.0/16)"),
        ("fe80::1-fe80::9", "link-local addresses (fe80::/10)"),
        ("224.0.0.250-224.0.0.252", "multicast addresses (224.0.0.0/4)"),
        ("ff02::1/128", "multicast addresses (ff00::/8)"),
        ("240.0.0.1-255.255.255.255", "the broadcast address (255.255.255.255/32)"),
        ("126.255.255.250-128.0.0.1", "loopback addresses (127.0.0.0/8)"),
    ],
)
def test_pools_never_include_special_addresses(config_error: ConfigErrorOf, address: str, what: str) -> None:
    error = config_error(overrides={"addressPools": [{"name": "bad", "addresses": [address]}], "gatewayAddress": ""})

    assert only_problem(error) == (
        f'homelab-mesh:addressPools[0].addresses[0]: "{address}" includes {what}; give a range of LAN addresses'
    )


@pytest.mark.parametrize("address", ["169.253.255.255/32", "126.255.255.255/32", "223.255.255.255/32", "fe7f::1/128"])
def test_addresses_just_outside_special_ranges_are_accepted(run: Callable[..., Any], address: str) -> None:
    pools = run(overrides={"addressPools": [{"name": "edge", "addresses": [address]}], "gatewayAddress": ""})
    assert pools.named("lan-load-balancer-address-pool-edge").inputs["spec"]["addresses"] == [address]


@pytest.mark.parametrize("namespace", ["kube-system", "istio-system", "metallb-system"])
def test_routes_into_the_mesh_machinery_are_refused(config_error: ConfigErrorOf, namespace: str) -> None:
    route = {"hostname": "demo-app1.local", "namespace": namespace, "rules": [{"service": "x", "port": 80}]}
    error = config_error(overrides={"routes": [route]})

    assert only_problem(error).startswith(f'homelab-mesh:routes[0].namespace: "{namespace}" runs the cluster')


def test_a_route_into_an_undeclared_namespace_is_refused(config_error: ConfigErrorOf) -> None:
    error = config_error(overrides={"externalNamespaces": None})

    assert only_problem(error) == (
        'homelab-mesh:routes[1].namespace: the route for harbor.local goes to namespace "harbor", which is '
        "neither in meshedNamespaces nor in externalNamespaces (namespaces that already exist outside this program)"
    )


@pytest.mark.parametrize(
    ("external", "key", "reason"),
    [
        (["harbor", "harbor"], "externalNamespaces[1]", "already listed at externalNamespaces[0]"),
        (["harbor", "demo-apps"], "externalNamespaces[1]", "is in meshedNamespaces"),
        (["harbor", "kube-system"], "externalNamespaces[1]", "runs the cluster's or the mesh's own components"),
    ],
)
def test_external_namespaces_are_checked(
    config_error: ConfigErrorOf, external: list[str], key: str, reason: str
) -> None:
    error = config_error(overrides={"externalNamespaces": external})

    assert only_problem(error).startswith(f"homelab-mesh:{key}: ")
    assert reason in only_problem(error)


def test_an_external_namespace_gets_no_mesh_resources() -> None:
    evaluation = evaluate("homelab")
    harbor = [r.name for r in evaluation.registrations.values() if r.name in ("mesh-harbor", "harbor-unenrol")]
    route = evaluation.named("routes-harbor-local")

    assert harbor == []
    assert route.inputs["metadata"]["namespace"] == "harbor"
