"""DemoApp: a tiny HTTP echo server in a meshed namespace, the page a first deploy answers with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from .images import mirrored
from .kubernetes import KubernetesObject, metadata
from .settings import DemoAppSettings

# traefik/whoami v1.11.0, pinned by tag and by the digest of its multi-architecture image index (so one
# reference serves amd64 and arm64 nodes), as digest-pinned manifests in public repositories record it.
IMAGE = "docker.io/traefik/whoami:v1.11.0@sha256:200689790a0a0ea48ca45992e0450bc26ccab5307375b41c84dfc4f2475937ab"
CONTAINER_PORT = 8080  # unprivileged: the container runs as a non-root user with every capability dropped
NON_ROOT_USER = 65532
LABELS = {"app.kubernetes.io/name": "echo", "app.kubernetes.io/part-of": "homelab-mesh-demo"}


@dataclass(frozen=True)
class DemoAppArgs:
    settings: DemoAppSettings
    # The MeshedNamespace the app runs in: its pods must start enrolled, so they wait for the label.
    namespace: pulumi.Resource
    image_registry: str | None = None


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

    def __init__(self, name: str, args: DemoAppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-mesh:apps:DemoApp", name, None, opts)
        settings = args.settings
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[args.namespace])
        self.deployment = KubernetesObject(
            f"{name}-deployment",
            api_version="apps/v1",
            kind="Deployment",
            metadata=metadata(settings.service, settings.namespace, labels=LABELS),
            spec=deployment_spec(args.image_registry),
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
        self.register_outputs(
            {"namespace": settings.namespace, "service": settings.service, "port": settings.port, "image": IMAGE}
        )
