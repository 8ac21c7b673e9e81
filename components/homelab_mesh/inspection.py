"""The cluster inspection: what is on the cluster that the stack would install or take, and who owns it.

`scripts/inspect-cluster.sh` reads, with `kubectl get` only, every object the stack would install or take:
one object each Helm release renders (its owner is the release's owner), the plain objects the program
creates with fixed names, and who holds the gateway address. It runs twice:

- at `pulumi up`, inside the upgrade guard (components/upgrade_guard.py), before any cluster change: it
  prints the table and refuses what would fight or fail;
- with `adoptExisting: true`, while the program is evaluated (preview and up), in its `report` form: the
  answer is the adoption plan (components/adoption.py). A resource already in the stack's state with the
  same import ID is not imported again (pulumi/pulumi pkg/resource/deploy/step_generator.go: an import only
  when there is no old state or the old import ID differs), so the imports can stay on later runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pulumi_command as command

from . import names
from .adoption import AdoptionPlan, parse_report
from .cert_manager import CERT_MANAGER_NAMESPACE
from .cluster import Cluster
from .ingress import REDIRECT_ROUTE, options_data, options_name
from .istio import MESH_PEER_AUTHENTICATION
from .metallb import L2_ADVERTISEMENT, SPEAKER_PRIORITY_CLASS
from .scripts import BASH, script
from .settings import Settings
from .tls import CA_ISSUER, PROVIDED_SECRET

INSPECTION_SCRIPT = "inspect-cluster.sh"
# The CRD the live check reads the installed bundle from (scripts/check-upgrade.sh).
GATEWAY_API_CRD = "gateways.gateway.networking.k8s.io"
# The one Service istiod generates for the stack's Gateway (`<gateway>-<gatewayClassName>`).
GATEWAY_SERVICE = f"{names.GATEWAY_NAMESPACE}/{names.GATEWAY_SERVICE_ACCOUNT}"


@dataclass(frozen=True)
class ReleaseAnchor:
    """A Helm release and one object its chart renders under a fixed name, which tells who installed it."""

    release: str
    namespace: str
    resource: str
    name: str


# Objects each chart renders whatever the values: istio 1.28.2 manifests/charts/base/templates/
# reader-serviceaccount.yaml, istio-control/istio-discovery/templates/deployment.yaml, istio-cni/templates/
# daemonset.yaml (`istio-cni-node`), ztunnel/templates/daemonset.yaml; metallb v0.16.1 charts/metallb
# (`<fullname>-controller`, the fullname being the release name); cert-manager v1.21.1 deploy/charts/cert-manager.
ISTIO_ANCHORS = (
    ReleaseAnchor("istio-base", names.ISTIO_NAMESPACE, "serviceaccount", "istio-reader-service-account"),
    ReleaseAnchor("istiod", names.ISTIO_NAMESPACE, "deployment", "istiod"),
    ReleaseAnchor("istio-cni", names.ISTIO_NAMESPACE, "daemonset", "istio-cni-node"),
    ReleaseAnchor("ztunnel", names.ISTIO_NAMESPACE, "daemonset", "ztunnel"),
)
METALLB_ANCHOR = ReleaseAnchor("metallb", names.METALLB_NAMESPACE, "deployment", "metallb-controller")
CERT_MANAGER_ANCHOR = ReleaseAnchor("cert-manager", CERT_MANAGER_NAMESPACE, "deployment", "cert-manager")


# Groups of built-in kinds the program creates; every other group is a CRD's.
BUILTIN_GROUPS = frozenset({"apps", "networking.k8s.io", "policy", "rbac.authorization.k8s.io", "scheduling.k8s.io"})


def kubectl_resource(api_version: str, kind: str) -> str:
    """How kubectl names a kind without ambiguity: a CRD's kind as `<plural>.<group>` (a Gateway is
    `gateways.gateway.networking.k8s.io`, not networking.istio.io's), a built-in kind by its singular name."""
    group = api_version.rpartition("/")[0]
    if not group or group in BUILTIN_GROUPS:
        return kind.lower()
    return f"{kind.lower()}s.{group}"


@dataclass(frozen=True)
class PlannedObject:
    api_version: str
    kind: str
    namespace: str | None
    name: str

    @property
    def line(self) -> str:
        return f"{kubectl_resource(self.api_version, self.kind)} {self.namespace or '-'} {self.name}"


def release_anchors(settings: Settings) -> tuple[ReleaseAnchor, ...]:
    anchors = list(ISTIO_ANCHORS)
    if settings.metallb is not None:
        anchors.append(METALLB_ANCHOR)
    if settings.gateway_hostnames and settings.tls.mode == "cert-manager":
        anchors.append(CERT_MANAGER_ANCHOR)
    return tuple(anchors)


