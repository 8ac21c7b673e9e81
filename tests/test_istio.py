"""IstioAmbient: the four releases, their order, values and protection, as the engine sees them."""

from __future__ import annotations

import pytest
from homelab_mesh.resources import mebibytes, millicores

from tests.conftest import Evaluate
from tools.mock_engine import Evaluation

RELEASES = {"istio-base": "base", "istiod": "istiod", "istio-cni": "cni", "ztunnel": "ztunnel"}
# The charts that run an image; the base chart installs CRDs, the webhook and RBAC only.
IMAGE_CHARTS = ("istiod", "istio-cni", "ztunnel")


@pytest.mark.parametrize(("release", "chart"), RELEASES.items())
def test_release_is_pinned_and_named(homelab: Evaluation, release: str, chart: str) -> None:
    inputs = homelab.release(release).inputs
    assert inputs["name"] == release
    assert inputs["chart"] == chart
    assert inputs["version"] == "1.28.2"
    assert inputs["namespace"] == "istio-system"
    assert inputs["repositoryOpts"]["repo"] == "https://blob.istio.io/istio-release/charts"
    assert inputs.get("skipAwait") in (None, False), "Helm must wait for readiness"


GUARD = {"upgrade-guard-deployed-versions", "upgrade-guard-live-check", "upgrade-guard-cluster-inspection"}


def test_releases_are_chained_in_documented_order_behind_the_guard(homelab: Evaluation) -> None:
    assert homelab.dependency_names("istio-base") == {"istio-namespace", *GUARD}
    # Istio 1.28 with Gateway API v1.4: the previous minor runs these CRDs too, so they go first.
    assert homelab.dependency_names("istio-istiod") == {"istio-base", "istio-gateway-api-standard-crds", *GUARD}
    assert homelab.dependency_names("istio-cni") == {"istio-istiod", *GUARD}
    assert homelab.dependency_names("istio-ztunnel") == {"istio-cni", *GUARD}


def test_only_istio_base_and_the_gateway_api_crds_are_protected(homelab: Evaluation) -> None:
    assert homelab.named("istio-base").protect is True
    assert [name for name in ("istio-istiod", "istio-cni", "istio-ztunnel") if homelab.named(name).protect] == []
    crds = homelab.named("istio-gateway-api-standard-crds")
    # Retained, not protected: switching to external or destroying leaves them without a state command.
    assert (crds.protect, crds.retain_on_delete) == (False, True)
    assert crds.inputs["file"].endswith("/download/v1.4.1/standard-install.yaml")
    assert "latest" not in crds.inputs["file"]


def test_releases_are_children_of_the_component_on_the_stack_provider(homelab: Evaluation) -> None:
    istio = homelab.named("istio").urn
    provider = homelab.named("homelab")
    assert provider.inputs["context"] == "homelab"
    for release in RELEASES:
        registration = homelab.release(release)
        assert registration.parent == istio
        assert registration.provider.startswith(provider.urn + "::")


def test_helm_waits_longer_than_default_and_pulumi_waits_longer_than_helm(homelab: Evaluation) -> None:
    for release in RELEASES:
        registration = homelab.release(release)
        assert registration.inputs["timeout"] == 900
        assert int(registration.custom_timeouts["create"].rstrip("s")) > 900


def test_ambient_profile_and_platform_in_every_chart_that_runs_an_image(homelab: Evaluation) -> None:
    for release in ("istiod", "istio-cni", "ztunnel"):
        values = homelab.release(release).inputs["values"]
        assert values["profile"] == "ambient"
        assert values["global"]["platform"] == "k3s"
    assert "_internal_defaults_do_not_set" not in str(homelab.named("istio-istiod").inputs["values"])


def test_image_hub_and_tag_are_in_lockstep(run: Evaluate) -> None:
    evaluation = run({"istioVersion": "1.28.10", "istioHub": "registry.lan/istio"})
    images = {
        (values["global"]["hub"], values["global"]["tag"])
        for values in (evaluation.release(release).inputs["values"] for release in IMAGE_CHARTS)
    }
    assert images == {("registry.lan/istio", "1.28.10")}
    assert evaluation.named("istio-base").inputs["values"] == {}
    assert {evaluation.release(release).inputs["version"] for release in RELEASES} == {"1.28.10"}


def test_platform_none_sets_no_platform(run: Evaluate) -> None:
    evaluation = run({"platform": "none"})
    assert all("platform" not in evaluation.release(r).inputs["values"]["global"] for r in IMAGE_CHARTS)


SEED_USAGE = {"istiod": ("6m", "35Mi"), "istio-cni": ("1m", "15Mi"), "ztunnel": ("2m", "2Mi")}


@pytest.mark.parametrize("release", SEED_USAGE)
def test_lean_requests_cover_measured_usage_and_memory_is_limited(homelab: Evaluation, release: str) -> None:
    resources = homelab.release(release).inputs["values"]["resources"]
    cpu, memory = SEED_USAGE[release]
    assert millicores(resources["requests"]["cpu"]) >= millicores(cpu)
    assert mebibytes(resources["requests"]["memory"]) >= mebibytes(memory)
    assert mebibytes(resources["limits"]["memory"]) > mebibytes(resources["requests"]["memory"])


