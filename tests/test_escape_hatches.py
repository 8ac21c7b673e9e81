"""helmValues and imageRegistry: what the program does not model, passed through safely."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from homelab_mesh.chart_keys import merged_values
from homelab_mesh.images import mirrored
from homelab_mesh.settings import ConfigError

ConfigErrorOf = Callable[..., ConfigError]


@pytest.mark.parametrize(
    ("image", "registry", "expected"),
    [
        ("docker.io/istio", "registry.lan:5000", "registry.lan:5000/istio"),
        ("quay.io/metallb/controller", "registry.lan:5000", "registry.lan:5000/metallb/controller"),
        ("quay.io/metallb/controller", "harbor.local/mirror", "harbor.local/mirror/metallb/controller"),
        ("traefik/whoami", "registry.lan", "registry.lan/traefik/whoami"),
        ("localhost/app", "registry.lan", "registry.lan/app"),
        ("registry.k8s.io:443/pause", "registry.lan", "registry.lan/pause"),
        ("quay.io/metallb/controller", None, "quay.io/metallb/controller"),
    ],
)
def test_a_mirror_keeps_the_repository_path(image: str, registry: str | None, expected: str) -> None:
    assert mirrored(image, registry) == expected


def test_extra_values_merge_like_helm_values_files() -> None:
    base = {"global": {"hub": "docker.io/istio", "proxy": {"resources": {"requests": {"cpu": "10m"}}}}, "a": [1]}
    extra = {"global": {"proxy": {"resources": {"requests": {"cpu": "50m"}}}, "logAsJson": True}, "a": [2, 3]}

    merged = merged_values(base, extra)

    assert merged == {
        "global": {
            "hub": "docker.io/istio",
            "proxy": {"resources": {"requests": {"cpu": "50m"}}},
            "logAsJson": True,
        },
        "a": [2, 3],
    }
    assert base["global"]["proxy"]["resources"]["requests"]["cpu"] == "10m"


@pytest.mark.parametrize(
    ("overrides", "key", "reason"),
    [
        ({"helmValues": ["istiod"]}, "helmValues", "must be a map from Helm release name to extra values"),
        ({"helmValues": {"istio-d": {}}}, "helmValues.istio-d", "is not a Helm release of this program"),
        ({"helmValues": {"istiod": "pilot"}}, "helmValues.istiod", "must be a map of chart values"),
        ({"helmValues": {"istiod": {"replicas": 2}}}, "helmValues.istiod.replicas", "(did you mean replicaCount?)"),
        ({"helmValues": {"ztunnel": {"loglevel": "debug"}}}, "helmValues.ztunnel.loglevel", "did you mean logLevel?"),
        ({"helmValues": {"metallb": {"speakers": {}}}}, "helmValues.metallb.speakers", "did you mean speaker?"),
        ({"helmValues": {"istio-base": {"hub": "x"}}}, "helmValues.istio-base.hub", "the istio-base chart reads"),
        ({"imageRegistry": "https://registry.lan"}, "imageRegistry", "is not a registry such as"),
        ({"imageRegistry": "Registry.LAN"}, "imageRegistry", "is not a registry such as"),
        ({"imageRegistry": "registry.lan", "istioHub": "registry.lan/istio"}, "istioHub", "keep one"),
    ],
)
def test_bad_escape_hatches_are_refused(
    config_error: ConfigErrorOf, overrides: dict[str, Any], key: str, reason: str
) -> None:
    error = config_error(overrides=overrides)

    assert len(error.problems) == 1, error.problems
    assert error.problems[0].startswith(f"homelab-mesh:{key}: ")
    assert reason in error.problems[0]


def test_the_demo_app_image_comes_through_the_mirror_with_its_digest(run: Any) -> None:
    overrides = {"demoApp": True, "imageRegistry": "registry.lan:5000"}
    (deployment,) = run(overrides=overrides).of_type("kubernetes:apps/v1:Deployment")

    (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    assert container["image"].startswith("registry.lan:5000/traefik/whoami:v1.11.0@sha256:")


def release_values(evaluation: Any, release: str) -> dict[str, Any]:
    values: dict[str, Any] = evaluation.release(release).inputs["values"]
    return values


def test_extra_helm_values_reach_each_release_over_the_programs_own(run: Any) -> None:
    evaluation = run(
        overrides={
            "helmValues": {
                "istiod": {"meshConfig": {"accessLogFile": "/dev/stdout"}, "global": {"logAsJson": True}},
                "ztunnel": {"logLevel": "debug"},
                "metallb": {"speaker": {"tolerations": [{"operator": "Exists"}]}},
            }
        }
    )

    istiod = release_values(evaluation, "istiod")
    assert istiod["meshConfig"] == {"accessLogFile": "/dev/stdout"}
    assert istiod["global"]["logAsJson"] is True
    assert istiod["global"]["hub"] == "docker.io/istio"  # the program's own keys beside the extra ones
    assert istiod["profile"] == "ambient"
    assert release_values(evaluation, "ztunnel")["logLevel"] == "debug"
    speaker = release_values(evaluation, "metallb")["speaker"]
    assert speaker["tolerations"] == [{"operator": "Exists"}]
    assert speaker["frr"] == {"enabled": False}
    assert "meshConfig" not in release_values(evaluation, "istio-cni")


def test_extra_values_override_what_the_program_sets(run: Any) -> None:
    evaluation = run(overrides={"helmValues": {"istiod": {"replicaCount": 2, "autoscaleEnabled": True}}})

    istiod = release_values(evaluation, "istiod")
    assert (istiod["replicaCount"], istiod["autoscaleEnabled"]) == (2, True)


def test_cert_manager_takes_extra_values_in_its_mode(run: Any) -> None:
    evaluation = run(overrides={"tlsMode": "cert-manager", "helmValues": {"cert-manager": {"replicaCount": 2}}})

    values = release_values(evaluation, "cert-manager")
    assert values["replicaCount"] == 2
    assert values["crds"] == {"enabled": True, "keep": True}


@pytest.mark.parametrize(
    ("overrides", "key", "reason"),
    [
        ({"helmValues": {"cert-manager": {"replicaCount": 2}}}, "helmValues.cert-manager", "tlsMode: cert-manager"),
        (
            {"helmValues": {"metallb": {"rbac": {}}}, "metallbEnabled": False, "addressPools": None},
            "helmValues.metallb",
            "metallbEnabled: true",
        ),
    ],
)
def test_values_for_a_release_that_is_not_installed_are_refused(
    config_error: ConfigErrorOf, overrides: dict[str, Any], key: str, reason: str
) -> None:
    error = config_error(overrides=overrides)

    assert [problem for problem in error.problems if problem.startswith(f"homelab-mesh:{key}: ")] != []
    assert reason in error.problems[0]


def test_every_image_comes_through_the_mirror(run: Any) -> None:
    evaluation = run(overrides={"imageRegistry": "registry.lan:5000", "tlsMode": "cert-manager", "demoApp": True})

    for release in ("istiod", "istio-cni", "ztunnel"):
        assert release_values(evaluation, release)["global"]["hub"] == "registry.lan:5000/istio"
    metallb = release_values(evaluation, "metallb")
    assert metallb["controller"]["image"] == {"repository": "registry.lan:5000/metallb/controller"}
    assert metallb["speaker"]["image"] == {"repository": "registry.lan:5000/metallb/speaker"}
    assert release_values(evaluation, "cert-manager")["imageRegistry"] == "registry.lan:5000"
    (deployment,) = evaluation.of_type("kubernetes:apps/v1:Deployment")
    (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    assert container["image"].startswith("registry.lan:5000/traefik/whoami:")


def test_without_a_mirror_each_image_keeps_its_own_registry(homelab: Any) -> None:
    metallb = release_values(homelab, "metallb")
    assert "image" not in metallb["controller"]
    assert release_values(homelab, "istiod")["global"]["hub"] == "docker.io/istio"
