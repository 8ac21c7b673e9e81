"""scripts/check-upgrade.sh, the guard's live check at `pulumi up`, run by bash against stub kubectl/istioctl."""

from __future__ import annotations

from pathlib import Path

import pytest
from homelab_mesh.upgrade import Order, Pair, live_check_environment

from tests.stubs import SHELLS, Reply, Stubs

SCRIPT = "check-upgrade.sh"
CRD_QUERY = "get crd gateways.gateway.networking.k8s.io"
ISTIOD_QUERY = "-n istio-system get deployment istiod"
NOT_FOUND_ISTIOD = 'Error from server (NotFound): deployments.apps "istiod" not found'
NOT_FOUND_CRD = 'Error from server (NotFound): customresourcedefinitions "gateways.gateway.networking.k8s.io" not found'


def server(version: str) -> Reply:
    return Reply("get --raw /version", f'{{\n  "major": "1",\n  "gitVersion": "{version}",\n  "platform": "linux"\n}}')


def istiod(version: str) -> Reply:
    return Reply(ISTIOD_QUERY, f"docker.io/istio/pilot:{version}-distroless")


def crds(bundle: str, managed_by: str = "", helm_release: str = "") -> Reply:
    return Reply(CRD_QUERY, f"{bundle}|{managed_by}|{helm_release}")


def target(
    istio: tuple[int, int, int],
    gateway_api: tuple[int, int, int],
    expected: str,
    mode: str = "managed",
    step_order: Order = Order.ISTIOD_FIRST,
) -> dict:
    """The environment the program gives the script for this target and order (from the same table)."""
    return {
        "ISTIO_VERSION": ".".join(map(str, istio)),
        "GATEWAY_API_VERSION": "v" + ".".join(map(str, gateway_api)),
        "GATEWAY_API_CRDS": mode,
        "EXPECTED_GATEWAY_API_VERSIONS": expected,
        "KUBE_CONTEXT": "homelab",
        **live_check_environment(Pair(istio, gateway_api), step_order),
    }


# The homelab's last step: 1.30.5 with v1.5.1 -> 1.31.1 with v1.6.1 (CRDs after istiod).
TO_1_31 = target((1, 31, 1), (1, 6, 1), "v1.5.1 v1.6.1")
PRECHECK_OK = Reply("x precheck", "No issues found when checking the cluster.\n")


def test_passes_for_the_homelab_step_and_runs_istioctl_precheck(stubs: Stubs) -> None:
    stubs.add("kubectl", server("v1.33.4+k3s1"), istiod("1.30.5"), crds("v1.5.1"))
    stubs.add("istioctl", PRECHECK_OK)

    result = stubs.run(SCRIPT, **TO_1_31)

    assert result.status == 0, result.stderr
    assert "upgrade check passed: Kubernetes 1.33, istiod 1.30 -> 1.31.1, Gateway API CRDs v1.5.1 -> v1.6.1" in (
        result.stdout
    )
    assert result.calls["istioctl"] == ["--context=homelab x precheck"]
    assert all(call.startswith("--context homelab ") for call in result.calls["kubectl"])


def test_a_fresh_cluster_passes_without_istioctl(stubs: Stubs) -> None:
    stubs.add(
        "kubectl",
        server("v1.34.1"),
        Reply(ISTIOD_QUERY, stderr=NOT_FOUND_ISTIOD, status=1),
        Reply(CRD_QUERY, stderr=NOT_FOUND_CRD, status=1),
    )

    result = stubs.run(SCRIPT, **TO_1_31)

    assert result.status == 0, result.stderr
    assert "istiod none -> 1.31.1, Gateway API CRDs none -> v1.6.1" in result.stdout


@pytest.mark.parametrize(
    ("kubernetes", "allowed"),
    [("v1.31.9", False), ("v1.32.0", True), ("v1.36.2", True), ("v1.37.0", False)],
    ids=["below", "lowest", "highest", "above"],
)
def test_kubernetes_must_be_in_the_target_minors_range(stubs: Stubs, kubernetes: str, allowed: bool) -> None:
    stubs.add("kubectl", server(kubernetes), istiod("1.30.5"), crds("v1.5.1"))

    result = stubs.run(SCRIPT, **TO_1_31)

    assert (result.status == 0) is allowed, result.stderr
    if not allowed:
        assert f"the cluster runs Kubernetes {kubernetes}; Istio 1.31 supports 1.32 to 1.36" in result.stderr


