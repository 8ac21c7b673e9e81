"""IstioAmbient: istio-base -> istiod -> istio-cni -> ztunnel, each waiting for the one before (reversed to go back).

The Gateway API CRDs go before istiod or after it, as this `pulumi up`'s order says (components/upgrade.py,
`order`): in some orders istiod waits for the CRDs, in others they wait for istiod. Two components could only
express that with a reference to one declared later; so IstioAmbient declares the managed CRDs itself, as
the GatewayApiCrds component beside it (same parent, own provider), and the order is an input like any other.
"""

import json
from collections.abc import Mapping
from enum import Enum
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from . import names, versions
from .arguments import (
    AdoptionArgs,
    ArgsReader,
    ResourceProfileArgs,
    adoption_plan,
    component_options,
    renamed,
    resource_profiles,
    token,
    value_of,
)
from .chart_keys import merged_values
from .gateway_api import GatewayApiCrds
from .helm import helm_release
from .kubernetes import KubernetesObject, metadata, namespace
from .policy import peer_authentication_spec
from .resources import ResourceProfile
from .settings.mesh import PLATFORMS, read_image_hub
from .settings.reader import read_url
from .upgrade import Order

# (release name, chart) in install order: ztunnel is Ready only once istiod serves xDS and the CNI agent
# runs on the node (istio/ztunnel#156, #1674).
RELEASES: tuple[tuple[str, str], ...] = (
    ("istio-base", "base"),
    ("istiod", "istiod"),
    ("istio-cni", "cni"),
    ("ztunnel", "ztunnel"),
)
# A rollback: the node agents go back while the newer istiod still runs (they work with istiod of their own
# release and the next, never an older one: istio.io:docs/ambient/upgrade/helm), istio-base last.
ROLLBACK_ORDER: tuple[str, ...] = ("ztunnel", "istio-cni", "istiod", "istio-base")

# The mesh-wide PeerAuthentication: the one named `default` in the root namespace (istio-system).
MESH_PEER_AUTHENTICATION = "default"
# The CRDs' component name (after the IstioAmbient's name) and type, as the stacks before the package knew them.
GATEWAY_API_CRDS = "gateway-api"
OLD_GATEWAY_API_CRDS_TOKEN = "homelab-mesh:gateway-api:GatewayApiCrds"
DEFAULT_HELM_TIMEOUT_SECONDS = 900


class Platform(Enum):
    """The Kubernetes distribution, for Istio's platform overlays."""

    NONE = "none"
    K3S = "k3s"
    K3D = "k3d"
    MICROK8S = "microk8s"
    MINIKUBE = "minikube"


class MtlsMode(Enum):
    """The mesh-wide mTLS mode."""

    STRICT = "STRICT"
    PERMISSIVE = "PERMISSIVE"


class ManagedGatewayApiArgs(TypedDict):
    """The Gateway API CRDs installed beside Istio, ordered against istiod."""

    version: NotRequired[str]
    """The Gateway API release, such as v1.5.1; Istio's version must run with it. Default: the package's pinned one."""
    provider: NotRequired[k8s.Provider]
    """The Kubernetes provider for the CRDs; unset: IstioAmbient's own."""


class IstioAmbientArgs(TypedDict):
    """Istio's release, charts and mesh-wide settings."""

    version: NotRequired[str]
    """The Istio release, such as 1.28.1; default: the package's pinned one."""
    chart_repository: NotRequired[str]
    """The Helm repository of Istio's charts (https:// or oci://)."""
    hub: NotRequired[str]
    """The image registry path of Istio's images."""
    platform: NotRequired[Platform]
    """The Kubernetes distribution; default none (kind, kubeadm)."""
    resources: NotRequired[dict[str, ResourceProfileArgs]]
    """Requests and limits by component (istiod, cni, ztunnel, gateway, waypoint), over the lean profile."""
    mtls_mode: NotRequired[MtlsMode]
    """The mesh-wide mTLS mode; default STRICT."""
    helm_timeout_seconds: NotRequired[int]
    """How long Helm waits for each release; default 900."""
    order: NotRequired[pulumi.Input[Order]]
    """This `pulumi up`'s order of the CRDs and the releases (UpgradeGuard.order); default first-install."""
    gateway_api_crds: NotRequired[ManagedGatewayApiArgs]
    """Install the Gateway API CRDs too, in the order above; unset: they are someone else's."""
    extra_values: NotRequired[dict[str, dict[str, Any]]]
    """Helm values per release name, merged over the component's values last."""
    adoption: NotRequired[AdoptionArgs]
    """What to take over from a cluster other tools set up."""


