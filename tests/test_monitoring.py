"""Monitoring: Prometheus Operator monitors, checked against the operator's own CRD schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from homelab_mesh.scripts import script
from pydantic import BaseModel

from tests.conftest import Evaluate
from tests.stubs import Reply, Stubs
from tools.mock_engine import Evaluation, evaluate

MONITOR_TYPES = ("kubernetes:monitoring.coreos.com/v1:PodMonitor", "kubernetes:monitoring.coreos.com/v1:ServiceMonitor")


def monitors(evaluation: Evaluation) -> dict[str, dict[str, Any]]:
    """By the monitor's Kubernetes name."""
    return {r.inputs["metadata"]["name"]: r.inputs for t in MONITOR_TYPES for r in evaluation.of_type(t)}


def endpoint(monitor: Mapping[str, Any]) -> dict[str, Any]:
    (only,) = monitor["spec"].get("podMetricsEndpoints") or monitor["spec"]["endpoints"]
    return only


def schema_accepts(monitor: Mapping[str, Any]) -> bool:
    """The Prometheus Operator's CRD schema accepts the object and drops nothing (no unknown field)."""
    from tests.crd_models import prometheus_operator

    document = {key: monitor[key] for key in ("apiVersion", "kind", "metadata", "spec")}
    model: type[BaseModel] = getattr(prometheus_operator(), monitor["kind"])
    parsed = model.model_validate(document)
    return parsed.model_dump(by_alias=True, exclude_none=True) == document


@pytest.fixture(scope="module")
def monitored() -> Evaluation:
    return evaluate("homelab", overrides={"monitoring": True, "metallbVersion": "0.16.1"})


def test_off_by_default(homelab: Evaluation) -> None:
    assert monitors(homelab) == {}
    assert "monitoring-prometheus-operator-crds" not in homelab.names()
    assert "monitoring-metallb-metrics-reader" not in homelab.names()


def test_one_monitor_per_component_each_valid_for_the_operator(monitored: Evaluation) -> None:
    found = monitors(monitored)
    assert {name: (m["kind"], m["metadata"]["namespace"]) for name, m in found.items()} == {
        "istiod-monitor": ("ServiceMonitor", "istio-system"),
        "ztunnel-monitor": ("PodMonitor", "istio-system"),
        "istio-cni-monitor": ("PodMonitor", "istio-system"),
        "ingress-gateway-monitor": ("PodMonitor", "istio-gateway"),
        "metallb-controller-monitor": ("PodMonitor", "metallb-system"),
        "metallb-speaker-monitor": ("PodMonitor", "metallb-system"),
    }
    for name, monitor in found.items():
        assert schema_accepts(monitor), name
        assert monitor["spec"]["namespaceSelector"] == {"matchNames": [monitor["metadata"]["namespace"]]}


@pytest.mark.parametrize(
    ("name", "labels", "port", "path"),
    [
        # Labels and port names as the pinned charts render them (sources in components/monitoring.py).
        ("istiod-monitor", {"app": "istiod", "istio": "pilot"}, "http-monitoring", "/metrics"),
        ("ztunnel-monitor", {"app": "ztunnel"}, "ztunnel-stats", "/stats/prometheus"),
        ("istio-cni-monitor", {"k8s-app": "istio-cni-node"}, "metrics", "/metrics"),
        (
            "ingress-gateway-monitor",
            {"gateway.networking.k8s.io/gateway-name": "ingress"},
            "metrics",
            "/stats/prometheus",
        ),
    ],
)
def test_istio_targets(monitored: Evaluation, name: str, labels: dict[str, str], port: str, path: str) -> None:
    monitor = monitors(monitored)[name]
    assert monitor["spec"]["selector"] == {"matchLabels": labels}
    assert (endpoint(monitor)["port"], endpoint(monitor)["path"]) == (port, path)


def test_gateway_selector_matches_the_label_its_budget_and_spread_use(monitored: Evaluation) -> None:
    spread_selector = "gateway.networking.k8s.io/gateway-name"
    selector = monitors(monitored)["ingress-gateway-monitor"]["spec"]["selector"]["matchLabels"]
    assert selector[spread_selector] == monitored.named("ingress-gateway").inputs["metadata"]["name"]


