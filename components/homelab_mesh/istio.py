"""IstioAmbient: istio-base -> istiod -> istio-cni -> ztunnel, each waiting for the one before (reversed to go back)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from . import names
from .adoption import AdoptionPlan, release_adoption
from .chart_keys import merged_values
from .kubernetes import KubernetesObject, metadata, namespace
from .policy import peer_authentication_spec
from .resources import ResourceProfile
from .upgrade import Order

# (release name, chart) in install order: ztunnel is Ready only once istiod serves xDS and the CNI agent
# runs on the node (istio/ztunnel#156, #1674). The Gateway API CRDs go before istiod or after it, as the
# upgrade guard's order says (components/upgrade.py, `order`).
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


@dataclass(frozen=True)
class IstioAmbientArgs:
    version: str
    chart_repository: str
    hub: str
    platform: str
    resources: Mapping[str, ResourceProfile]
    mtls_mode: str
    helm_timeout_seconds: int
    # Every release waits for the upgrade guard: nothing changes version before it has agreed.
    guard: pulumi.Resource
    # This `pulumi up`'s order, from the guard's record (components/upgrade.py, `order`).
    order: pulumi.Output[Order]
    # The Gateway API CRDs (None when external), read once the order is known: they are declared after this
    # component, since in some orders they wait for istiod and in others istiod waits for them.
    gateway_api_crds: Callable[[], pulumi.Resource | None]
    # helmValues per release name, merged over the program's values last.
    extra_values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # adoptExisting: the releases to install with take-ownership or import, and istio-system's import.
    adoption: AdoptionPlan = field(default_factory=AdoptionPlan)


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
    """Istio in ambient mode from the four official charts, installed and removed in the documented order."""

    namespace: KubernetesObject
    releases: dict[str, k8s.helm.v3.Release]

    def __init__(self, name: str, args: IstioAmbientArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-mesh:istio:IstioAmbient", name, None, opts)
        self.namespace = namespace(
            names.ISTIO_NAMESPACE,
            opts=pulumi.ResourceOptions(parent=self, import_=args.adoption.namespace_import_id(names.ISTIO_NAMESPACE)),
        )
        values = {
            release: merged_values(release_values, args.extra_values.get(release, {}))
            for release, release_values in chart_values(args.version, args.hub, args.platform, args.resources).items()
        }
        # Pulumi's own deadline sits above Helm's so Helm reports which object was not ready.
        operation_timeout = f"{args.helm_timeout_seconds + 120}s"
        self.releases = {}
        for release_name, chart in RELEASES:
            depends_on = args.order.apply(
                lambda step_order, release=release_name: self._waits_for(release, step_order, args)
            )
            adopted, adoption_options = release_adoption(args.adoption, release_name, names.ISTIO_NAMESPACE)
            self.releases[release_name] = k8s.helm.v3.Release(
                release_name,
                name=release_name,
                chart=chart,
                version=args.version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=args.chart_repository),
                namespace=names.ISTIO_NAMESPACE,
                values=values[release_name],
                timeout=args.helm_timeout_seconds,
                cleanup_on_fail=True,
                max_history=5,
                **adopted,
                opts=pulumi.ResourceOptions.merge(
                    pulumi.ResourceOptions(
                        parent=self,
                        # Not for the CRDs: every one carries helm.sh/resource-policy: keep and survives an
                        # uninstall (istio@1.28.10 and istio@release-1.31: manifests/charts/base/files/
                        # crd-all.gen.yaml). A replacement or a stray destroy would still uninstall the
                        # default-revision validating webhook and admission policy (manifests/charts/base/
                        # templates/defaultrevision-*.yaml): Istio config would go unvalidated, and the kept
                        # CRDs would belong to no release, until it is back.
                        protect=release_name == "istio-base",
                        depends_on=depends_on,
                        custom_timeouts=pulumi.CustomTimeouts(create=operation_timeout, update=operation_timeout),
                    ),
                    adoption_options,
                ),
            )

        # STRICT is enforced by ztunnel, but istiod's webhook must be serving before Istio CRs are accepted.
        self.peer_authentication = KubernetesObject(
            "mesh-peer-authentication",
            api_version="security.istio.io/v1",
            kind="PeerAuthentication",
            metadata=metadata(MESH_PEER_AUTHENTICATION, names.ISTIO_NAMESPACE),
            spec=peer_authentication_spec(args.mtls_mode),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.releases["istiod"]]),
        )
        self.register_outputs(
            {
                "version": args.version,
                "releases": {name: release.status for name, release in self.releases.items()},
            }
        )

    def _waits_for(self, release: str, step_order: Order, args: IstioAmbientArgs) -> list[pulumi.Resource]:
        chain = ROLLBACK_ORDER if step_order is Order.ROLLBACK else tuple(name for name, _ in RELEASES)
        position = chain.index(release)
        before = self.releases[chain[position - 1]] if position else self.namespace
        waits_for = [before, args.guard]
        crds = args.gateway_api_crds()
        if release == "istiod" and crds is not None and not step_order.crds_after_istiod:
            # First install, or the istiod being replaced runs the new CRDs too: they change first (documented order).
            waits_for.append(crds)
        return waits_for

    @property
    def istiod(self) -> k8s.helm.v3.Release:
        return self.releases["istiod"]
