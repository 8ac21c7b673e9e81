"""Typed stack settings: read once from the stack's config and validated before any resource exists.

Every problem is reported as `homelab-mesh:<key>[index].<field>: <what is wrong>`, all of them in one
`ConfigError`, which the Pulumi CLI prints without a stack trace.
"""

from __future__ import annotations

import difflib
import ipaddress
import itertools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from . import names, versions
from .resources import LEAN_PROFILE, Component, ResourceProfile, mebibytes, millicores

Platform = Literal["none", "k3s", "k3d", "microk8s", "minikube"]
PLATFORMS: tuple[str, ...] = ("none", "k3s", "k3d", "microk8s", "minikube")
TlsMode = Literal["private-ca", "provided"]
MtlsMode = Literal["STRICT", "PERMISSIVE"]

RFC1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
HTTP_PATH = re.compile(r"^/[A-Za-z0-9/\-._~%!$&'()*+,;=:@]*$")
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"})


class ConfigError(pulumi.RunError):
    """Bad stack configuration; the message names every offending key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        heading = "invalid stack configuration" if len(problems) > 1 else "invalid stack configuration:"
        super().__init__(heading + ("\n  " if len(problems) > 1 else " ") + "\n  ".join(problems))


# --- value checks shared by scalar keys and the structured models -------------------------------------------


def check_namespace(name: object) -> str:
    if not isinstance(name, str) or len(name) > 63 or not RFC1123_LABEL.match(name):
        raise ValueError(
            f"{json.dumps(name)} is not a valid namespace name "
            "(RFC 1123 label: lower-case letters, digits and '-', at most 63 characters)"
        )
    return name


def check_object_name(name: object, what: str) -> str:
    if not isinstance(name, str) or len(name) > 63 or not RFC1123_LABEL.match(name):
        raise ValueError(f"{json.dumps(name)} is not a valid {what} name (RFC 1123 label)")
    return name


def check_hostname(hostname: object) -> str:
    """A Gateway API listener hostname: a lower-case DNS name, optionally `*.`-prefixed, never an IP."""
    text = hostname if isinstance(hostname, str) else ""
    labels = text[2:].split(".") if text.startswith("*.") else text.split(".")
    valid = (
        0 < len(text) <= 253
        and len(labels) >= 2
        and all(len(label) <= 63 and RFC1123_LABEL.match(label) for label in labels)
        and not _is_ip(text)
    )
    if not valid:
        raise ValueError(
            f"{json.dumps(hostname)} is not a valid hostname "
            "(lower-case DNS labels separated by dots, e.g. demo-app1.local; an optional leading '*.')"
        )
    return text


def check_port(port: object) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"{json.dumps(port)} is not a valid port (a whole number from 1 to 65535)")
    return port


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


IpRange = tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ipaddress.IPv4Address | ipaddress.IPv6Address]


def parse_address_range(text: object) -> IpRange:
    """A MetalLB pool entry, `192.168.1.240/28` or `192.168.1.240-192.168.1.250` (IPv4 or IPv6)."""
    if not isinstance(text, str):
        raise ValueError(f"{json.dumps(text)} is not an address range (a CIDR or 'first-last')")
    try:
        if "/" in text:
            network = ipaddress.ip_network(text, strict=True)
            return network[0], network[-1]
        first_text, separator, last_text = text.partition("-")
        if not separator:
            raise ValueError
        first, last = ipaddress.ip_address(first_text.strip()), ipaddress.ip_address(last_text.strip())
    except ValueError:
        raise ValueError(
            f"{json.dumps(text)} is not an address range (a CIDR such as 192.168.1.240/28, "
            "or 'first-last' such as 192.168.1.240-192.168.1.250)"
        ) from None
    if first.version != last.version:
        raise ValueError(f"{json.dumps(text)} mixes IPv4 and IPv6 addresses")
    if first > last:
        raise ValueError(f"{json.dumps(text)} starts after it ends")
    return first, last


def check_address_range(text: str) -> str:
    parse_address_range(text)
    return text


def check_http_method(method: str) -> str:
    if method not in HTTP_METHODS:
        raise ValueError(f"{json.dumps(method)} is not an HTTP method ({', '.join(sorted(HTTP_METHODS))})")
    return method


def check_policy_path(path: str) -> str:
    """An AuthorizationPolicy path: absolute, or with Istio's leading or trailing `*` wildcard."""
    if not path or not path.startswith(("/", "*")) or any(c.isspace() for c in path):
        raise ValueError(f"{json.dumps(path)} is not a request path such as /api, /api/* or */info")
    return path


