"""The mesh itself: Istio's version and charts, meshed namespaces with their policy, and resources."""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, PlainValidator

from .. import names, versions
from ..resources import COMPONENTS, LEAN_PROFILE, ResourceProfile, mebibytes, millicores
from .checks import NamespaceName, Port, check_namespace
from .reader import Model, Reader, read_url

SCALAR_KEYS = (
    "platform",
    "istioVersion",
    "gatewayApiVersion",
    "gatewayApiCrds",
    "istioChartRepository",
    "istioHub",
    "helmTimeoutSeconds",
    "meshedNamespaces",
    "mtlsMode",
    "verifyMesh",
    "verifyTimeoutSeconds",
    "monitoring",
)
STRUCTURED_KEYS = ("namespaceOptions", "resources")

Platform = Literal["none", "k3s", "k3d", "microk8s", "minikube"]
PLATFORMS: tuple[str, ...] = ("none", "k3s", "k3d", "microk8s", "minikube")
MtlsMode = Literal["STRICT", "PERMISSIVE"]
GatewayApiCrds = Literal["managed", "external"]
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"})


def check_http_method(method: str) -> str:
    if method not in HTTP_METHODS:
        raise ValueError(f"{json.dumps(method)} is not an HTTP method ({', '.join(sorted(HTTP_METHODS))})")
    return method


def check_policy_path(path: str) -> str:
    """An AuthorizationPolicy path: absolute, or with Istio's leading or trailing `*` wildcard."""
    if not path or not path.startswith(("/", "*")) or any(c.isspace() for c in path):
        raise ValueError(f"{json.dumps(path)} is not a request path such as /api, /api/* or */info")
    return path


HttpMethod = Annotated[str, AfterValidator(check_http_method)]
PolicyPath = Annotated[str, AfterValidator(check_policy_path)]


class AuthorizationRule(Model):
    """One ALLOW rule. `from`/`ports` are L4 (ztunnel); `methods`, `paths`, `headers` are L7 (waypoint)."""

    from_: list[NamespaceName] = Field(alias="from", min_length=1)
    ports: list[Port] = Field(default_factory=list)
    methods: list[HttpMethod] = Field(default_factory=list)
    paths: list[PolicyPath] = Field(default_factory=list)
    headers: dict[str, list[str]] = Field(default_factory=dict)

    @property
    def l7_fields(self) -> list[str]:
        return [field for field in ("methods", "paths", "headers") if getattr(self, field)]


@dataclass(frozen=True)
class PlaintextSource:
    """Clients without a mesh identity, by the source address ztunnel sees: the AuthorizationPolicy's
    `ipBlocks`, which ztunnel enforces at L4 (`remoteIpBlocks` it cannot: istiod hands ztunnel only L4 matches
    and counts remoteIpBlocks as an HTTP field, istio@1.28.10:pilot/pkg/serviceregistry/kube/controller/ambient/
    authorization.go and istio@release-1.31:pilot/pkg/serviceregistry/ambient/authorization.go, handleRule)."""

    ip_blocks: tuple[str, ...]


def check_cidr(value: object) -> str:
    if isinstance(value, str):
        try:
            return str(ipaddress.ip_network(value, strict=True))
        except ValueError as error:
            raise ValueError(f"{json.dumps(value)} is not a CIDR block such as 192.168.1.0/24 ({error})") from None
    raise ValueError(f"{json.dumps(value)} is not a CIDR block such as 192.168.1.0/24")


def check_allow_from(value: object) -> str | PlaintextSource:
    """A meshed namespace's name, or `{ipBlocks: [CIDR, ...]}` for plaintext clients."""
    if not isinstance(value, dict | PlaintextSource):
        return check_namespace(value)
    if isinstance(value, PlaintextSource):
        return value
    blocks = value.get("ipBlocks")
    if set(value) != {"ipBlocks"} or not isinstance(blocks, list) or not blocks:
        raise ValueError(
            f"{json.dumps(value)} is neither a meshed namespace nor a plaintext source such as "
            '{"ipBlocks": ["192.168.1.0/24"]}'
        )
    return PlaintextSource(tuple(check_cidr(block) for block in blocks))


AllowFrom = Annotated[str | PlaintextSource, PlainValidator(check_allow_from)]


class NamespaceOptions(Model):
    # true: the stack creates the namespace and owns it (it must not exist yet); false: the namespace exists
    # and the stack only labels it, so that a destroy, an un-enrolment or a renamed resource can never delete
    # it. Unset: created only where the demo app runs (`created_namespaces`).
    create: bool | None = None
    network_policy: Literal["open", "restricted"] = "open"
    mtls: MtlsMode | None = None
    default_deny: bool = True
    allow_from: list[AllowFrom] = Field(default_factory=list)
    waypoint: bool = False
    # Routed traffic goes through the waypoint too, so its L7 rules cover it (docs/security.md).
    ingress_use_waypoint: bool = False
    rules: list[AuthorizationRule] = Field(default_factory=list)

    @property
    def peers(self) -> list[str]:
        """The meshed namespaces in allowFrom."""
        return [entry for entry in self.allow_from if isinstance(entry, str)]

    @property
    def plaintext_blocks(self) -> list[str]:
        """Every CIDR block of allowFrom's plaintext sources, in order, each once."""
        blocks = [block for entry in self.allow_from if isinstance(entry, PlaintextSource) for block in entry.ip_blocks]
        return list(dict.fromkeys(blocks))


