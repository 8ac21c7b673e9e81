"""Availability: MetalLB's requests and priority, the gateway's replicas, spread and disruption budget."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
import yaml
from homelab_mesh.ingress import options_data, options_name
from homelab_mesh.resources import mebibytes, millicores
from homelab_mesh.settings import ConfigError
from homelab_mesh.settings.network import MAX_GATEWAY_REPLICAS
from pydantic import BaseModel

from tests.conftest import Evaluate
from tests.crd_models import kubernetes
from tools.mock_engine import Evaluation

# The ConfigMap keys istiod accepts as overlays; any other key makes it refuse to render the gateway
# (`supportedOverlays`, pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go, istio 1.31.0-rc.0).
ISTIO_OVERLAY_KEYS = {"deployment", "service", "serviceAccount", "horizontalPodAutoscaler", "podDisruptionBudget"}
# The label istiod's kube-gateway template puts on the generated gateway pods (and selects the PDB by).
GATEWAY_POD_LABEL = "gateway.networking.k8s.io/gateway-name"
# User PriorityClasses may not exceed one billion; the system classes sit above two billion.
HIGHEST_USER_PRIORITY = 1_000_000_000


def round_trips(model: type[BaseModel], document: Mapping[str, Any]) -> bool:
    """True when the upstream schema model accepts the document and drops nothing (no unknown field)."""
    parsed = model.model_validate(document)
    return parsed.model_dump(by_alias=True, exclude_none=True) == document


def options_of(evaluation: Evaluation) -> dict[str, Any]:
    """The overlays of the ConfigMap the Gateway names, parsed, after checking the reference itself."""
    gateway = evaluation.named("ingress-gateway")
    reference = gateway.inputs["spec"]["infrastructure"]["parametersRef"]
    assert (reference["group"], reference["kind"]) == ("", "ConfigMap")
    config_map = evaluation.named("ingress-gateway-options").inputs
    assert config_map["kind"] == "ConfigMap"
    assert config_map["metadata"]["name"] == reference["name"]
    assert config_map["metadata"]["namespace"] == gateway.inputs["metadata"]["namespace"]
    assert "ingress-gateway-options" in evaluation.dependency_names("ingress-gateway")
    assert set(config_map["data"]) <= ISTIO_OVERLAY_KEYS
    return {key: yaml.safe_load(text) for key, text in config_map["data"].items()}


class TestMetalLBResources:
    @pytest.mark.parametrize("component", ["controller", "speaker"])
    def test_requests_and_memory_limit(self, homelab: Evaluation, component: str) -> None:
        resources = homelab.named("lan-load-balancer-release").inputs["values"][component]["resources"]
        assert millicores(resources["requests"]["cpu"]) > 0
        assert mebibytes(resources["requests"]["memory"]) > 0
        assert mebibytes(resources["limits"]["memory"]) >= mebibytes(resources["requests"]["memory"])
        # A throttled speaker answers ARP late (metallb/metallb#765): no CPU limit.
        assert "cpu" not in resources["limits"]

    def test_speaker_runs_at_a_priority_class_the_program_creates_first(self, homelab: Evaluation) -> None:
        speaker = homelab.named("lan-load-balancer-release").inputs["values"]["speaker"]
        priority = homelab.named("lan-load-balancer-speaker-priority").inputs
        assert priority["apiVersion"] == "scheduling.k8s.io/v1"
        assert priority["kind"] == "PriorityClass"
        assert speaker["priorityClassName"] == priority["metadata"]["name"]
        assert not priority["metadata"]["name"].startswith("system-")
        fields = ("apiVersion", "kind", "metadata", "value", "globalDefault", "preemptionPolicy", "description")
        assert round_trips(kubernetes("scheduling.v1").PriorityClass, {field: priority[field] for field in fields})
        assert 0 < priority["value"] <= HIGHEST_USER_PRIORITY
        assert priority["globalDefault"] is False
        assert "lan-load-balancer-speaker-priority" in homelab.dependency_names("lan-load-balancer-release")

    def test_override_changes_only_that_component(self, run: Evaluate, homelab: Evaluation) -> None:
        evaluation = run({"resources": {"metallbSpeaker": {"limits": {"memory": "300Mi"}}}})
        values = evaluation.named("lan-load-balancer-release").inputs["values"]
        before = homelab.named("lan-load-balancer-release").inputs["values"]
        assert values["speaker"]["resources"]["limits"] == {"memory": "300Mi"}
        assert values["speaker"]["resources"]["requests"] == before["speaker"]["resources"]["requests"]
        assert values["controller"] == before["controller"]

    def test_still_l2_only(self, homelab: Evaluation) -> None:
        values = homelab.named("lan-load-balancer-release").inputs["values"]
        assert values["speaker"]["frr"]["enabled"] is False
        assert values["frrk8s"]["enabled"] is False


class TestGatewayReplicas:
    def test_one_replica_by_default_and_no_budget(self, homelab: Evaluation) -> None:
        overlays = options_of(homelab)
        assert overlays["deployment"] == {"spec": {"replicas": 1}}
        # istiod renders a PodDisruptionBudget only when its overlay key is present (`requiredOverlays`).
        assert "podDisruptionBudget" not in overlays

    @pytest.mark.parametrize("replicas", [2, MAX_GATEWAY_REPLICAS])
    def test_several_replicas_spread_over_nodes_with_a_satisfiable_budget(self, run: Evaluate, replicas: int) -> None:
        overlays = options_of(run({"gatewayReplicas": replicas}))
        deployment = overlays["deployment"]["spec"]
        assert deployment["replicas"] == replicas
        (spread,) = deployment["template"]["spec"]["topologySpreadConstraints"]
        assert round_trips(kubernetes("core.v1").TopologySpreadConstraint, spread)
        assert spread["topologyKey"] == "kubernetes.io/hostname"
        assert spread["maxSkew"] == 1
        assert spread["labelSelector"] == {"matchLabels": {GATEWAY_POD_LABEL: "ingress"}}
        budget = overlays["podDisruptionBudget"]["spec"]
        assert round_trips(kubernetes("policy.v1").PodDisruptionBudgetSpec, budget)
        assert budget["minAvailable"] == 1
        assert budget["minAvailable"] < replicas  # one node can always be drained

    def test_replica_count_renames_the_options_so_the_gateway_switches_over(self) -> None:
        names = {options_name(options_data(replicas)) for replicas in range(1, MAX_GATEWAY_REPLICAS + 1)}
        assert len(names) == MAX_GATEWAY_REPLICAS
        assert options_name(options_data(2)) == options_name(options_data(2))

    def test_options_are_plain_config_not_secret(self, homelab: Evaluation) -> None:
        assert homelab.named("ingress-gateway-options").additional_secret_outputs == ()


def istiod_renders_pdb(values: Mapping[str, Any]) -> bool:
    """The condition of istio-discovery/templates/poddisruptionbudget.yaml (istio 1.31.0-rc.0): a PDB only
    with more than one replica, fixed or autoscaled; the chart's `global.defaultPodDisruptionBudget` is on."""
    if values.get("global", {}).get("defaultPodDisruptionBudget", {}).get("enabled", True) is False:
        return False
    if values.get("autoscaleEnabled", True):
        return int(values.get("autoscaleMin", 1)) > 1
    return int(values.get("replicaCount", 1)) > 1


