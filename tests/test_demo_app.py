"""The starter stack and its demo app: a first `pulumi up` on an empty cluster ends with a page answering."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from homelab_mesh.settings import ConfigError
from homelab_mesh.settings.stack_file import load_stack_file

from tests.graph import must_precede
from tools.mock_engine import Evaluation, evaluate

ROOT = Path(__file__).resolve().parent.parent
STARTER = ROOT / "stacks" / "starter.yaml"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
HTTP_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"


@pytest.fixture(scope="module")
def starter() -> Evaluation:
    return evaluate("starter", stack_file=STARTER)


def pod_spec(evaluation: Evaluation) -> dict[str, Any]:
    (deployment,) = evaluation.of_type(DEPLOYMENT)
    spec: dict[str, Any] = deployment.inputs["spec"]["template"]["spec"]
    return spec


class TestStarterStack:
    def test_is_a_valid_stack_file_that_evaluates_cleanly(self, starter: Evaluation) -> None:
        assert set(load_stack_file(STARTER)) == {"config"}
        assert [message for level, message in starter.logs if level == "error"] == []
        assert starter.outputs["urls"] == ["https://echo.home.arpa/"]

    def test_needs_nothing_that_exists_before_the_first_deploy(self, starter: Evaluation) -> None:
        """Every route leads into a namespace and to a Service port that the stack itself creates."""
        created_namespaces = {r.inputs["metadata"]["name"] for r in starter.of_type("kubernetes:core/v1:Namespace")}
        created_services = {
            (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"], int(port["port"]))
            for r in starter.of_type(SERVICE)
            for port in r.inputs["spec"]["ports"]
        }
        routes = [r for r in starter.of_type(HTTP_ROUTE) if r.name != "ingress-http-to-https-redirect"]
        assert routes
        for route in routes:
            namespace = route.inputs["metadata"]["namespace"]
            assert namespace in created_namespaces
            for rule in route.inputs["spec"]["rules"]:
                for backend in rule["backendRefs"]:
                    assert (namespace, backend["name"], int(backend["port"])) in created_services

    def test_the_demo_app_starts_only_once_its_namespace_is_meshed(self, starter: Evaluation) -> None:
        assert must_precede(starter, "mesh-demo-apps-namespace", "demo-app-deployment")
        assert must_precede(starter, "mesh-demo-apps-l4-authorization", "demo-app-deployment")
        assert must_precede(starter, "istio-ztunnel", "demo-app-deployment")

    def test_verification_checks_the_demo_pods_after_their_rollout(self, starter: Evaluation) -> None:
        assert must_precede(starter, "demo-app-deployment", "verify-mesh")

    def test_the_demo_app_is_a_component_of_its_own(self, starter: Evaluation) -> None:
        component = starter.named("demo-app")
        assert component.type == "homelab-mesh:index:DemoApp"
        assert {child.name for child in starter.children("demo-app")} == {"demo-app-deployment", "demo-app-service"}


class TestDemoWorkload:
    def test_image_is_pinned_by_tag_and_digest(self, starter: Evaluation) -> None:
        (container,) = pod_spec(starter)["containers"]
        assert re.fullmatch(r"[\w.\-/]+:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}", container["image"])

    def test_runs_unprivileged_on_a_read_only_root(self, starter: Evaluation) -> None:
        spec = pod_spec(starter)
        (container,) = spec["containers"]
        security = container["securityContext"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert int(spec["securityContext"]["runAsUser"]) > 0
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert spec["automountServiceAccountToken"] is False
        # Without NET_BIND_SERVICE a non-root process can only listen above 1023.
        assert all(int(port["containerPort"]) > 1023 for port in container["ports"])

    def test_requests_are_lean_and_memory_is_capped(self, starter: Evaluation) -> None:
        (container,) = pod_spec(starter)["containers"]
        assert set(container["resources"]["requests"]) == {"cpu", "memory"}
        assert "memory" in container["resources"]["limits"]

    def test_probe_and_service_point_at_a_declared_container_port(self, starter: Evaluation) -> None:
        (container,) = pod_spec(starter)["containers"]
        port_names = {port["name"] for port in container["ports"]}
        assert container["readinessProbe"]["httpGet"]["port"] in port_names
        (service,) = starter.of_type(SERVICE)
        assert {port["targetPort"] for port in service.inputs["spec"]["ports"]} <= port_names

    def test_service_selects_the_deployments_pods(self, starter: Evaluation) -> None:
        (deployment,) = starter.of_type(DEPLOYMENT)
        (service,) = starter.of_type(SERVICE)
        pod_labels = deployment.inputs["spec"]["template"]["metadata"]["labels"]
        assert deployment.inputs["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        assert service.inputs["spec"]["selector"].items() <= pod_labels.items()
        assert service.inputs["metadata"]["namespace"] == deployment.inputs["metadata"]["namespace"] == "demo-apps"


class TestDemoAppSetting:
    def test_is_off_by_default(self, homelab: Evaluation) -> None:
        assert homelab.of_type(DEPLOYMENT) == []
        assert "demo-app" not in homelab.names()

    def test_can_be_added_to_a_stack_that_meshes_demo_apps(self, run: Callable[..., Evaluation]) -> None:
        evaluation = run({"demoApp": True})
        assert evaluation.named("demo-app-service").inputs["metadata"]["name"] == "echo"

    def test_needs_demo_apps_in_the_mesh(self, config_error: Callable[..., ConfigError]) -> None:
        error = config_error(
            {"demoApp": True, "meshedNamespaces": ["other"], "routes": None}, stack="starter", stack_file=STARTER
        )
        assert any(
            problem.startswith("homelab-mesh:demoApp: ") and "meshedNamespaces" in problem for problem in error.problems
        )

    def test_routes_to_it_must_use_its_port(self, config_error: Callable[..., ConfigError]) -> None:
        routes = [
            {"hostname": "echo.home.arpa", "namespace": "demo-apps", "rules": [{"service": "echo", "port": 8080}]}
        ]
        error = config_error({"routes": routes}, stack="starter", stack_file=STARTER)
        assert error.problems == [
            "homelab-mesh:demoApp: the route for echo.home.arpa sends / to echo port 8080, "
            "but the demo app's Service listens on port 80"
        ]

    def test_must_be_a_boolean(self, config_error: Callable[..., ConfigError]) -> None:
        error = config_error({"demoApp": "yes"})
        assert error.problems == ['homelab-mesh:demoApp: must be true or false, got "yes"']


def test_the_front_door_check_waits_for_the_demo_app(starter: Evaluation) -> None:
    assert must_precede(starter, "demo-app-deployment", "check-front-door")
    assert must_precede(starter, "demo-app-service", "check-front-door")