@dataclass(frozen=True)
class MeshedNamespace:
    name: str
    options: NamespaceOptions
    # Whether the stack creates this namespace, or only labels one that exists.
    created: bool = False

    def options_args(self) -> dict[str, Any]:
        """The namespace's options as a component argument (NamespaceOptionsArgs), `create` decided."""
        options = self.options.model_dump(exclude_none=True, exclude={"allow_from"})
        options["create"] = self.created
        options["allow_from"] = [
            {"ip_blocks": list(entry.ip_blocks)} if isinstance(entry, PlaintextSource) else {"namespace": entry}
            for entry in self.options.allow_from
        ]
        options["rules"] = [
            {("from_namespaces" if key == "from_" else key): value for key, value in rule.items()}
            for rule in options.get("rules", [])
        ]
        return options


def with_creation(namespaces: tuple[MeshedNamespace, ...], demo_namespace: str | None) -> tuple[MeshedNamespace, ...]:
    """Each namespace with `created` decided: its `create` option, else whether the demo app runs in it (the
    starter's namespace, which an empty cluster does not have)."""
    return tuple(
        replace(
            namespace,
            created=namespace.options.create
            if namespace.options.create is not None
            else namespace.name == demo_namespace,
        )
        for namespace in namespaces
    )


@dataclass(frozen=True)
class IstioSettings:
    platform: Platform
    version: str
    gateway_api_version: str
    gateway_api_crds: GatewayApiCrds
    chart_repository: str
    hub: str
    helm_timeout_seconds: int


def read_istio(reader: Reader) -> IstioSettings:
    platform = reader.choice("platform", "none", PLATFORMS)
    istio_version = read_version(reader, "istioVersion", versions.DEFAULT_ISTIO_VERSION, prefix="")
    gateway_api_version = read_version(reader, "gatewayApiVersion", versions.DEFAULT_GATEWAY_API_VERSION, prefix="v")
    if istio_version and gateway_api_version:
        istio = versions.parse_version(istio_version)
        reason = versions.gateway_api_incompatibility(
            istio,  # type: ignore[arg-type]
            versions.parse_version(gateway_api_version),  # type: ignore[arg-type]
        )
        # An Istio minor missing from the compatibility table is the fault of istioVersion, not of the CRDs.
        known_minor = istio is not None and istio[:2] in versions.SUPPORT
        blamed, value = ("gatewayApiVersion", gateway_api_version) if known_minor else ("istioVersion", istio_version)
        if reason:
            reader.fail(blamed, f"{json.dumps(value)} cannot be used: {reason}")
    return IstioSettings(
        platform=platform,
        version=istio_version,
        gateway_api_version=gateway_api_version,
        # managed: this stack installs the CRDs; external: a distribution or another chart owns them.
        gateway_api_crds=reader.choice("gatewayApiCrds", "managed", ("managed", "external")),
        chart_repository=read_url(reader, "istioChartRepository", versions.DEFAULT_ISTIO_CHART_REPOSITORY),
        hub=read_image_hub(reader, "istioHub", versions.DEFAULT_ISTIO_HUB),
        helm_timeout_seconds=reader.integer("helmTimeoutSeconds", 900, 60, 7200),
    )


def read_version(reader: Reader, name: str, default: str, prefix: str) -> str:
    """A pinned release version (`prefix`: `v` for Gateway API, none for Istio); "" when it is not one."""
    value = reader.text(name, default)
    if not value.startswith(prefix) or versions.parse_version(value) is None or (not prefix and value[:1] == "v"):
        example = prefix + "1.2.3"
        reader.fail(name, f"{json.dumps(value)} is not a pinned release version such as {example}")
        return ""
    return value


def read_image_hub(reader: Reader, name: str, default: str) -> str:
    value = reader.text(name, default)
    if not re.fullmatch(r"[a-z0-9.\-:]+(/[a-z0-9._\-]+)*", value):
        reader.fail(name, f"{json.dumps(value)} is not an image registry path such as docker.io/istio")
    return value


def read_meshed_namespaces(reader: Reader) -> tuple[MeshedNamespace, ...]:
    names_seen: dict[str, int] = {}
    for index, name in enumerate(reader.string_list("meshedNamespaces")):
        path = f"meshedNamespaces[{index}]"
        if reader.check(path, check_namespace, name) is None:
            continue
        if name in names.RESERVED_NAMESPACES:
            reader.fail(
                path, f"{json.dumps(name)} is managed by this program or by Kubernetes and cannot be meshed here"
            )
        elif name in names_seen:
            reader.fail(path, f"{json.dumps(name)} is already listed at meshedNamespaces[{names_seen[name]}]")
        else:
            names_seen[name] = index

    raw_options = reader.json_value("namespaceOptions", {}, dict, "a map from namespace to its options")
    options: dict[str, NamespaceOptions] = {}
    for name, value in raw_options.items():
        path = f"namespaceOptions.{name}"
        if name not in names_seen:
            if not reader.has_failed("meshedNamespaces"):
                reader.fail(path, f"{json.dumps(name)} is not in meshedNamespaces")
            continue
        parsed = reader.model(path, NamespaceOptions, value)
        if parsed is not None:
            options[name] = parsed
    namespaces = tuple(MeshedNamespace(name, options.get(name, NamespaceOptions())) for name in names_seen)
    _check_peers(reader, namespaces)
    return namespaces