def planned_objects(settings: Settings) -> tuple[PlannedObject, ...]:
    """The plain objects the program creates with fixed names: the namespaces it owns (meshed ones with
    `create`), cluster-scoped objects and what it puts in its own namespaces (tests/test_adoption.py holds
    this to the registrations). Meshed namespaces it only labels are `labelled_namespaces`."""
    planned = [
        *(PlannedObject("v1", "Namespace", None, ns.name) for ns in settings.meshed_namespaces if ns.created),
        PlannedObject("v1", "Namespace", None, names.ISTIO_NAMESPACE),
        PlannedObject("security.istio.io/v1", "PeerAuthentication", names.ISTIO_NAMESPACE, MESH_PEER_AUTHENTICATION),
    ]
    if settings.metallb is not None:
        metallb = names.METALLB_NAMESPACE
        planned += [
            PlannedObject("v1", "Namespace", None, metallb),
            PlannedObject("scheduling.k8s.io/v1", "PriorityClass", None, SPEAKER_PRIORITY_CLASS),
            PlannedObject("metallb.io/v1beta1", "L2Advertisement", metallb, L2_ADVERTISEMENT),
            *(
                PlannedObject("metallb.io/v1beta1", "IPAddressPool", metallb, pool.name)
                for pool in settings.metallb.all_pools
            ),
        ]
    if settings.gateway_hostnames:
        gateway = names.GATEWAY_NAMESPACE
        planned += [
            PlannedObject("v1", "Namespace", None, gateway),
            PlannedObject("v1", "ConfigMap", gateway, options_name(options_data(settings.gateway_replicas))),
            PlannedObject("gateway.networking.k8s.io/v1", "Gateway", gateway, names.GATEWAY_NAME),
            PlannedObject("gateway.networking.k8s.io/v1", "HTTPRoute", gateway, REDIRECT_ROUTE),
            *(PlannedObject("v1", "Secret", gateway, secret) for secret in _tls_secrets(settings)),
        ]
        if settings.tls.mode == "cert-manager":
            planned += [
                PlannedObject("v1", "Namespace", None, CERT_MANAGER_NAMESPACE),
                PlannedObject("cert-manager.io/v1", "Issuer", gateway, CA_ISSUER),
                *(
                    PlannedObject("cert-manager.io/v1", "Certificate", gateway, names.tls_secret(hostname))
                    for hostname in settings.gateway_hostnames
                ),
            ]
    return tuple(planned)


def labelled_namespaces(settings: Settings) -> list[str]:
    """Meshed namespaces the stack labels but does not create (`create: false`): they must exist."""
    return sorted(ns.name for ns in settings.meshed_namespaces if not ns.created)


def _tls_secrets(settings: Settings) -> list[str]:
    if settings.tls.mode == "existing":
        # The Secrets are there already and stay whoever's they are: the listeners only reference them.
        return []
    if settings.tls.mode == "provided":
        return [PROVIDED_SECRET]
    if settings.tls.mode == "cert-manager":
        # The listeners' Secrets are cert-manager's to write; the program writes only the issuer's.
        return [CA_ISSUER]
    return [names.tls_secret(hostname) for hostname in settings.gateway_hostnames]


def inspection_environment(settings: Settings) -> dict[str, str]:
    """What the inspection script reads (its header lists each variable)."""
    environment = {
        "ADOPT_EXISTING": "true" if settings.adoption.adopt_existing else "false",
        "RELEASES": release_lines(release_anchors(settings)),
        "OBJECTS": "".join(f"{planned.line}\n" for planned in planned_objects(settings)),
    }
    labelled = labelled_namespaces(settings)
    if labelled:
        environment["LABELLED_NAMESPACES"] = " ".join(labelled)
    if settings.gateway_api_crds == "managed":
        environment["GATEWAY_API_CRD"] = GATEWAY_API_CRD
    if settings.gateway_hostnames and settings.gateway_address and settings.metallb is not None:
        environment["GATEWAY_ADDRESS"] = settings.gateway_address
        environment["GATEWAY_SERVICE"] = GATEWAY_SERVICE
        if settings.adoption.handover_from:
            environment["HANDOVER_SERVICE"] = settings.adoption.handover_from
    return environment


def read_adoption_plan(settings: Settings, cluster: Cluster) -> AdoptionPlan:
    """With adoptExisting, ask the cluster (read-only, at preview and up) what exists; without it, nothing
    is adopted and nothing is read while the program is evaluated."""
    if not settings.adoption.adopt_existing:
        return AdoptionPlan()
    result = command.local.run(
        command=script(INSPECTION_SCRIPT),
        interpreter=BASH,
        environment=cluster.local_environment(MODE="report", **inspection_environment(settings)),
    )
    return parse_report(result.stdout or "")


def release_lines(anchors: Iterable[ReleaseAnchor]) -> str:
    return "".join(f"{anchor.release} {anchor.namespace} {anchor.resource} {anchor.name}\n" for anchor in anchors)