def test_refuses_when_the_running_istiod_is_more_than_one_minor_away(stubs: Stubs) -> None:
    stubs.add("kubectl", server("v1.33.0"), istiod("1.29.9"), crds("v1.4.1"))

    result = stubs.run(SCRIPT, **TO_1_31)

    assert result.status != 0
    assert "runs istiod 1.29.9-distroless and istioVersion is 1.31.1: move one Istio minor" in result.stderr


def test_managed_refuses_crds_another_helm_release_installed(stubs: Stubs) -> None:
    stubs.add("kubectl", server("v1.33.0"), istiod("1.30.5"), crds("v1.5.1", "Helm", "traefik-crds"))

    result = stubs.run(SCRIPT, **TO_1_31)

    assert result.status != 0
    assert "belong to Helm release 'traefik-crds'" in result.stderr
    assert "Set gatewayApiCrds: external" in result.stderr


def test_managed_refuses_a_bundle_this_stack_did_not_install(stubs: Stubs) -> None:
    stubs.add("kubectl", server("v1.33.0"), istiod("1.30.5"), crds("v1.5.0"))

    result = stubs.run(SCRIPT, **TO_1_31)

    assert result.status != 0
    assert "are v1.5.0, which this stack did not install (expected v1.5.1 v1.6.1)" in result.stderr


def test_a_rollback_is_refused_once_the_crds_have_moved(stubs: Stubs) -> None:
    stubs.add("kubectl", server("v1.33.0"), istiod("1.31.1"), crds("v1.6.1"))

    # The record accepted the rollback: this step leaves 1.31.1, the version the stack deployed.
    rollback = {**target((1, 30, 5), (1, 5, 1), "v1.5.1 v1.6.1"), "STEPPED_FROM_ISTIO_VERSION": "1.31.1"}
    result = stubs.run(SCRIPT, **rollback)

    assert result.status != 0
    assert "newer than gatewayApiVersion v1.5.1; CRDs are never downgraded" in result.stderr


def test_a_rollback_before_the_crds_moved_passes(stubs: Stubs) -> None:
    stubs.add("kubectl", server("v1.33.0"), istiod("1.31.1"), crds("v1.5.1"))

    # The record accepted the rollback: this step leaves 1.31.1, the version the stack deployed.
    rollback = {**target((1, 30, 5), (1, 5, 1), "v1.5.1 v1.6.1"), "STEPPED_FROM_ISTIO_VERSION": "1.31.1"}
    result = stubs.run(SCRIPT, **rollback)

    assert result.status == 0, result.stderr


def test_crds_first_refuses_an_istiod_that_cannot_run_them(stubs: Stubs) -> None:
    stubs.add("kubectl", server("v1.33.0"), istiod("1.29.1"), crds("v1.4.1"))
    environment = target((1, 30, 5), (1, 5, 1), "v1.4.1 v1.5.1", step_order=Order.CRDS_FIRST)

    result = stubs.run(SCRIPT, **environment)

    assert result.status != 0
    assert (
        "the running istiod 1.29.1-distroless cannot run them (Istio releases that can, from: "
        "1.28.6 1.29.2 1.30.0 1.31.0)"
    ) in result.stderr


@pytest.mark.parametrize("running", ["1.29.2", "1.29.9"])
def test_crds_first_passes_from_the_patch_that_runs_them(stubs: Stubs, running: str) -> None:
    # The homelab's step 2: istiod 1.29.9 runs v1.5.1, so the CRDs change before istiod 1.30.5 starts.
    stubs.add("kubectl", server("v1.33.0"), istiod(running), crds("v1.4.1"))
    environment = target((1, 30, 5), (1, 5, 1), "v1.4.1 v1.5.1", step_order=Order.CRDS_FIRST)

    result = stubs.run(SCRIPT, **environment)

    assert result.status == 0, result.stderr


def test_a_first_install_on_a_cluster_that_runs_an_old_istiod_is_refused(stubs: Stubs) -> None:
    # Nothing recorded puts the CRDs first; an istiod installed by other means must run them.
    stubs.add("kubectl", server("v1.33.0"), istiod("1.30.5"), Reply(CRD_QUERY, stderr=NOT_FOUND_CRD, status=1))

    result = stubs.run(SCRIPT, **target((1, 31, 1), (1, 6, 1), "v1.6.1", step_order=Order.FIRST_INSTALL))

    assert result.status != 0
    assert "cannot run them (Istio releases that can, from: 1.31.0)" in result.stderr