def _check_peers(reader: Reader, namespaces: tuple[MeshedNamespace, ...]) -> None:
    meshed = {namespace.name for namespace in namespaces}
    # A peer may be one of the entries of meshedNamespaces that could not be read.
    peers_known = not reader.has_failed("meshedNamespaces")
    for namespace in namespaces:
        path = f"namespaceOptions.{namespace.name}"
        for index, peer in enumerate(namespace.options.allow_from):
            if isinstance(peer, str) and peer not in meshed and peers_known:
                reader.fail(
                    f"{path}.allowFrom[{index}]",
                    f"{json.dumps(peer)} is not a meshed namespace; only meshed peers carry an mTLS identity",
                )
        for index, rule in enumerate(namespace.options.rules):
            for position, peer in enumerate(rule.from_):
                if peer not in meshed and peers_known:
                    reader.fail(
                        f"{path}.rules[{index}].from[{position}]", f"{json.dumps(peer)} is not a meshed namespace"
                    )
            if rule.l7_fields and not namespace.options.waypoint:
                reader.fail(
                    f"{path}.rules[{index}]",
                    f"uses L7 fields ({', '.join(rule.l7_fields)}) but the namespace has no waypoint; without one "
                    "ztunnel drops all traffic such a rule matches. Set waypoint: true or remove them",
                )
        if namespace.options.ingress_use_waypoint and not namespace.options.waypoint:
            reader.fail(
                f"{path}.ingressUseWaypoint",
                "sends routed traffic through the namespace's waypoint, but it has none; set waypoint: true",
            )
        if not namespace.options.default_deny and (namespace.options.allow_from or namespace.options.rules):
            reader.fail(
                f"{path}.defaultDeny",
                "is false, so nothing is denied and allowFrom/rules have no effect; set it to true or drop them",
            )


def check_plaintext_sources(reader: Reader, namespaces: tuple[MeshedNamespace, ...], mesh_mtls_mode: str) -> None:
    """PERMISSIVE lets plaintext through only where the namespace's ALLOW policy has a rule for it: its
    namespace and principal sources never match a connection without an mTLS identity (Istio security
    bulletin ISTIO-SECURITY-2021-004), so with defaultDeny a plaintext client needs an ipBlocks source."""
    inherited = []
    for namespace in namespaces:
        options = namespace.options
        mode = options.mtls or mesh_mtls_mode
        if mode == "STRICT":
            for index, entry in enumerate(options.allow_from):
                if isinstance(entry, PlaintextSource):
                    reader.fail(
                        f"namespaceOptions.{namespace.name}.allowFrom[{index}]",
                        "admits plaintext clients, but the namespace's mTLS mode is STRICT, which refuses them "
                        "first; set mtls: PERMISSIVE for the namespace or drop the entry",
                    )
        if mode != "PERMISSIVE" or not options.default_deny or options.plaintext_blocks:
            continue
        if options.mtls:
            reader.fail(
                f"namespaceOptions.{namespace.name}.mtls",
                "is PERMISSIVE, but with defaultDeny the namespace's policy still denies every plaintext client; "
                'add the clients\' addresses to allowFrom, e.g. {"ipBlocks": ["192.168.1.0/24"]}, or set '
                "defaultDeny: false",
            )
        else:
            inherited.append(namespace.name)
    if inherited:
        reader.fail(
            "mtlsMode",
            f"is PERMISSIVE, but with defaultDeny {', '.join(inherited)} still deny every plaintext client; give "
            'each an allowFrom entry with the clients\' addresses, e.g. {"ipBlocks": ["192.168.1.0/24"]}, or '
            "mtls: STRICT or defaultDeny: false in its namespaceOptions",
        )


def read_resources(reader: Reader) -> dict[str, ResourceProfile]:
    raw = reader.json_value("resources", {}, dict, "a map from component to requests/limits")
    merged = dict(LEAN_PROFILE)
    for component, value in raw.items():
        path = f"resources.{component}"
        if component not in COMPONENTS:
            reader.fail(path, f"is not a component with tunable resources ({', '.join(COMPONENTS)})")
            continue
        override = reader.model(path, ResourceProfile, value)
        if override is None:
            continue
        profile = merged[component].overridden_by(override)
        for kind, parse in (("cpu", millicores), ("memory", mebibytes)):
            request, limit = getattr(profile.requests, kind), getattr(profile.limits, kind)
            if request and limit and parse(request) > parse(limit):
                reader.fail(path, f"requests {kind} {request} is more than its limit {limit}")
        merged[component] = profile
    return merged
