"""The front door's hostnames and the routes behind them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field, field_validator

from .. import names
from .checks import Port, check_hostname, check_namespace, check_object_name
from .reader import Model, Reader

SCALAR_KEYS = ("gatewayHostnames", "externalNamespaces", "hstsMaxAgeSeconds", "verifyFrontDoor")
STRUCTURED_KEYS = ("routes",)

# Two years: the longest max-age browsers' preload lists ask for; 0 sends no header.
HSTS_MAX_AGE_LIMIT = 63_072_000
HTTP_PATH = re.compile(r"^/[A-Za-z0-9/\-._~%!$&'()*+,;=:@]*$")
# The mesh's own machinery: a route into one of these would expose it through the front door.
UNROUTABLE_NAMESPACES = frozenset({"kube-system", names.ISTIO_NAMESPACE, names.METALLB_NAMESPACE})


class RouteRule(Model):
    path: str = "/"
    match: Literal["PathPrefix", "Exact"] = "PathPrefix"
    service: str
    port: Port

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not HTTP_PATH.match(value) or len(value) > 1024:
            raise ValueError(f"{json.dumps(value)} is not an absolute HTTP path such as / or /api")
        return value

    @field_validator("service")
    @classmethod
    def _service(cls, value: str) -> str:
        return check_object_name(value, "Service")


class Route(Model):
    hostname: str
    namespace: str
    rules: list[RouteRule] = Field(min_length=1)

    @field_validator("hostname", mode="before")
    @classmethod
    def _hostname(cls, value: object) -> str:
        return check_hostname(value)

    @field_validator("namespace", mode="before")
    @classmethod
    def _namespace(cls, value: object) -> str:
        check_namespace(value)
        if value in UNROUTABLE_NAMESPACES:
            raise ValueError(
                f"{json.dumps(value)} runs the cluster's or the mesh's own components; "
                "routes into it would expose them on the LAN"
            )
        return str(value)

    @property
    def name(self) -> str:
        return names.hostname_slug(self.hostname)

    def as_args(self) -> dict[str, Any]:
        """The route as a component argument (RouteArgs)."""
        return self.model_dump()


def read_gateway_hostnames(reader: Reader) -> list[str]:
    hostnames: list[str] = []
    listeners: dict[str, str] = {}
    for index, hostname in enumerate(reader.string_list("gatewayHostnames")):
        path = f"gatewayHostnames[{index}]"
        if reader.check(path, check_hostname, hostname) is None:
            continue
        listener = names.https_listener(hostname)
        if listeners.get(listener) == hostname:
            reader.fail(path, f"{json.dumps(hostname)} is listed twice")
            continue
        if listener in listeners:
            reader.fail(
                path,
                f"{json.dumps(hostname)} and {json.dumps(listeners[listener])} give the same listener name {listener}",
            )
            continue
        listeners[listener] = hostname
        hostnames.append(hostname)
    if len(hostnames) > 63:
        reader.fail("gatewayHostnames", "a Gateway holds at most 64 listeners: 63 hostnames plus the HTTP redirect")
    return hostnames


def read_external_namespaces(reader: Reader, meshed: Iterable[str]) -> tuple[str, ...]:
    """Namespaces that exist outside this program (e.g. Harbor's) and may receive routes."""
    meshed_names = set(meshed)
    seen: dict[str, int] = {}
    for index, name in enumerate(reader.string_list("externalNamespaces")):
        path = f"externalNamespaces[{index}]"
        if reader.check(path, check_namespace, name) is None:
            continue
        if name in seen:
            reader.fail(path, f"{json.dumps(name)} is already listed at externalNamespaces[{seen[name]}]")
        elif name in meshed_names:
            reader.fail(path, f"{json.dumps(name)} is in meshedNamespaces; list it in one of the two")
        elif name in UNROUTABLE_NAMESPACES:
            reader.fail(path, f"{json.dumps(name)} runs the cluster's or the mesh's own components")
        else:
            seen[name] = index
    return tuple(seen)


def read_routes(
    reader: Reader, hostnames: Iterable[str], meshed: Iterable[str], external: Iterable[str]
) -> tuple[Route, ...]:
    listened = set(hostnames)
    known_namespaces = set(meshed) | set(external)
    raw_routes = reader.json_value("routes", [], list, "a list of routes")
    routes: list[Route] = []
    owner: dict[str, int] = {}
    for index, value in enumerate(raw_routes):
        route = reader.model(f"routes[{index}]", Route, value)
        if route is None:
            continue
        if route.hostname not in listened:
            if reader.has_failed("gatewayHostnames"):
                continue
            reader.fail(
                f"routes[{index}].hostname",
                f"{json.dumps(route.hostname)} has no gateway listener; add it to gatewayHostnames",
            )
            continue
        if route.hostname in owner:
            reader.fail(
                f"routes[{index}].hostname",
                f"{json.dumps(route.hostname)} already has a route table at routes[{owner[route.hostname]}]; "
                "put all its rules in one entry",
            )
            continue
        if route.namespace not in known_namespaces and not (
            reader.has_failed("meshedNamespaces") or reader.has_failed("externalNamespaces")
        ):
            reader.fail(
                f"routes[{index}].namespace",
                f"the route for {route.hostname} goes to namespace {json.dumps(route.namespace)}, which is neither "
                "in meshedNamespaces nor in externalNamespaces (namespaces that already exist outside this program)",
            )
        matches: dict[tuple[str, str], int] = {}
        for position, rule in enumerate(route.rules):
            if (rule.match, rule.path) in matches:
                reader.fail(
                    f"routes[{index}].rules[{position}].path",
                    f"{rule.match} {rule.path} is already matched by rules[{matches[(rule.match, rule.path)]}]",
                )
            matches.setdefault((rule.match, rule.path), position)
        owner[route.hostname] = index
        routes.append(route)
    return tuple(routes)


def read_hsts_max_age(reader: Reader) -> int:
    return reader.integer("hstsMaxAgeSeconds", 0, 0, HSTS_MAX_AGE_LIMIT)