def chart_values(
    version: str, hub: str, platform: str, resources: Mapping[str, ResourceProfile]
) -> dict[str, dict[str, Any]]:
    """Helm values per release, each chart given only keys it reads (CHART_KEYS in tests/test_istio.py lists
    them with their source). Values are passed flat (never under _internal_defaults_do_not_set)."""
    # Image hub/tag and platform go through `global` in the three charts that run images, in lockstep.
    shared_global: dict[str, Any] = {"hub": hub, "tag": version}
    if platform != "none":
        shared_global["platform"] = platform
    return {
        # The base chart (CRDs, webhook, RBAC) runs no image: it reads neither global.hub nor global.tag, and
        # the platform overlays only set cni.* keys it does not read (istio@release-1.31:manifests/charts/base).
        "istio-base": {},
        "istiod": {
            "profile": "ambient",
            "global": {
                **shared_global,
                "proxy": {"resources": resources["gateway"].as_values()},
                "waypoint": {"resources": resources["waypoint"].as_values()},
            },
            "autoscaleEnabled": False,
            "replicaCount": 1,
            "resources": resources["istiod"].as_values(),
        },
        "istio-cni": {"profile": "ambient", "global": dict(shared_global), "resources": resources["cni"].as_values()},
        "ztunnel": {"profile": "ambient", "global": dict(shared_global), "resources": resources["ztunnel"].as_values()},
    }