# List items are checked one by one so that a problem names its item: `allowFrom[1]`, not `allowFrom`.
NamespaceName = Annotated[str, AfterValidator(check_namespace)]
AddressRange = Annotated[str, AfterValidator(check_address_range)]
HttpMethod = Annotated[str, AfterValidator(check_http_method)]
Port = Annotated[int, BeforeValidator(check_port)]
PolicyPath = Annotated[str, AfterValidator(check_policy_path)]


# --- structured keys (YAML objects in the stack file) ----------------------------------------------------------


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, alias_generator=to_camel)


class AddressPool(Model):
    name: str
    addresses: list[AddressRange] = Field(min_length=1)
    auto_assign: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_object_name(value, "address pool")

    def ranges(self) -> list[IpRange]:
        return [parse_address_range(address) for address in self.addresses]


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
        return check_namespace(value)

    @property
    def name(self) -> str:
        return names.hostname_slug(self.hostname)


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


class NamespaceOptions(Model):
    network_policy: Literal["open", "restricted"] = "open"
    mtls: MtlsMode | None = None
    default_deny: bool = True
    allow_from: list[NamespaceName] = Field(default_factory=list)
    waypoint: bool = False
    rules: list[AuthorizationRule] = Field(default_factory=list)


# --- the settings the components receive ----------------------------------------------------------------------


@dataclass(frozen=True)
class MeshedNamespace:
    name: str
    options: NamespaceOptions


@dataclass(frozen=True)
class TlsSettings:
    mode: TlsMode
    certificate_pem: pulumi.Output[str] | None = None
    private_key_pem: pulumi.Output[str] | None = None


@dataclass(frozen=True)
class MetallbSettings:
    version: str
    chart_repository: str
    pools: tuple[AddressPool, ...]


@dataclass(frozen=True)
class Settings:
    project: str
    stack: str
    kube_context: str | None
    platform: Platform
    istio_version: str
    gateway_api_version: str
    istio_chart_repository: str
    istio_hub: str
    helm_timeout_seconds: int
    metallb: MetallbSettings | None
    meshed_namespaces: tuple[MeshedNamespace, ...]
    gateway_hostnames: tuple[str, ...]
    gateway_address: str | None
    tls: TlsSettings
    routes: tuple[Route, ...]
    mtls_mode: MtlsMode
    verify_mesh: bool
    verify_timeout_seconds: int
    resources: Mapping[str, ResourceProfile]


# --- reading raw config ---------------------------------------------------------------------------------------

T = TypeVar("T")

SCALAR_KEYS = (
    "kubeContext",
    "platform",
    "istioVersion",
    "gatewayApiVersion",
    "istioChartRepository",
    "istioHub",
    "helmTimeoutSeconds",
    "metallbEnabled",
    "metallbVersion",
    "metallbChartRepository",
    "meshedNamespaces",
    "gatewayHostnames",
    "gatewayAddress",
    "tlsMode",
    "mtlsMode",
    "verifyMesh",
    "verifyTimeoutSeconds",
)
STRUCTURED_KEYS = ("addressPools", "routes", "namespaceOptions", "resources")
SECRET_KEYS = ("tlsCertificate", "tlsPrivateKey")
KNOWN_KEYS = frozenset(SCALAR_KEYS + STRUCTURED_KEYS + SECRET_KEYS)


class _Reader:
    """Reads raw config values of one project and collects every problem found."""

    def __init__(self, project: str, raw: Callable[[str], str | None]) -> None:
        self.project = project
        self.raw = raw
        self.problems: list[str] = []

    def key(self, name: str) -> str:
        return f"{self.project}:{name}"

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{self.key(path)}: {message}")

    def text(self, name: str, default: str) -> str:
        value = self.raw(self.key(name))
        return default if value is None else value

    def json_value(self, name: str, default: T, expected: type, noun: str) -> T | Any:
        value = self.raw(self.key(name))
        if value is None:
            return default
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = value
        if not isinstance(parsed, expected):
            self.fail(name, f"must be {noun}, got {json.dumps(parsed)}")
            return default
        return parsed

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(self.key(name))
        if value is None:
            return default
        if value.lower() not in ("true", "false"):
            self.fail(name, f"must be true or false, got {json.dumps(value)}")
            return default
        return value.lower() == "true"

    def integer(self, name: str, default: int, lowest: int, highest: int) -> int:
        value = self.raw(self.key(name))
        if value is None:
            return default
        if not re.fullmatch(r"\d+", value.strip()) or not lowest <= int(value) <= highest:
            self.fail(name, f"must be a whole number from {lowest} to {highest}, got {json.dumps(value)}")
            return default
        return int(value)

    def choice(self, name: str, default: str, choices: Iterable[str]) -> Any:
        value = self.text(name, default)
        options = tuple(choices)
        if value not in options:
            self.fail(name, f"{json.dumps(value)} is not one of {', '.join(options)}")
            return default
        return value

    def check(self, path: str, check: Callable[[Any], T], value: Any) -> T | None:
        try:
            return check(value)
        except ValueError as error:
            self.fail(path, str(error))
            return None

    def string_list(self, name: str) -> list[str]:
        items = self.json_value(name, [], list, "a list of strings")
        for index, item in enumerate(items):
            if not isinstance(item, str):
                self.fail(f"{name}[{index}]", f"must be a string, got {json.dumps(item)}")
        return [item for item in items if isinstance(item, str)]

    def model(self, path: str, model: type[BaseModel], value: Any) -> Any:
        try:
            return model.model_validate(value)
        except ValidationError as error:
            for detail in error.errors(include_url=False):
                self.fail(path + _location(detail["loc"]), _describe(detail))
            return None


