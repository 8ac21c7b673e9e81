"""MeshedNamespace: a namespace enrolled in ambient, with its network and authorization policy."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command

from . import names, policy
from .cluster import Cluster
from .kubernetes import KubernetesObject, metadata, namespace
from .scripts import BASH, script
from .settings import MeshedNamespace as MeshedNamespaceSettings


@dataclass(frozen=True)
class MeshedNamespaceArgs:
    namespace: MeshedNamespaceSettings
    mesh_mtls_mode: str
    routed: bool
    # Which cluster the scripts reach: the Kubernetes provider's (components/cluster.py).
    cluster: Cluster
    # Everything the namespace's pods need running while they are enrolled (ztunnel, istio-cni, istiod).
    mesh: list[pulumi.Resource]
    # adoptExisting: the ID to import a namespace the stack creates (`create: true`) that exists already.
    import_id: str | None = None


class MeshedNamespace(pulumi.ComponentResource):
    """Labels the namespace `istio.io/dataplane-mode=ambient` and applies its policy.

    The namespace is created (`create: true`, or where the demo app runs) or only labelled when it exists
    already. A created Namespace is retained when it leaves the stack: the workloads in it are not ours to
    delete. The un-enrol command drops the labels instead and waits until istio-cni has taken the running
    pods out (live, no restarts: scripts/unenrol-namespace.sh), before the namespace's policies are deleted;
    because everything here depends on the mesh, `pulumi destroy` also un-enrols namespaces before ztunnel
    and istio-cni are removed.
    """

    def __init__(self, name: str, args: MeshedNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-mesh:mesh:MeshedNamespace", name, None, opts)
        ns = args.namespace
        options = ns.options
        enrolment = {names.DATAPLANE_MODE_LABEL: "ambient"}
        if ns.created:
            self.namespace = namespace(
                ns.name,
                labels=enrolment,
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=args.mesh, retain_on_delete=True, import_=args.import_id
                ),
            )
        else:
            # A namespace that exists without the stack is labelled, not owned: a server-side apply patch with a
            # field manager of its own, whose deletion removes only the label (pulumi-kubernetes' Patch
            # resources). Nothing here, not even a renamed resource, can delete the namespace.
            self.namespace = KubernetesObject(
                ns.name,
                api_version="v1",
                kind="Namespace",
                metadata=metadata(ns.name, labels=enrolment),
                patch=True,
                opts=pulumi.ResourceOptions(parent=self, depends_on=args.mesh),
            )
        # Through the Namespace, everything here also waits for (and on destroy goes before) the mesh.
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])

        self.network_policy = None
        if options.network_policy == "restricted":
            self.network_policy = KubernetesObject(
                f"{ns.name}-ambient-network-policy",
                api_version="networking.k8s.io/v1",
                kind="NetworkPolicy",
                metadata=metadata("ambient-mesh", ns.name),
                spec=policy.network_policy_spec(),
                opts=in_namespace,
            )
        self.peer_authentication = None
        if options.mtls and options.mtls != args.mesh_mtls_mode:
            self.peer_authentication = KubernetesObject(
                f"{ns.name}-peer-authentication",
                api_version="security.istio.io/v1",
                kind="PeerAuthentication",
                metadata=metadata("default", ns.name),
                spec=policy.peer_authentication_spec(options.mtls),
                opts=in_namespace,
            )
        self.authorization_policy = None
        if options.default_deny:
            self.authorization_policy = KubernetesObject(
                f"{ns.name}-l4-authorization",
                api_version="security.istio.io/v1",
                kind="AuthorizationPolicy",
                metadata=metadata("mesh-allow-l4", ns.name),
                spec=policy.l4_authorization_spec(ns, args.routed),
                opts=in_namespace,
            )
        self.waypoint = None
        self.use_waypoint = None
        self.waypoint_policy = None
        if options.waypoint:
            self.waypoint = KubernetesObject(
                f"{ns.name}-waypoint",
                api_version="gateway.networking.k8s.io/v1",
                kind="Gateway",
                metadata=metadata(
                    names.WAYPOINT_NAME,
                    ns.name,
                    labels={"istio.io/waypoint-for": "service"},
                    annotations={"pulumi.com/waitFor": "condition=Programmed"},
                ),
                spec=policy.waypoint_spec(),
                opts=in_namespace,
            )
            if options.default_deny:
                self.waypoint_policy = KubernetesObject(
                    f"{ns.name}-waypoint-authorization",
                    api_version="security.istio.io/v1",
                    kind="AuthorizationPolicy",
                    metadata=metadata("mesh-allow-waypoint", ns.name),
                    spec=policy.waypoint_authorization_spec(ns, args.routed),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[self.waypoint]),
                )
            # Services switch to the waypoint only once it is Programmed and its policy is in place, and switch
            # back before either goes; routed traffic too with ingressUseWaypoint, once that policy admits it.
            waypoint_labels = {names.USE_WAYPOINT_LABEL: names.WAYPOINT_NAME}
            if options.ingress_use_waypoint:
                waypoint_labels[names.INGRESS_USE_WAYPOINT_LABEL] = "true"
            self.use_waypoint = KubernetesObject(
                f"{ns.name}-use-waypoint",
                api_version="v1",
                kind="Namespace",
                metadata=metadata(ns.name, labels=waypoint_labels),
                patch=True,
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[self.waypoint, *([self.waypoint_policy] if self.waypoint_policy else [])]
                ),
            )
        # Dependents are deleted before their dependencies: depending on every policy makes the un-enrol run
        # first on destroy (or when the namespace leaves the stack), while the namespace's traffic still has
        # its policy; depending on the Namespace keeps it before ztunnel and istio-cni go.
        policies = [
            resource
            for resource in (
                self.network_policy,
                self.peer_authentication,
                self.authorization_policy,
                self.waypoint,
                self.waypoint_policy,
                self.use_waypoint,
            )
            if resource is not None
        ]
        self.unenrol = command.local.Command(
            f"{ns.name}-unenrol",
            delete=script("unenrol-namespace.sh"),
            interpreter=BASH,
            environment=args.cluster.environment(NAMESPACE=ns.name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace, *policies]),
        )
        self.register_outputs({"name": ns.name, "waypoint": options.waypoint})
