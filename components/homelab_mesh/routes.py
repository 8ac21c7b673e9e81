"""HttpRoutes: one HTTPRoute per hostname, attached to that hostname's HTTPS listener."""

from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict

import pulumi

from . import names
from .arguments import ArgsReader, RouteArgs, component_options, renamed, token
from .kubernetes import KubernetesObject, metadata
from .mesh_namespace import MeshedNamespace
from .settings.routes import HSTS_MAX_AGE_LIMIT, Route


class HttpRoutesArgs(TypedDict):
    """The routes behind the gateway's hostnames."""

    routes: list[RouteArgs]
    """One route table per hostname; each hostname needs a listener on the gateway."""
    hsts_max_age_seconds: NotRequired[int]
    """Strict-Transport-Security max-age on every HTTPS response; 0 (default) sends no header."""


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


def route_waits_for(route: Route, waits_for: Sequence[pulumi.Resource]) -> list[pulumi.Resource]:
    """What one route waits for: everything the component depends on (the Gateway), except that of the
    MeshedNamespaces among it only the route's own namespace (its pods enrolled, its policy admitting the
    gateway). Other namespaces (e.g. Harbor's) must already exist."""
    return [
        resource
        for resource in waits_for
        if not isinstance(resource, MeshedNamespace) or resource.namespace_name == route.namespace
    ]


class HttpRoutes(pulumi.ComponentResource):
    """One HTTPRoute per hostname, attached to that hostname's HTTPS listener of the ingress Gateway. Each
    route waits for what the component depends on (put the Gateway there, and the meshed namespaces: a route
    waits only for its own)."""

    hostnames: pulumi.Output[list[str]]
    """The hostnames routed."""

    def __init__(self, name: str, args: HttpRoutesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        reader = ArgsReader("HttpRoutes", name, args)
        routes: list[Route] = reader.models("routes", Route, reader.required("routes") or [])
        hsts = reader.whole_number("hsts_max_age_seconds", 0, 0, HSTS_MAX_AGE_LIMIT)
        reader.raise_problems()
        own, waits_for = component_options("HttpRoutes", name, opts, "homelab-mesh:ingress:HttpRoutes")
        super().__init__(token("HttpRoutes"), name, None, own)
        self.routes: list[KubernetesObject] = [
            KubernetesObject(
                f"{name}-{route.name}",
                api_version="gateway.networking.k8s.io/v1",
                kind="HTTPRoute",
                metadata=metadata(route.name, route.namespace),
                spec=http_route_spec(route, hsts),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=route_waits_for(route, waits_for),
                    aliases=renamed(f"{name}-{route.name}", f"route-{route.name}"),
                ),
            )
            for route in routes
        ]
        self.hostnames = pulumi.Output.from_input([route.hostname for route in routes])
        self.register_outputs({"hostnames": self.hostnames})