def test_istiod_does_not_autoscale_on_a_small_cluster(homelab: Evaluation) -> None:
    values = homelab.named("istio-istiod").inputs["values"]
    assert values["autoscaleEnabled"] is False
    assert values["replicaCount"] == 1


def test_resource_override_changes_only_that_component(run: Evaluate, homelab: Evaluation) -> None:
    evaluation = run({"resources": {"ztunnel": {"requests": {"memory": "96Mi"}}}})
    ztunnel = evaluation.named("istio-ztunnel").inputs["values"]["resources"]
    assert ztunnel["requests"] == {
        "cpu": homelab.named("istio-ztunnel").inputs["values"]["resources"]["requests"]["cpu"],
        "memory": "96Mi",
    }
    assert evaluation.named("istio-istiod").inputs["values"] == homelab.named("istio-istiod").inputs["values"]


def test_gateway_and_waypoint_proxies_get_the_lean_profile_from_istiod(run: Evaluate) -> None:
    evaluation = run({"resources": {"gateway": {"limits": {"memory": "300Mi"}}}})
    proxy = evaluation.named("istio-istiod").inputs["values"]["global"]["proxy"]["resources"]
    assert proxy["limits"]["memory"] == "300Mi"
    assert "waypoint" in evaluation.named("istio-istiod").inputs["values"]["global"]


def test_mesh_wide_strict_mtls_waits_for_istiod(homelab: Evaluation) -> None:
    peer = homelab.named("istio-mesh-peer-authentication")
    assert peer.type == "kubernetes:security.istio.io/v1:PeerAuthentication"
    assert peer.inputs["metadata"] == {"name": "default", "namespace": "istio-system"}
    assert peer.inputs["spec"] == {"mtls": {"mode": "STRICT"}}
    assert "istio-istiod" in homelab.dependency_names("istio-mesh-peer-authentication")


def test_permissive_mesh(run: Evaluate) -> None:
    # Each meshed namespace says how plaintext clients get in, or that they do not (components/settings/mesh.py).
    evaluation = run(
        {
            "mtlsMode": "PERMISSIVE",
            "namespaceOptions": {name: {"mtls": "STRICT"} for name in ("demo-apps", "tekton-builds", "localstack")},
        }
    )
    assert evaluation.named("istio-mesh-peer-authentication").inputs["spec"]["mtls"]["mode"] == "PERMISSIVE"


# Every values key the program may give each chart, checked in the chart sources at the minors it installs
# (istio/istio at 1.28.2 and release-1.31, manifests/charts/<chart>): `values.yaml` under
# _internal_defaults_do_not_set, or read by templates/zzz_profile.yaml (`profile`, `global.platform`; ztunnel
# also flattens `global.*` onto its top level there, so its `hub`/`tag` come from `global.hub`/`global.tag`).
CHART_KEYS: dict[str, set[str]] = {
    "istio-base": set(),
    "istiod": {
        "profile",
        "global.hub",
        "global.tag",
        "global.platform",
        "global.proxy.resources",
        "global.waypoint.resources",
        "autoscaleEnabled",
        "replicaCount",
        "resources",
    },
    "istio-cni": {"profile", "global.hub", "global.tag", "global.platform", "resources"},
    "ztunnel": {"profile", "global.hub", "global.tag", "global.platform", "resources"},
}
# Keys whose value is a whole Kubernetes object (requests/limits), not further chart keys.
OPAQUE = ("resources",)


def value_keys(values: dict, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and not path.endswith(OPAQUE):
            keys |= value_keys(value, path + ".")
        else:
            keys.add(path)
    return keys


@pytest.mark.parametrize(
    "stack_overrides", [{}, {"istioVersion": "1.31.1", "gatewayApiVersion": "v1.6.1"}], ids=["1.28", "1.31"]
)
def test_each_chart_gets_only_keys_it_reads(run: Evaluate, stack_overrides: dict) -> None:
    evaluation = run(stack_overrides)
    for release in RELEASES:
        given = value_keys(evaluation.release(release).inputs["values"])
        assert given <= CHART_KEYS[release], (
            f"{release} gets keys its chart does not read: {given - CHART_KEYS[release]}"
        )


def test_nothing_on_the_cluster_changes_before_the_guard_agrees(homelab: Evaluation) -> None:
    """A refused version edit fails the record's check; every Kubernetes object waits for it through the
    provider it is created with, so `pulumi up` stops before its first change."""
    providers = homelab.of_type("pulumi:providers:kubernetes")
    assert sorted(provider.name for provider in providers) == ["gateway-api-crds", "homelab"]
    for provider in providers:
        assert homelab.dependency_names(provider.name) == GUARD
    # Custom resources and the remote ConfigFile of the Gateway API CRDs, which hands its provider to the CRDs.
    on_cluster = [
        r for r in homelab.registrations.values() if (r.custom or r.request.remote) and r.type.startswith("kubernetes:")
    ]
    assert on_cluster
    # A reference is "<urn>::<id>".
    assert {r.provider.rsplit("::", 1)[0] for r in on_cluster} == {provider.urn for provider in providers}
