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
    # Strict-Transport-Security max-age on every HTTPS response; 0 sends no header.
    hsts_max_age_seconds: int
    # Routes into a meshed namespace wait for it; other namespaces (e.g. Harbor's) must already exist.
    namespaces: Mapping[str, pulumi.Resource]


def hsts_filter(max_age_seconds: int) -> dict[str, Any]:
    """Sets Strict-Transport-Security (Gateway API ResponseHeaderModifier, standard channel since v1.0)."""
    header = {"name": "Strict-Transport-Security", "value": f"max-age={max_age_seconds}"}
    return {"type": "ResponseHeaderModifier", "responseHeaderModifier": {"set": [header]}}


def http_route_spec(route: Route, hsts_max_age_seconds: int = 0) -> dict[str, Any]:
    filters = [hsts_filter(hsts_max_age_seconds)] if hsts_max_age_seconds else []
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
                **({"filters": filters} if filters else {}),
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
                    spec=http_route_spec(route, args.hsts_max_age_seconds),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
                )
            )
        self.register_outputs({"hostnames": [route.hostname for route in args.routes]})