@pytest.mark.parametrize("component", ["controller", "speaker"])
def test_metallb_016_metrics_are_https_with_a_token_allowed_to_read_them(monitored: Evaluation, component: str) -> None:
    monitor = monitors(monitored)[f"metallb-{component}-monitor"]
    assert monitor["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "metallb",
        "app.kubernetes.io/component": component,
    }
    target = endpoint(monitor)
    assert (target["port"], target["scheme"]) == ("metricshttps", "https")
    credentials = target["authorization"]["credentials"]
    token = monitored.named("monitoring-metallb-metrics-reader-token").inputs
    assert token["type"] == "kubernetes.io/service-account-token"
    assert token["metadata"]["namespace"] == monitor["metadata"]["namespace"]
    assert credentials["name"] == token["metadata"]["name"]
    account = monitored.named("monitoring-metallb-metrics-reader").inputs["metadata"]
    assert token["metadata"]["annotations"]["kubernetes.io/service-account.name"] == account["name"]
    binding = monitored.named("monitoring-metallb-metrics-reader-binding").inputs
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
    ]
    role = monitored.named("monitoring-metallb-metrics-reader-role").inputs
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert role["rules"] == [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]


def test_metallb_015_metrics_are_plain_http(run: Evaluate) -> None:
    evaluation = run({"monitoring": True, "metallbVersion": "0.15.3"})
    for component in ("controller", "speaker"):
        assert endpoint(monitors(evaluation)[f"metallb-{component}-monitor"]) == {
            "port": "monitoring",
            "path": "/metrics",
        }
    assert "monitoring-metallb-metrics-reader-token" not in evaluation.names()


def test_only_what_the_stack_runs_is_monitored(run: Evaluate) -> None:
    evaluation = run(
        {
            "monitoring": True,
            "metallbEnabled": False,
            "addressPools": None,
            "gatewayAddress": None,
            "gatewayHostnames": [],
            "routes": None,
        }
    )
    assert set(monitors(evaluation)) == {"istiod-monitor", "ztunnel-monitor", "istio-cni-monitor"}


def test_monitors_wait_for_the_crd_check_and_what_they_watch(monitored: Evaluation) -> None:
    check = monitored.named("monitoring-prometheus-operator-crds").inputs
    assert check["create"] == script("check-prometheus-operator-crds.sh")
    assert check["environment"] == {"KUBE_CONTEXT": "homelab"}
    for name in monitors(monitored):
        needs = monitored.dependency_names(f"monitoring-{name}")
        assert {"monitoring-prometheus-operator-crds", "istio-ztunnel", "lan-load-balancer-release"} <= needs, name


# --- check-prometheus-operator-crds.sh ---------------------------------------------------------------------

POD_CRD = "get crd podmonitors.monitoring.coreos.com"
SERVICE_CRD = "get crd servicemonitors.monitoring.coreos.com"


def test_check_passes_when_both_crds_are_served(stubs: Stubs) -> None:
    stubs.add("kubectl", Reply(POD_CRD, "crd/podmonitors"), Reply(SERVICE_CRD, "crd/servicemonitors"))
    result = stubs.run("check-prometheus-operator-crds.sh", KUBE_CONTEXT="homelab")
    assert result.status == 0, result.stderr
    assert result.calls["kubectl"] == [
        f"--context homelab {POD_CRD} -o name",
        f"--context homelab {SERVICE_CRD} -o name",
    ]


def test_check_names_the_missing_crds_and_what_to_do(stubs: Stubs) -> None:
    not_found = 'Error from server (NotFound): customresourcedefinitions "x" not found'
    stubs.add("kubectl", Reply(POD_CRD, stderr=not_found, status=1), Reply(SERVICE_CRD, stderr=not_found, status=1))
    result = stubs.run("check-prometheus-operator-crds.sh")
    assert result.status == 1
    assert "CRDs are missing: podmonitors.monitoring.coreos.com servicemonitors.monitoring.coreos.com" in result.stderr
    assert "homelab-mesh:monitoring to false" in result.stderr
    assert all("--context" not in call for call in result.calls["kubectl"])


def test_check_reports_a_cluster_it_cannot_reach(stubs: Stubs) -> None:
    refused = "The connection to the server 192.168.1.10:6443 was refused"
    stubs.add("kubectl", Reply(POD_CRD, stderr=refused, status=1))
    result = stubs.run("check-prometheus-operator-crds.sh")
    assert result.status == 1
    assert refused in result.stderr
    assert "missing" not in result.stderr
