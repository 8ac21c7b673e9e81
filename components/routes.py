"""HttpRoutes: one HTTPRoute per hostname, attached to that hostname's HTTPS listener."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from . import names
from .kubernetes import KubernetesObject, metadata
from .settings import Route


@dataclass(frozen=True)
class HttpRoutesArgs:
    routes: tuple[Route, ...]
    gateway: pulumi.Resource
    # Routes into a meshed namespace wait for it; other namespaces (e.g. Harbor's) must already exist.
    namespaces: Mapping[str, pulumi.Resource]


def http_route_spec(route: Route) -> dict[str, Any]:
    return {
        "parentRefs": [
            {
                "group": "gateway.networking.k8s.io",
                "kind": "Gateway",
                "name": names.GATEWAY_NAME,
                "namespace": names.GATEWAY_NAMESPACE,
                "sectionName": names.https_listener(route.hostname),
            }
        ],
        "hostnames": [route.hostname],
        "rules": [
            {
                "matches": [{"path": {"type": rule.match, "value": rule.path}}],
                "backendRefs": [{"name": rule.service, "port": rule.port}],
            }
            for rule in route.rules
        ],
    }


class HttpRoutes(pulumi.ComponentResource):
    routes: list[KubernetesObject]

    def __init__(self, name: str, args: HttpRoutesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-mesh:ingress:HttpRoutes", name, None, opts)
        self.routes = []
        for route in args.routes:
            depends_on = [args.gateway]
            if route.namespace in args.namespaces:
                depends_on.append(args.namespaces[route.namespace])
            self.routes.append(
                KubernetesObject(
                    f"route-{route.name}",
                    api_version="gateway.networking.k8s.io/v1",
                    kind="HTTPRoute",
                    metadata=metadata(route.name, route.namespace),
                    spec=http_route_spec(route),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
                )
            )
        self.register_outputs({"hostnames": [route.hostname for route in args.routes]})