def _location(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def _describe(detail: Mapping[str, Any]) -> str:
    kind = detail["type"]
    if kind == "value_error":
        return str(detail["ctx"]["error"])
    if kind == "extra_forbidden":
        return "is not a known setting"
    if kind == "missing":
        return "is required"
    if kind == "literal_error":
        return f"{json.dumps(detail['input'])} is not one of {detail['ctx']['expected']}"
    return f"{detail['msg'][0].lower()}{detail['msg'][1:]}, got {json.dumps(detail['input'])}"


# --- loading --------------------------------------------------------------------------------------------------


def configured_keys() -> set[str]:
    """Every config key handed to this program (by the CLI, or by the test engine)."""
    return set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())


def load_settings(project: str | None = None, stack: str | None = None) -> Settings:
    """Read and validate the whole stack config; raise ConfigError naming every bad key."""
    project = project or pulumi.get_project()
    stack = stack or pulumi.get_stack()
    return parse_settings(project, stack, runtime_config.get_config, configured_keys())


def parse_settings(project: str, stack: str, raw: Callable[[str], str | None], present_keys: Iterable[str]) -> Settings:
    reader = _Reader(project, raw)
    _check_unknown_keys(reader, present_keys)

    platform = reader.choice("platform", "none", PLATFORMS)
    istio_version = _version(reader, "istioVersion", versions.DEFAULT_ISTIO_VERSION, prefix="")
    gateway_api_version = _version(reader, "gatewayApiVersion", versions.DEFAULT_GATEWAY_API_VERSION, prefix="v")
    if istio_version and gateway_api_version:
        istio = versions.parse_version(istio_version)
        reason = versions.gateway_api_incompatibility(
            istio,  # type: ignore[arg-type]
            versions.parse_version(gateway_api_version),  # type: ignore[arg-type]
        )
        # An Istio minor missing from the compatibility table is the fault of istioVersion, not of the CRDs.
        known_minor = istio is not None and istio[:2] in versions.GATEWAY_API_SUPPORT
        blamed, value = ("gatewayApiVersion", gateway_api_version) if known_minor else ("istioVersion", istio_version)
        if reason:
            reader.fail(blamed, f"{json.dumps(value)} cannot be used: {reason}")
    istio_chart_repository = _url(reader, "istioChartRepository", versions.DEFAULT_ISTIO_CHART_REPOSITORY)
    istio_hub = _image_hub(reader, "istioHub", versions.DEFAULT_ISTIO_HUB)
    helm_timeout = reader.integer("helmTimeoutSeconds", 900, 60, 7200)

    metallb = _metallb(reader)
    hostnames = _gateway_hostnames(reader)
    gateway_address = _gateway_address(reader, metallb)
    namespaces = _meshed_namespaces(reader)
    routes = _routes(reader, hostnames)
    _check_namespace_references(reader, namespaces, routes)
    tls = _tls(reader)
    mtls_mode = reader.choice("mtlsMode", "STRICT", ("STRICT", "PERMISSIVE"))
    verify_mesh = reader.boolean("verifyMesh", True)
    verify_timeout = reader.integer("verifyTimeoutSeconds", 300, 30, 3600)
    resources = _resources(reader)
    kube_context = reader.text("kubeContext", "").strip() or None

    if reader.problems:
        raise ConfigError(reader.problems)
    return Settings(
        project=project,
        stack=stack,
        kube_context=kube_context,
        platform=platform,
        istio_version=istio_version,
        gateway_api_version=gateway_api_version,
        istio_chart_repository=istio_chart_repository,
        istio_hub=istio_hub,
        helm_timeout_seconds=helm_timeout,
        metallb=metallb,
        meshed_namespaces=namespaces,
        gateway_hostnames=tuple(hostnames),
        gateway_address=gateway_address,
        tls=tls,
        routes=routes,
        mtls_mode=mtls_mode,
        verify_mesh=verify_mesh,
        verify_timeout_seconds=verify_timeout,
        resources=resources,
    )


