"""MeshedNamespace: a namespace enrolled in ambient, with its network and authorization policy."""

from enum import Enum
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_command as command

from . import names, policy
from .arguments import (
    ArgsReader,
    ClusterArgs,
    RenamedChildren,
    camel_keys,
    check_cluster,
    cluster_of,
    component_options,
    token,
)
from .istio import MtlsMode
from .kubernetes import KubernetesObject, metadata, namespace, type_token
from .scripts import BASH, script
from .settings.checks import check_namespace
from .settings.mesh import MeshedNamespace as MeshedNamespaceSettings
from .settings.mesh import NamespaceOptions


class NetworkPolicyMode(Enum):
    """open: no NetworkPolicy; restricted: only the mesh's own traffic reaches the pods."""

    OPEN = "open"
    RESTRICTED = "restricted"


class AllowFromArgs(TypedDict):
    """Who may call the namespace's workloads: a meshed namespace, or plaintext clients by address."""

    namespace: NotRequired[str]
    """A meshed namespace (by its mesh identity)."""
    ip_blocks: NotRequired[list[str]]
    """Clients without a mesh identity, by CIDR block."""


class AuthorizationRuleArgs(TypedDict):
    """One ALLOW rule: `from_namespaces`/`ports` at L4 (ztunnel); methods, paths, headers at L7 (waypoint)."""

    from_namespaces: list[str]
    """The meshed namespaces the rule admits."""
    ports: NotRequired[list[int]]
    """Destination ports."""
    methods: NotRequired[list[str]]
    """HTTP methods (needs the waypoint)."""
    paths: NotRequired[list[str]]
    """Request paths, with Istio's leading or trailing `*` (needs the waypoint)."""
    headers: NotRequired[dict[str, list[str]]]
    """Request headers and their allowed values (needs the waypoint)."""


class NamespaceOptionsArgs(TypedDict):
    """The namespace's policy (docs/security.md); every field as the stack file's namespaceOptions."""

    create: NotRequired[bool]
    """true: the stack creates and owns the namespace; false (default): it exists and is only labelled."""
    network_policy: NotRequired[NetworkPolicyMode]
    """open (default) or restricted."""
    mtls: NotRequired[MtlsMode]
    """The namespace's own mTLS mode, when it differs from the mesh's."""
    default_deny: NotRequired[bool]
    """Deny what no rule allows; default true."""
    allow_from: NotRequired[list[AllowFromArgs]]
    """Who may call in, besides the gateway for routed namespaces."""
    waypoint: NotRequired[bool]
    """Run a waypoint for L7 policy; default false."""
    ingress_use_waypoint: NotRequired[bool]
    """Routed traffic goes through the waypoint too; default false."""
    rules: NotRequired[list[AuthorizationRuleArgs]]
    """ALLOW rules beyond allowFrom."""


class MeshedNamespaceArgs(TypedDict):
    """A namespace to enrol in the ambient mesh, with its policy."""

    name: str
    """The Kubernetes namespace."""
    cluster: ClusterArgs
    """Which cluster the un-enrol script reaches: the Kubernetes provider's."""
    options: NotRequired[NamespaceOptionsArgs]
    """Its policy; default: labelled only, default-deny, no waypoint."""
    mesh_mtls_mode: NotRequired[MtlsMode]
    """The mesh-wide mTLS mode (IstioAmbient's); default STRICT."""
    routed: NotRequired[bool]
    """Whether the front door routes into it (its policy then admits the gateway); default false."""
    import_id: NotRequired[str]
    """The ID to import a namespace the stack creates that exists already (adoption)."""


def options_model(options: Any) -> Any:
    """Options in the stack file's spelling: `allowFrom` entries as a namespace or `{ipBlocks}`, `from`."""
    spelled = camel_keys(options)
    if isinstance(spelled, dict):
        spelled["allowFrom"] = [
            entry.get("namespace", entry) if isinstance(entry, dict) and "namespace" in entry else entry
            for entry in spelled.get("allowFrom", [])
        ]
        spelled["rules"] = [
            {("from" if key == "fromNamespaces" else key): value for key, value in rule.items()}
            if isinstance(rule, dict)
            else rule
            for rule in spelled.get("rules", [])
        ]
    return spelled


