"""DemoApp: a tiny HTTP echo server in a meshed namespace, the page a first deploy answers with."""

from typing import Any, NotRequired, TypedDict

import pulumi

from .arguments import ArgsReader, component_options, token
from .images import mirrored
from .kubernetes import KubernetesObject, metadata
from .settings.checks import check_namespace, check_object_name
from .settings.demo import DEMO_NAMESPACE, DEMO_SERVICE, DEMO_SERVICE_PORT, DemoAppSettings

# traefik/whoami v1.11.0, pinned by tag and by the digest of its multi-architecture image index (so one
# reference serves amd64 and arm64 nodes), as digest-pinned manifests in public repositories record it.
IMAGE = "docker.io/traefik/whoami:v1.11.0@sha256:200689790a0a0ea48ca45992e0450bc26ccab5307375b41c84dfc4f2475937ab"
CONTAINER_PORT = 8080  # unprivileged: the container runs as a non-root user with every capability dropped
NON_ROOT_USER = 65532
LABELS = {"app.kubernetes.io/name": "echo", "app.kubernetes.io/part-of": "homelab-mesh-demo"}


class DemoAppArgs(TypedDict):
    """Where the echo app runs."""

    namespace: NotRequired[str]
    """A meshed namespace; default demo-apps. Put its MeshedNamespace in the component's depends_on: the
    pods must start enrolled."""
    service: NotRequired[str]
    """The Service's name; default echo."""
    port: NotRequired[int]
    """The Service's port; default 80."""
    image_registry: NotRequired[str]
    """A registry mirroring docker.io, for the image."""


def container_spec(image_registry: str | None = None) -> dict[str, Any]:
    return {
        "name": "echo",
        "image": mirrored(IMAGE, image_registry),
        "args": [f"--port={CONTAINER_PORT}"],
        "ports": [{"name": "http", "containerPort": CONTAINER_PORT, "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 5},
        "resources": {"requests": {"cpu": "5m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def deployment_spec(image_registry: str | None = None) -> dict[str, Any]:
    return {
        "replicas": 1,
        "selector": {"matchLabels": {"app.kubernetes.io/name": LABELS["app.kubernetes.io/name"]}},
        "template": {
            "metadata": {"labels": dict(LABELS)},
            "spec": {
                "automountServiceAccountToken": False,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": NON_ROOT_USER,
                    "runAsGroup": NON_ROOT_USER,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [container_spec(image_registry)],
            },
        },
    }


def service_spec(settings: DemoAppSettings) -> dict[str, Any]:
    return {
        "selector": {"app.kubernetes.io/name": LABELS["app.kubernetes.io/name"]},
        "ports": [{"name": "http", "port": settings.port, "targetPort": "http", "protocol": "TCP"}],
    }


class DemoApp(pulumi.ComponentResource):
    """The echo Deployment and its Service. Pulumi waits for the Deployment's rollout, so a finished
    `pulumi up` means the pod is ready and, through the namespace label, on the mesh."""

    url: pulumi.Output[str]
    """The Service inside the cluster, as http://<service>.<namespace>:<port>/."""

    def __init__(self, name: str, args: DemoAppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        reader = ArgsReader("DemoApp", name, args)
        settings = DemoAppSettings(
            namespace=reader.checked("namespace", check_namespace, DEMO_NAMESPACE),
            service=reader.checked("service", lambda value: check_object_name(value, "Service"), DEMO_SERVICE),
            port=reader.whole_number("port", DEMO_SERVICE_PORT, 1, 65535),
        )
        reader.raise_problems()
        own, waits_for = component_options("DemoApp", name, opts, "homelab-mesh:apps:DemoApp")
        super().__init__(token("DemoApp"), name, None, own)
        image_registry = args.get("image_registry")
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=waits_for)
        self.deployment = KubernetesObject(
            f"{name}-deployment",
            api_version="apps/v1",
            kind="Deployment",
            metadata=metadata(settings.service, settings.namespace, labels=LABELS),
            spec=deployment_spec(image_registry),
            opts=in_namespace,
        )
        self.service = KubernetesObject(
            f"{name}-service",
            api_version="v1",
            kind="Service",
            metadata=metadata(settings.service, settings.namespace, labels=LABELS),
            spec=service_spec(settings),
            opts=in_namespace,
        )
        self.url = pulumi.Output.from_input(f"http://{settings.service}.{settings.namespace}:{settings.port}/")
        self.register_outputs({"url": self.url})