def _check_unknown_keys(reader: _Reader, present_keys: Iterable[str]) -> None:
    prefix = reader.key("")
    for full_key in sorted(present_keys):
        if not full_key.startswith(prefix):
            continue
        name = full_key[len(prefix) :]
        if name not in KNOWN_KEYS:
            guess = difflib.get_close_matches(name, sorted(KNOWN_KEYS), n=1)
            hint = f" (did you mean {guess[0]}?)" if guess else ""
            reader.fail(name, f"is not a setting of this project{hint}")


def _version(reader: _Reader, name: str, default: str, prefix: str) -> str:
    value = reader.text(name, default)
    if not value.startswith(prefix) or versions.parse_version(value) is None or (not prefix and value[:1] == "v"):
        example = prefix + "1.2.3"
        reader.fail(name, f"{json.dumps(value)} is not a pinned release version such as {example}")
        return ""
    return value


def _url(reader: _Reader, name: str, default: str) -> str:
    value = reader.text(name, default)
    if not re.fullmatch(r"(https://|oci://)[^\s/]+(/[^\s]*)?", value):
        reader.fail(name, f"{json.dumps(value)} is not an https:// or oci:// chart repository URL")
    return value.rstrip("/")


def _image_hub(reader: _Reader, name: str, default: str) -> str:
    value = reader.text(name, default)
    if not re.fullmatch(r"[a-z0-9.\-:]+(/[a-z0-9._\-]+)*", value):
        reader.fail(name, f"{json.dumps(value)} is not an image registry path such as docker.io/istio")
    return value


def _metallb(reader: _Reader) -> MetallbSettings | None:
    enabled = reader.boolean("metallbEnabled", True)
    version = reader.text("metallbVersion", versions.DEFAULT_METALLB_VERSION)
    if versions.parse_version(version) is None or version.startswith("v"):
        reader.fail("metallbVersion", f"{json.dumps(version)} is not a pinned chart version such as 0.15.3")
    repository = _url(reader, "metallbChartRepository", versions.DEFAULT_METALLB_CHART_REPOSITORY)
    raw_pools = reader.json_value("addressPools", [], list, "a list of address pools")
    if not enabled:
        if raw_pools:
            reader.fail("addressPools", "is set but metallbEnabled is false; remove one of them")
        return None
    if not raw_pools:
        reader.fail("addressPools", "needs at least one pool while metallbEnabled is true (LAN addresses for MetalLB)")
    pools = [reader.model(f"addressPools[{index}]", AddressPool, pool) for index, pool in enumerate(raw_pools)]
    _check_pools(reader, pools)
    return MetallbSettings(version=version, chart_repository=repository, pools=tuple(p for p in pools if p))


def _check_pools(reader: _Reader, pools: list[AddressPool | None]) -> None:
    seen_names: dict[str, int] = {}
    spans: list[tuple[IpRange, str]] = []
    for index, pool in enumerate(pools):
        if pool is None:
            continue
        if pool.name in seen_names:
            reader.fail(
                f"addressPools[{index}].name",
                f"{json.dumps(pool.name)} is already used by addressPools[{seen_names[pool.name]}]",
            )
        seen_names.setdefault(pool.name, index)
        for position, span in enumerate(pool.ranges()):
            spans.append((span, f"addressPools[{index}].addresses[{position}]"))
    # Sorting by start address makes the overlap check linear in the number of ranges after the sort.
    spans.sort(key=lambda item: (item[0][0].version, item[0][0]))
    for (previous, previous_path), (current, current_path) in itertools.pairwise(spans):
        if previous[0].version == current[0].version and current[0] <= previous[1]:
            reader.fail(current_path, f"overlaps {previous_path} ({previous[0]}-{previous[1]})")


def _gateway_hostnames(reader: _Reader) -> list[str]:
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