class IstioAmbient(pulumi.ComponentResource):
    """Istio in ambient mode from the four official charts, installed and removed in the documented order;
    with `gatewayApiCrds`, the Gateway API CRDs too. Every release (and the CRDs) waits for what the
    component depends on: put the upgrade guard there, and nothing changes version before it has agreed."""

    version: pulumi.Output[str]
    """The Istio release installed."""

    def __init__(self, name: str, args: IstioAmbientArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        reader = ArgsReader("IstioAmbient", name, args)
        version = reader.version("version") if "version" in args else versions.DEFAULT_ISTIO_VERSION
        repository = read_url(reader, "chart_repository", versions.DEFAULT_ISTIO_CHART_REPOSITORY)
        hub = read_image_hub(reader, "hub", versions.DEFAULT_ISTIO_HUB)
        platform = reader.choice("platform", "none", PLATFORMS)
        mtls_mode = reader.choice("mtls_mode", "STRICT", ("STRICT", "PERMISSIVE"))
        helm_timeout = reader.whole_number("helm_timeout_seconds", DEFAULT_HELM_TIMEOUT_SECONDS, 60, 7200)
        profiles = resource_profiles(reader)
        managed_crds = args.get("gateway_api_crds")
        crds_version = ""
        if managed_crds is not None:
            crds_reader = ArgsReader("IstioAmbient", name, managed_crds, prefix="gateway_api_crds.")
            crds_version = (
                crds_reader.version("version", prefix="v")
                if "version" in managed_crds
                else versions.DEFAULT_GATEWAY_API_VERSION
            )
            reader.problems.extend(crds_reader.problems)
            _check_pair(reader, version, crds_version)
        reader.raise_problems()

        own, waits_for = component_options("IstioAmbient", name, opts, "homelab-mesh:istio:IstioAmbient")
        super().__init__(token("IstioAmbient"), name, None, own)
        self.version = pulumi.Output.from_input(version)
        adoption = adoption_plan(args.get("adoption"))
        extra_values = args.get("extra_values") or {}
        step_order = pulumi.Output.from_input(args.get("order", Order.FIRST_INSTALL)).apply(_as_order)
        self.gateway_api_crds: GatewayApiCrds | None = None
        namespace_name = f"{name}-namespace"
        self.namespace = namespace(
            names.ISTIO_NAMESPACE,
            resource_name=namespace_name,
            opts=pulumi.ResourceOptions(
                parent=self,
                import_=adoption.namespace_import_id(names.ISTIO_NAMESPACE),
                aliases=renamed(namespace_name, names.ISTIO_NAMESPACE),
            ),
        )
        values = {
            release: merged_values(release_values, extra_values.get(release, {}))
            for release, release_values in chart_values(version, hub, platform, profiles).items()
        }
        # Pulumi's own deadline sits above Helm's so Helm reports which object was not ready.
        operation_timeout = f"{helm_timeout + 120}s"
        self.releases: dict[str, k8s.helm.v3.Release] = {}
        for release_name, chart in RELEASES:
            depends_on = step_order.apply(
                lambda known, release=release_name: self._waits_for(release, known, waits_for)
            )
            resource_name = f"{name}-{chart}"
            self.releases[release_name] = helm_release(
                resource_name,
                release_name,
                chart,
                repository=repository,
                version=version,
                namespace=names.ISTIO_NAMESPACE,
                values=values[release_name],
                timeout=helm_timeout,
                adoption=adoption,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    # Not for the CRDs: every one carries helm.sh/resource-policy: keep and survives an
                    # uninstall (istio@1.28.10 and istio@release-1.31: manifests/charts/base/files/
                    # crd-all.gen.yaml). A replacement or a stray destroy would still uninstall the
                    # default-revision validating webhook and admission policy (manifests/charts/base/
                    # templates/defaultrevision-*.yaml): Istio config would go unvalidated, and the kept
                    # CRDs would belong to no release, until it is back.
                    protect=release_name == "istio-base",
                    aliases=renamed(resource_name, release_name),
                    depends_on=depends_on,
                    custom_timeouts=pulumi.CustomTimeouts(create=operation_timeout, update=operation_timeout),
                ),
            )

        # STRICT is enforced by ztunnel, but istiod's webhook must be serving before Istio CRs are accepted.
        peer_authentication_name = f"{name}-mesh-peer-authentication"
        self.peer_authentication = KubernetesObject(
            peer_authentication_name,
            api_version="security.istio.io/v1",
            kind="PeerAuthentication",
            metadata=metadata(MESH_PEER_AUTHENTICATION, names.ISTIO_NAMESPACE),
            spec=peer_authentication_spec(mtls_mode),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.releases["istiod"]],
                aliases=renamed(peer_authentication_name, "mesh-peer-authentication"),
            ),
        )
        if managed_crds is not None:
            # Beside this component, not under it: the CRDs outlive Istio (retained on delete), and the stacks
            # before the package knew them there.
            provider = managed_crds.get("provider")
            istiod = self.releases["istiod"]
            crds_name = f"{name}-{GATEWAY_API_CRDS}"
            self.gateway_api_crds = GatewayApiCrds(
                crds_name,
                {"version": crds_version},
                opts=pulumi.ResourceOptions(
                    parent=own.parent,
                    # Both parts at once: the stacks before the package knew the old name under the old type.
                    aliases=[pulumi.Alias(name=GATEWAY_API_CRDS, type_=OLD_GATEWAY_API_CRDS_TOKEN)],
                    providers={"kubernetes": provider} if provider is not None else own.providers,
                    depends_on=step_order.apply(
                        lambda known: [*waits_for, *([istiod] if known.crds_after_istiod else [])]
                    ),
                ),
            )
        self.register_outputs({"version": self.version})

    def _waits_for(self, release: str, step_order: Order, waits_for: list[pulumi.Resource]) -> list[pulumi.Resource]:
        chain = ROLLBACK_ORDER if step_order is Order.ROLLBACK else tuple(name for name, _ in RELEASES)
        position = chain.index(release)
        before = self.releases[chain[position - 1]] if position else self.namespace
        waiting = [before, *waits_for]
        if release == "istiod" and self.gateway_api_crds is not None and not step_order.crds_after_istiod:
            # First install, or the istiod being replaced runs the new CRDs too: they change first (documented order).
            waiting.append(self.gateway_api_crds)
        return waiting

    @property
    def istiod(self) -> k8s.helm.v3.Release:
        return self.releases["istiod"]


def _as_order(value: Any) -> Order:
    return value if isinstance(value, Order) else Order(value_of(value))


def _check_pair(reader: ArgsReader, istio_version: str, gateway_api_version: str) -> None:
    """The stack file's compatibility check between the two versions (components/settings/mesh.py)."""
    istio, gateway_api = versions.parse_version(istio_version), versions.parse_version(gateway_api_version)
    if istio is None or gateway_api is None:
        return
    reason = versions.gateway_api_incompatibility(istio, gateway_api)
    # An Istio minor missing from the compatibility table is the fault of the Istio version, not of the CRDs.
    known_minor = istio[:2] in versions.SUPPORT
    blamed, value = ("gateway_api_crds.version", gateway_api_version) if known_minor else ("version", istio_version)
    if reason:
        reader.fail(blamed, f"{json.dumps(value)} cannot be used: {reason}")
