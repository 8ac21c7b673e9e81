"""Typed stack settings: read once from the stack's config and validated before any resource exists.

Every problem is reported as `homelab-mesh:<key>[index].<field>: <what is wrong>`, all of them in one
`ConfigError`, which the Pulumi CLI prints without a stack trace. One module per concern: `mesh` (Istio,
namespaces, resources), `network` (MetalLB, addresses), `routes` (hostnames, routes), `tls`, `demo`
(the starter's echo app).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

# The SDK's public runtime API (pulumi.runtime.__all__), not the private module pulumi.runtime.config. Listing
# the keys a program was given goes through get_config_env: the CLI's Python language host hands the stack's
# whole config to the program as the environment variable PULUMI_CONFIG (pulumi/pulumi v3.259.0,
# sdk/python/cmd/pulumi-language-python/main.go, `pulumiConfigVar`). The SDK has no public call that lists keys
# set in-process (set_all_config, the ContextVar behind it), so the mock engine sets PULUMI_CONFIG as the CLI does.
from pulumi.runtime import get_config, get_config_env, is_config_secret

from .. import versions
from ..images import mirrored
from . import adoption, charts, demo, mesh, network, routes, tls
from .adoption import AdoptionSettings
from .checks import check_hostname, check_namespace, check_port
from .demo import DemoAppSettings
from .mesh import AuthorizationRule, MeshedNamespace, MtlsMode, NamespaceOptions, Platform
from .network import AddressPool, MetallbSettings, parse_address_range
from .reader import ConfigError, Reader
from .routes import Route, RouteRule
from .stack_file import StackFileError, load_stack_file
from .tls import TlsSettings

__all__ = [
    "KNOWN_KEYS",
    "SCALAR_KEYS",
    "AddressPool",
    "AdoptionSettings",
    "AuthorizationRule",
    "ConfigError",
    "DemoAppSettings",
    "MeshedNamespace",
    "MetallbSettings",
    "NamespaceOptions",
    "Route",
    "RouteRule",
    "Settings",
    "TlsSettings",
    "check_hostname",
    "check_namespace",
    "check_port",
    "load_settings",
    "parse_address_range",
    "parse_settings",
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]

SCALAR_KEYS = (
    "kubeContext",
    "clusterIdentifier",
    *charts.SCALAR_KEYS,
    *mesh.SCALAR_KEYS,
    *network.SCALAR_KEYS,
    *routes.SCALAR_KEYS,
    *tls.SCALAR_KEYS,
    *demo.SCALAR_KEYS,
    *adoption.SCALAR_KEYS,
)
STRUCTURED_KEYS = (
    *charts.STRUCTURED_KEYS,
    *mesh.STRUCTURED_KEYS,
    *network.STRUCTURED_KEYS,
    *routes.STRUCTURED_KEYS,
    *tls.STRUCTURED_KEYS,
)
SECRET_KEYS = tls.SECRET_KEYS
KNOWN_KEYS = frozenset(SCALAR_KEYS + STRUCTURED_KEYS + SECRET_KEYS)

# kubeconfig context names as kubectl, k3d, kind and the cloud CLIs write them (`admin@k3s`, `arn:.../x`).
KUBE_CONTEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,252}")


@dataclass(frozen=True)
class Settings:
    project: str
    stack: str
    kube_context: str | None
    cluster_identifier: str
    # The stack's `kubernetes:kubeconfig` (path or content), handed to the provider and the scripts alike.
    kubeconfig: str | None
    platform: Platform
    istio_version: str
    gateway_api_version: str
    gateway_api_crds: mesh.GatewayApiCrds
    istio_chart_repository: str
    istio_hub: str
    helm_timeout_seconds: int
    metallb: MetallbSettings | None
    meshed_namespaces: tuple[MeshedNamespace, ...]
    external_namespaces: tuple[str, ...]
    gateway_hostnames: tuple[str, ...]
    gateway_address: str | None
    gateway_replicas: int
    tls: TlsSettings
    routes: tuple[Route, ...]
    hsts_max_age_seconds: int
    mtls_mode: MtlsMode
    verify_mesh: bool
    verify_timeout_seconds: int
    verify_front_door: bool
    resources: Mapping[str, mesh.ResourceProfile]
    # Extra values per Helm release, merged last; and the mirror every image is pulled through.
    helm_values: Mapping[str, Mapping[str, Any]]
    image_registry: str | None
    demo_app: DemoAppSettings | None
    monitoring: bool
    adoption: AdoptionSettings


def configured_keys() -> set[str]:
    """Every config key handed to this program: the CLI passes the stack's config as PULUMI_CONFIG
    (pulumi-language-python), and tools/mock_engine.py does the same."""
    return set(get_config_env())


def load_settings(project: str | None = None, stack: str | None = None) -> Settings:
    """Read and validate the whole stack config; raise ConfigError naming every bad key."""
    project = project or pulumi.get_project()
    stack = stack or pulumi.get_stack()
    stack_file = PROJECT_ROOT / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        try:
            load_stack_file(stack_file)
        except StackFileError as error:
            raise ConfigError([str(error)]) from None
    # The CLI hands the program its secret config keys (PULUMI_CONFIG_SECRET_KEYS, read into the runtime by
    # the SDK's pulumi-language-python-exec); the test engine passes them to set_all_config.
    return parse_settings(project, stack, get_config, configured_keys(), is_secret=is_config_secret)


def _never_secret(_key: str) -> bool:
    return False


def parse_settings(
    project: str,
    stack: str,
    raw: Callable[[str], str | None],
    present_keys: Iterable[str],
    is_secret: Callable[[str], bool] = _never_secret,
) -> Settings:
    """`is_secret(full_key)`: whether a key is stored as a Pulumi secret (keys that must be are refused otherwise)."""
    reader = Reader(project, raw)
    _check_unknown_keys(reader, present_keys)

    kube_context = _kube_context(reader)
    cluster_identifier = _cluster_identifier(reader)
    kubeconfig = _stack_kubeconfig(reader, is_secret)
    istio = mesh.read_istio(reader)
    metallb = network.read_metallb(reader)
    hostnames = routes.read_gateway_hostnames(reader)
    gateway_address, metallb = network.read_gateway_address(reader, metallb)
    gateway_replicas = network.read_gateway_replicas(reader)
    namespaces = mesh.read_meshed_namespaces(reader)
    meshed_names = [namespace.name for namespace in namespaces]
    external = routes.read_external_namespaces(reader, meshed_names)
    route_table = routes.read_routes(reader, hostnames, meshed_names, external)
    routed = {route.namespace for route in route_table}
    for namespace in namespaces:
        if namespace.options.ingress_use_waypoint and namespace.name not in routed and not reader.has_failed("routes"):
            reader.fail(
                f"namespaceOptions.{namespace.name}.ingressUseWaypoint",
                "is true, but no route leads to the namespace: the ingress gateway sends it no traffic",
            )
    hsts_max_age = routes.read_hsts_max_age(reader)
    tls_settings = tls.read_tls(reader, hostnames, is_secret)
    mtls_mode = reader.choice("mtlsMode", "STRICT", ("STRICT", "PERMISSIVE"))
    mesh.check_plaintext_sources(reader, namespaces, mtls_mode)
    verify_mesh = reader.boolean("verifyMesh", True)
    verify_timeout = reader.integer("verifyTimeoutSeconds", 300, 30, 3600)
    verify_front_door = reader.boolean("verifyFrontDoor", True)
    if verify_front_door:
        tls.check_front_door_trust(reader, tls_settings)
    resources = mesh.read_resources(reader)
    helm_values = charts.read_helm_values(reader)
    image_registry = charts.read_image_registry(reader)
    istio_hub = istio.hub
    if image_registry:
        if reader.differs_from("istioHub", versions.DEFAULT_ISTIO_HUB):
            reader.fail("istioHub", "is set together with imageRegistry, which already covers Istio's images; keep one")
        istio_hub = mirrored(versions.DEFAULT_ISTIO_HUB, image_registry)
    demo_app = demo.read_demo_app(reader, meshed_names, route_table)
    namespaces = mesh.with_creation(namespaces, demo_app.namespace if demo_app else None)
    charts.check_releases_installed(
        reader,
        helm_values,
        {
            "metallb": ("metallbEnabled: true", metallb is not None),
            "cert-manager": (
                "tlsMode: cert-manager, issuer or acme, unless certManagerInstalled",
                tls_settings.mode in tls.CERT_MANAGER_MODES and not tls_settings.cert_manager_installed,
            ),
        },
    )
    monitoring = reader.boolean("monitoring", False)
    adoption_settings = adoption.read_adoption(reader, gateway_address, metallb is not None)

    if reader.problems:
        raise ConfigError(reader.problems)
    return Settings(
        project=project,
        stack=stack,
        kube_context=kube_context,
        cluster_identifier=cluster_identifier,
        kubeconfig=kubeconfig,
        platform=istio.platform,
        istio_version=istio.version,
        gateway_api_version=istio.gateway_api_version,
        gateway_api_crds=istio.gateway_api_crds,
        istio_chart_repository=istio.chart_repository,
        istio_hub=istio_hub,
        helm_timeout_seconds=istio.helm_timeout_seconds,
        metallb=metallb,
        meshed_namespaces=namespaces,
        external_namespaces=external,
        gateway_hostnames=tuple(hostnames),
        gateway_address=gateway_address,
        gateway_replicas=gateway_replicas,
        tls=tls_settings,
        routes=route_table,
        hsts_max_age_seconds=hsts_max_age,
        mtls_mode=mtls_mode,
        verify_mesh=verify_mesh,
        verify_timeout_seconds=verify_timeout,
        verify_front_door=verify_front_door,
        resources=resources,
        helm_values=helm_values,
        image_registry=image_registry,
        demo_app=demo_app,
        monitoring=monitoring,
        adoption=adoption_settings,
    )


def _kube_context(reader: Reader) -> str | None:
    value = reader.text("kubeContext", "").strip()
    if value and not KUBE_CONTEXT.fullmatch(value):
        reader.fail(
            "kubeContext",
            "is not a kubeconfig context name (letters, digits and . _ : @ / + -, at most 253 characters); "
            "list yours with `kubectl config get-contexts -o name`",
        )
        return None
    return value or None


def _cluster_identifier(reader: Reader) -> str:
    value = reader.json_value("clusterIdentifier", "default", str, "a string naming the cluster")
    if not isinstance(value, str) or not KUBE_CONTEXT.fullmatch(value):
        if isinstance(value, str):
            reader.fail(
                "clusterIdentifier",
                f"{json.dumps(value)} is not a cluster name (letters, digits and . _ : @ / + -, 1 to 253 characters)",
            )
        return "default"
    return value


def _stack_kubeconfig(reader: Reader, is_secret: Callable[[str], bool]) -> str | None:
    """`kubernetes:kubeconfig`, which the provider this program creates would otherwise ignore (stack config
    only configures the default provider); `kubernetes:context` is refused so that one key names the context."""
    if reader.raw("kubernetes:context") is not None:
        reader.problems.append(
            "kubernetes:context: configures only Pulumi's default Kubernetes provider, which this program does "
            f"not use; set {reader.key('kubeContext')} instead"
        )
    value = reader.raw("kubernetes:kubeconfig")
    if not value:
        return None
    if "\n" in value.strip() and not is_secret("kubernetes:kubeconfig"):
        reader.problems.append(
            "kubernetes:kubeconfig: holds a kubeconfig's content in plain text; store it as a secret: "
            "pulumi config set --secret kubernetes:kubeconfig < <file>"
        )
    return value


def _check_unknown_keys(reader: Reader, present_keys: Iterable[str]) -> None:
    prefix = reader.key("")
    for full_key in sorted(present_keys):
        namespace, _, name = full_key.partition(":")
        if namespace != reader.project:
            if _looks_like(namespace, reader.project):
                reader.problems.append(
                    f"{full_key}: {namespace!r} is not this project's name, so the key is ignored "
                    f"(did you mean {prefix}{name}?)"
                )
            continue
        if name not in KNOWN_KEYS:
            guess = difflib.get_close_matches(name, sorted(KNOWN_KEYS), n=1)
            hint = f" (did you mean {guess[0]}?)" if guess else ""
            reader.fail(name, f"is not a setting of this project{hint}")


def _looks_like(namespace: str, project: str) -> bool:
    """A misspelt project prefix (`homelab_mesh`, `homelabmesh`, `homelab-mash`), not another package's."""

    def folded(text: str) -> str:
        return re.sub(r"[-_.\s]", "", text.lower())

    return folded(namespace) == folded(project) or difflib.SequenceMatcher(None, namespace, project).ratio() >= 0.8