def _gateway_address(reader: _Reader, metallb: MetallbSettings | None) -> str | None:
    value = reader.text("gatewayAddress", "").strip()
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        reader.fail("gatewayAddress", f"{json.dumps(value)} is not an IP address")
        return None
    if metallb is not None and metallb.pools:
        inside = any(
            first <= address <= last
            for pool in metallb.pools
            for first, last in pool.ranges()
            if first.version == address.version
        )
        if not inside:
            reader.fail("gatewayAddress", f"{value} is not inside any of addressPools; MetalLB could never assign it")
    return str(address)


def _meshed_namespaces(reader: _Reader) -> tuple[MeshedNamespace, ...]:
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
            reader.fail(path, f"{json.dumps(name)} is not in meshedNamespaces")
            continue
        parsed = reader.model(path, NamespaceOptions, value)
        if parsed is not None:
            options[name] = parsed
    return tuple(MeshedNamespace(name, options.get(name, NamespaceOptions())) for name in names_seen)


def _routes(reader: _Reader, hostnames: Iterable[str]) -> tuple[Route, ...]:
    listened = set(hostnames)
    raw_routes = reader.json_value("routes", [], list, "a list of routes")
    routes: list[Route] = []
    owner: dict[str, int] = {}
    for index, value in enumerate(raw_routes):
        route = reader.model(f"routes[{index}]", Route, value)
        if route is None:
            continue
        if route.hostname not in listened:
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


def _check_namespace_references(
    reader: _Reader, namespaces: tuple[MeshedNamespace, ...], routes: tuple[Route, ...]
) -> None:
    meshed = {namespace.name for namespace in namespaces}
    for namespace in namespaces:
        path = f"namespaceOptions.{namespace.name}"
        for index, peer in enumerate(namespace.options.allow_from):
            if peer not in meshed:
                reader.fail(
                    f"{path}.allowFrom[{index}]",
                    f"{json.dumps(peer)} is not a meshed namespace; only meshed peers carry an mTLS identity",
                )
        for index, rule in enumerate(namespace.options.rules):
            for position, peer in enumerate(rule.from_):
                if peer not in meshed:
                    reader.fail(
                        f"{path}.rules[{index}].from[{position}]", f"{json.dumps(peer)} is not a meshed namespace"
                    )
            if rule.l7_fields and not namespace.options.waypoint:
                reader.fail(
                    f"{path}.rules[{index}]",
                    f"uses L7 fields ({', '.join(rule.l7_fields)}) but the namespace has no waypoint; without one "
                    "ztunnel drops all traffic such a rule matches. Set waypoint: true or remove them",
                )
        if not namespace.options.default_deny and (namespace.options.allow_from or namespace.options.rules):
            reader.fail(
                f"{path}.defaultDeny",
                "is false, so nothing is denied and allowFrom/rules have no effect; set it to true or drop them",
            )


def _tls(reader: _Reader) -> TlsSettings:
    mode = reader.choice("tlsMode", "private-ca", ("private-ca", "provided"))
    certificate = reader.raw(reader.key("tlsCertificate"))
    private_key = reader.raw(reader.key("tlsPrivateKey"))
    if mode == "private-ca":
        for name, value in (("tlsCertificate", certificate), ("tlsPrivateKey", private_key)):
            if value is not None:
                reader.fail(name, "is only used with tlsMode: provided")
        return TlsSettings(mode="private-ca")
    for name, value, marker in (
        ("tlsCertificate", certificate, "CERTIFICATE"),
        ("tlsPrivateKey", private_key, "PRIVATE KEY"),
    ):
        if not value:
            reader.fail(
                name, f"is required with tlsMode: provided; set it with `pulumi config set --secret {name} < file.pem`"
            )
        elif "-----BEGIN " not in value or marker not in value:
            # Never echo the value: it may be key material.
            reader.fail(name, f"is not a PEM {marker.lower()} (no '-----BEGIN ... {marker}-----' block)")
    if certificate and private_key:
        return TlsSettings(
            mode="provided",
            certificate_pem=pulumi.Output.secret(certificate),
            private_key_pem=pulumi.Output.secret(private_key),
        )
    return TlsSettings(mode="provided")


def _resources(reader: _Reader) -> dict[str, ResourceProfile]:
    raw = reader.json_value("resources", {}, dict, "a map from component to requests/limits")
    merged = dict(LEAN_PROFILE)
    components: tuple[Component, ...] = ("istiod", "cni", "ztunnel", "gateway", "waypoint")
    for component, value in raw.items():
        path = f"resources.{component}"
        if component not in components:
            reader.fail(path, f"is not a component with tunable resources ({', '.join(components)})")
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