@pytest.mark.parametrize(
    ("installed", "allowed", "says"),
    [
        (crds("v1.6.1", "Helm", "traefik-crds"), True, "upgrade check passed"),
        (crds("v1.5.1"), True, "upgrade check passed"),
        (crds("v1.4.1"), False, "are v1.4.1; Istio 1.31 runs 1.5 1.6"),
        (Reply(CRD_QUERY, stderr=NOT_FOUND_CRD, status=1), False, "no Gateway API CRDs are installed"),
    ],
    ids=["helm-owned-in-range", "lowest", "too-old", "missing"],
)
def test_external_crds_are_checked_against_the_table(stubs: Stubs, installed: Reply, allowed: bool, says: str) -> None:
    stubs.add("kubectl", server("v1.33.0"), istiod("1.30.5"), installed)

    result = stubs.run(SCRIPT, **target((1, 31, 1), (1, 6, 1), "v1.6.1", mode="external"))

    assert (result.status == 0) is allowed, result.stderr
    assert says in (result.stdout if allowed else result.stderr)


def test_istioctl_precheck_problems_refuse_the_update(stubs: Stubs) -> None:
    stubs.add("kubectl", server("v1.33.0"), istiod("1.30.5"), crds("v1.5.1"))
    stubs.add("istioctl", Reply("x precheck", "Error [IST0145] conflicting gateway\n", status=1))

    result = stubs.run(SCRIPT, **TO_1_31)

    assert result.status != 0
    assert "istioctl x precheck found problems" in result.stderr
    assert "IST0145" in result.stderr


def test_an_unreachable_cluster_refuses(stubs: Stubs) -> None:
    stubs.add("kubectl", Reply("get --raw /version", stderr="Unable to connect to the server", status=1))

    result = stubs.run(SCRIPT, **TO_1_31)

    assert result.status != 0
    assert "cannot reach the cluster: Unable to connect to the server" in result.stderr
    assert len(result.calls["kubectl"]) == 1


def test_every_input_is_required(stubs: Stubs) -> None:
    stubs.add("kubectl")

    result = stubs.run(SCRIPT, **{**TO_1_31, "CRDS_AFTER_ISTIOD": ""})

    assert result.status != 0
    assert "CRDS_AFTER_ISTIOD is required" in result.stderr
    assert result.calls["kubectl"] == []


# Kubernetes ranges as Istio states them (istio.io supported-releases data; 1.31: its release announcement).
KUBERNETES_RANGES = {
    (1, 28, 10): (30, 34),
    (1, 29, 9): (31, 35),
    (1, 30, 5): (32, 36),
    (1, 31, 1): (32, 36),
}
GATEWAY_API_FOR = {(1, 28, 10): (1, 4, 1), (1, 29, 9): (1, 4, 1), (1, 30, 5): (1, 5, 1), (1, 31, 1): (1, 6, 1)}


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("istio", KUBERNETES_RANGES, ids=lambda istio: ".".join(map(str, istio)))
def test_every_minor_accepts_both_ends_of_its_kubernetes_range_and_refuses_beyond(
    tmp_path: Path, istio: tuple[int, int, int], shell: str
) -> None:
    lowest, highest = KUBERNETES_RANGES[istio]
    gateway_api = GATEWAY_API_FOR[istio]
    environment = target(istio, gateway_api, "v" + ".".join(map(str, gateway_api)))
    for minor, allowed in ((lowest - 1, False), (lowest, True), (highest, True), (highest + 1, False)):
        (tmp_path / f"k8s-{minor}").mkdir()
        stub_clis = Stubs(tmp_path / f"k8s-{minor}", SHELLS[shell])
        stub_clis.add(
            "kubectl",
            server(f"v1.{minor}.3"),
            Reply(ISTIOD_QUERY, stderr=NOT_FOUND_ISTIOD, status=1),
            Reply(CRD_QUERY, stderr=NOT_FOUND_CRD, status=1),
        )

        result = stub_clis.run(SCRIPT, **environment)

        assert (result.status == 0) is allowed, f"Kubernetes 1.{minor}: {result.stderr}"
        assert stub_clis.unexpected_calls() == []