class TestNoDrainDeadlock:
    def test_istiod_with_one_replica_has_no_budget(self, homelab: Evaluation) -> None:
        values = homelab.named("istio-istiod").inputs["values"]
        assert values["replicaCount"] == 1
        assert istiod_renders_pdb(values) is False

    def test_the_template_condition_is_read_right(self) -> None:
        assert istiod_renders_pdb({"autoscaleEnabled": False, "replicaCount": 2}) is True
        assert istiod_renders_pdb({"autoscaleEnabled": True, "autoscaleMin": 2}) is True
        assert istiod_renders_pdb({}) is False

    @pytest.mark.parametrize("replicas", range(1, MAX_GATEWAY_REPLICAS + 1))
    def test_every_gateway_budget_leaves_room_for_one_eviction(self, replicas: int) -> None:
        overlays = {key: yaml.safe_load(text) for key, text in options_data(replicas).items()}
        budget = overlays.get("podDisruptionBudget")
        assert (budget is None) == (replicas == 1)
        if budget is not None:
            assert budget["spec"]["minAvailable"] <= replicas - 1

    def test_the_program_registers_no_disruption_budget_of_its_own(self, homelab: Evaluation) -> None:
        assert not [r.name for r in homelab.registrations.values() if r.type.endswith(":PodDisruptionBudget")]


@pytest.mark.parametrize("value", [0, -1, 11, 1_000_000_000_000, "two", 1.5])
def test_bad_replica_counts_are_refused(config_error: Callable[..., ConfigError], value: object) -> None:
    error = config_error(overrides={"gatewayReplicas": value})
    (problem,) = error.problems
    assert problem.startswith("homelab-mesh:gatewayReplicas: must be a whole number from 1 to 10")


@pytest.mark.parametrize(
    ("override", "key", "reason"),
    [
        ({"metallbSpeaker": {"requests": {"memory": "256Mi"}}}, "resources.metallbSpeaker", "more than its limit"),
        ({"metallbController": {"limits": {"memory": "lots"}}}, "resources.metallbController.limits.memory", "memory"),
        ({"metallb": {"requests": {"cpu": "10m"}}}, "resources.metallb", "metallbController, metallbSpeaker"),
    ],
)
def test_bad_metallb_resources_are_refused(
    config_error: Callable[..., ConfigError], override: dict[str, Any], key: str, reason: str
) -> None:
    (problem,) = config_error(overrides={"resources": override}).problems
    assert problem.startswith(f"homelab-mesh:{key}: ")
    assert reason in problem