OLD_TOKEN = "homelab-mesh:mesh:MeshedNamespace"


class MeshedNamespace(pulumi.ComponentResource):
    """Labels the namespace `istio.io/dataplane-mode=ambient` and applies its policy.

    The namespace is created (`create: true`, or where the demo app runs) or only labelled when it exists
    already. A created Namespace is retained when it leaves the stack: the workloads in it are not ours to
    delete. The un-enrol command drops the labels instead and waits until istio-cni has taken the running
    pods out (live, no restarts: scripts/unenrol-namespace.sh), before the namespace's policies are deleted;
    because everything here depends on the mesh, `pulumi destroy` also un-enrols namespaces before ztunnel
    and istio-cni are removed.
    """

    meshed_namespace: pulumi.Output[str]
    """The namespace enrolled."""

    def __init__(self, name: str, args: MeshedNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        reader = ArgsReader("MeshedNamespace", name, args)
        namespace_name = reader.checked("name", check_namespace)
        reader.required("name")
        options = reader.model("options", NamespaceOptions, options_model(args.get("options") or {}))
        mesh_mtls_mode = reader.choice("mesh_mtls_mode", "STRICT", ("STRICT", "PERMISSIVE"))
        check_cluster(reader)
        reader.raise_problems()
        renamed = RenamedChildren(opts, OLD_TOKEN)
        own, waits_for = component_options("MeshedNamespace", name, opts, OLD_TOKEN)
        super().__init__(token("MeshedNamespace"), name, None, own)
        # A namespace the stack creates (`create: true`) or only labels (unset or false).
        ns = MeshedNamespaceSettings(namespace_name, options, created=bool(options.create))
        routed = bool(args.get("routed", False))
        self.namespace_name = namespace_name
        self.meshed_namespace = pulumi.Output.from_input(namespace_name)
        enrolment = {names.DATAPLANE_MODE_LABEL: "ambient"}
        # Everything the namespace's pods need running while they are enrolled (ztunnel, istio-cni, istiod):
        # what the component depends on.

        def named(suffix: str, old: str, child_type: str, **more: Any) -> tuple[str, pulumi.ResourceOptions]:
            """`<component>-<suffix>`, with an alias to the name from the namespace it had before (tests/urns)."""
            new = f"{name}-{suffix}"
            return new, pulumi.ResourceOptions(parent=self, aliases=renamed.aliases(child_type, new, old), **more)

        namespace_resource, namespace_options = named(
            "namespace", ns.name, type_token("v1", "Namespace", patch=not ns.created), depends_on=waits_for
        )
        if ns.created:
            self.namespace = namespace(
                ns.name,
                labels=enrolment,
                resource_name=namespace_resource,
                opts=pulumi.ResourceOptions.merge(
                    namespace_options, pulumi.ResourceOptions(retain_on_delete=True, import_=args.get("import_id"))
                ),
            )
        else:
            # A namespace that exists without the stack is labelled, not owned: a server-side apply patch with a
            # field manager of its own, whose deletion removes only the label (pulumi-kubernetes' Patch
            # resources). Nothing here, not even a renamed resource, can delete the namespace.
            self.namespace = KubernetesObject(
                namespace_resource,
                api_version="v1",
                kind="Namespace",
                metadata=metadata(ns.name, labels=enrolment),
                patch=True,
                opts=namespace_options,
            )

        def in_namespace(suffix: str, child_type: str) -> tuple[str, pulumi.ResourceOptions]:
            # Through the Namespace, everything here also waits for (and on destroy goes before) the mesh.
            return named(suffix, f"{ns.name}-{suffix}", child_type, depends_on=[self.namespace])

        self.network_policy = None
        if options.network_policy == "restricted":
            resource_name, child_options = in_namespace(
                "ambient-network-policy", type_token("networking.k8s.io/v1", "NetworkPolicy")
            )
            self.network_policy = KubernetesObject(
                resource_name,
                api_version="networking.k8s.io/v1",
                kind="NetworkPolicy",
                metadata=metadata("ambient-mesh", ns.name),
                spec=policy.network_policy_spec(),
                opts=child_options,
            )
        self.peer_authentication = None
        if options.mtls and options.mtls != mesh_mtls_mode:
            resource_name, child_options = in_namespace(
                "peer-authentication", type_token("security.istio.io/v1", "PeerAuthentication")
            )
            self.peer_authentication = KubernetesObject(
                resource_name,
                api_version="security.istio.io/v1",
                kind="PeerAuthentication",
                metadata=metadata("default", ns.name),
                spec=policy.peer_authentication_spec(options.mtls),
                opts=child_options,
            )
        self.authorization_policy = None
        if options.default_deny:
            resource_name, child_options = in_namespace(
                "l4-authorization", type_token("security.istio.io/v1", "AuthorizationPolicy")
            )
            self.authorization_policy = KubernetesObject(
                resource_name,
                api_version="security.istio.io/v1",
                kind="AuthorizationPolicy",
                metadata=metadata("mesh-allow-l4", ns.name),
                spec=policy.l4_authorization_spec(ns, routed),
                opts=child_options,
            )
        self.waypoint = None
        self.use_waypoint = None
        self.waypoint_policy = None
        if options.waypoint:
            resource_name, child_options = in_namespace(
                "waypoint", type_token("gateway.networking.k8s.io/v1", "Gateway")
            )
            self.waypoint = KubernetesObject(
                resource_name,
                api_version="gateway.networking.k8s.io/v1",
                kind="Gateway",
                metadata=metadata(
                    names.WAYPOINT_NAME,
                    ns.name,
                    labels={"istio.io/waypoint-for": "service"},
                    annotations={"pulumi.com/waitFor": "condition=Programmed"},
                ),
                spec=policy.waypoint_spec(),
                opts=child_options,
            )
            if options.default_deny:
                resource_name, child_options = named(
                    "waypoint-authorization",
                    f"{ns.name}-waypoint-authorization",
                    type_token("security.istio.io/v1", "AuthorizationPolicy"),
                    depends_on=[self.waypoint],
                )
                self.waypoint_policy = KubernetesObject(
                    resource_name,
                    api_version="security.istio.io/v1",
                    kind="AuthorizationPolicy",
                    metadata=metadata("mesh-allow-waypoint", ns.name),
                    spec=policy.waypoint_authorization_spec(ns, routed),
                    opts=child_options,
                )
            # Services switch to the waypoint only once it is Programmed and its policy is in place, and switch
            # back before either goes; routed traffic too with ingressUseWaypoint, once that policy admits it.
            waypoint_labels = {names.USE_WAYPOINT_LABEL: names.WAYPOINT_NAME}
            if options.ingress_use_waypoint:
                waypoint_labels[names.INGRESS_USE_WAYPOINT_LABEL] = "true"
            resource_name, child_options = named(
                "use-waypoint",
                f"{ns.name}-use-waypoint",
                type_token("v1", "Namespace", patch=True),
                depends_on=[self.waypoint, *([self.waypoint_policy] if self.waypoint_policy else [])],
            )
            self.use_waypoint = KubernetesObject(
                resource_name,
                api_version="v1",
                kind="Namespace",
                metadata=metadata(ns.name, labels=waypoint_labels),
                patch=True,
                opts=child_options,
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
        resource_name, child_options = named(
            "unenrol", f"{ns.name}-unenrol", "command:local:Command", depends_on=[self.namespace, *policies]
        )
        self.unenrol = command.local.Command(
            resource_name,
            delete=script("unenrol-namespace.sh"),
            interpreter=BASH,
            environment=cluster_of(args["cluster"]).environment(NAMESPACE=ns.name),
            opts=child_options,
        )
        self.register_outputs({"meshedNamespace": self.meshed_namespace})
