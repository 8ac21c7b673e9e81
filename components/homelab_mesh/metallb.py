"""MetalLB: L2 LoadBalancer addresses from the LAN, with pools created only once the webhook answers."""

import json
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_command as command

from . import names, versions
from .adoption import AdoptionPlan
from .arguments import (
    AdoptionArgs,
    ArgsReader,
    ClusterArgs,
    ResourceProfileArgs,
    adoption_plan,
    camel_keys,
    check_cluster,
    cluster_of,
    component_options,
    renamed,
    resource_profiles,
    token,
)
from .chart_keys import merged_values
from .helm import helm_release
from .images import mirrored
from .kubernetes import KubernetesObject, metadata, namespace
from .resources import ResourceProfile
from .scripts import BASH, script
from .settings.network import AddressPool, check_pools
from .settings.reader import read_url

METALLB_API = "metallb.io/v1beta1"
PRIVILEGED = {f"pod-security.kubernetes.io/{mode}": "privileged" for mode in ("enforce", "audit", "warn")}

# The speaker answers ARP for every LoadBalancer address, the gateway's included. system-node-critical and
# system-cluster-critical are admitted outside kube-system only where a ResourceQuota opts in (the API
# server's default ResourceQuota admission config limits them), and they would let the speaker preempt
# the cluster's own critical pods. A class of our own at the highest user value (1e9; the system classes
# sit at 2e9 and above) ranks the speaker above every ordinary workload for scheduling and for the
# kubelet's node-pressure eviction order, and below the cluster's own critical pods.
SPEAKER_PRIORITY_CLASS = "homelab-network-critical"
SPEAKER_PRIORITY = 1_000_000_000
L2_ADVERTISEMENT = "homelab-l2"


DEFAULT_HELM_TIMEOUT_SECONDS = 900
DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 300


class AddressPoolArgs(TypedDict):
    """LAN addresses MetalLB may hand out, outside the DHCP range."""

    name: str
    """The IPAddressPool's name."""
    addresses: list[str]
    """Ranges (a-b) or CIDR blocks."""
    auto_assign: NotRequired[bool]
    """Whether any LoadBalancer Service may get an address from it; default true."""
    renamed_from: NotRequired[str]
    """The pool's name before a rename: the old pool is deleted first."""


class MetalLBArgs(TypedDict):
    """MetalLB's chart and the address pools it answers ARP for."""

    address_pools: list[AddressPoolArgs]
    """At least one pool; no two overlap."""
    cluster: ClusterArgs
    """Which cluster the webhook probe reaches: the Kubernetes provider's."""
    gateway_pool: NotRequired[AddressPoolArgs]
    """A pool of its own for the gateway's fixed address (autoAssign false), created after the others."""
    version: NotRequired[str]
    """The MetalLB chart version, such as 0.15.3; default: the package's pinned one."""
    chart_repository: NotRequired[str]
    """The Helm repository of MetalLB's chart (https:// or oci://)."""
    helm_timeout_seconds: NotRequired[int]
    """How long Helm waits for the release; default 900."""
    resources: NotRequired[dict[str, ResourceProfileArgs]]
    """Requests and limits (metallbController, metallbSpeaker), over the lean profile."""
    image_registry: NotRequired[str]
    """A registry mirroring quay.io, for MetalLB's images."""
    extra_values: NotRequired[dict[str, Any]]
    """Helm values merged over the component's values last."""
    webhook_timeout_seconds: NotRequired[int]
    """How long to wait for MetalLB's webhook to answer; default 300."""
    adoption: NotRequired[AdoptionArgs]
    """What to take over from a cluster other tools set up."""


def chart_values(resources: Mapping[str, ResourceProfile], image_registry: str | None = None) -> dict[str, Any]:
    # L2 only: the native speaker. 0.15 defaults to FRR sidecars and 0.16 to FRR-K8s; both are BGP machinery.
    # `controller.resources`, `speaker.resources` and `speaker.priorityClassName` are chart values in 0.15
    # and 0.16 (charts/metallb/values.yaml), empty by default.
    values: dict[str, Any] = {
        "controller": {"resources": resources["metallbController"].as_values()},
        "speaker": {
            "frr": {"enabled": False},
            "resources": resources["metallbSpeaker"].as_values(),
            "priorityClassName": SPEAKER_PRIORITY_CLASS,
        },
        "frrk8s": {"enabled": False},
    }
    if image_registry:
        # `<component>.image.repository` (charts/metallb/values.yaml, 0.15 and 0.16); the tag stays the chart's.
        for component in ("controller", "speaker"):
            values[component]["image"] = {"repository": mirrored(f"quay.io/metallb/{component}", image_registry)}
    return values


def priority_class_fields() -> dict[str, Any]:
    return {
        "value": SPEAKER_PRIORITY,
        "globalDefault": False,
        "preemptionPolicy": "PreemptLowerPriority",
        "description": "MetalLB's speaker: answers ARP for the LAN addresses of LoadBalancer Services.",
    }


def address_pool_spec(pool: AddressPool) -> dict[str, Any]:
    return {"addresses": list(pool.addresses), "autoAssign": pool.auto_assign}


def l2_advertisement_spec(pools: tuple[AddressPool, ...]) -> dict[str, Any]:
    return {"ipAddressPools": [pool.name for pool in pools]}


# RFC 5737 documentation address: never on a LAN, so this probe pool overlaps no real one.
PROBE_POOL = AddressPool.model_validate({"name": "homelab-mesh-webhook-probe", "addresses": ["192.0.2.255/32"]})


def probed_pools(pools: tuple[AddressPool, ...]) -> tuple[AddressPool, ...]:
    """The pools the webhook probe dry-runs: every pool except renamed ones, which overlap their old pool
    by design until it is deleted (the webhook would deny them); a stand-in when only renamed pools remain."""
    kept = tuple(pool for pool in pools if pool.renamed_from is None)
    return kept or (PROBE_POOL,)


def pools_manifest(pools: tuple[AddressPool, ...]) -> str:
    """Pools in one manifest (a v1 List), so the webhook probe dry-runs each of them."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "List",
            "items": [
                {
                    "apiVersion": METALLB_API,
                    "kind": "IPAddressPool",
                    "metadata": {"name": pool.name, "namespace": names.METALLB_NAMESPACE},
                    "spec": address_pool_spec(pool),
                }
                for pool in pools
            ],
        },
        sort_keys=True,
    )


class MetalLB(pulumi.ComponentResource):
    """MetalLB in L2 mode: the chart, a PriorityClass for its speaker, the address pools (created once the
    webhook answers, and after what the component depends on: e.g. an AddressHandover) and their
    L2Advertisement."""

    pools: pulumi.Output[list[str]]
    """The names of the address pools."""

    def __init__(self, name: str, args: MetalLBArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        reader = ArgsReader("MetalLB", name, args)
        version = reader.args.get("version", versions.DEFAULT_METALLB_VERSION)
        if versions.parse_version(version) is None or version.startswith("v"):
            reader.fail("version", f"{json.dumps(version)} is not a pinned chart version such as 0.15.3")
        repository = read_url(reader, "chart_repository", versions.DEFAULT_METALLB_CHART_REPOSITORY)
        raw_pools = reader.args.get("address_pools") or []
        if not raw_pools:
            reader.fail("address_pools", "needs at least one pool (LAN addresses for MetalLB)")
        pools = [
            reader.model(f"addressPools[{index}]", AddressPool, camel_keys(pool))
            for index, pool in enumerate(raw_pools)
        ]
        check_pools(reader, pools)
        gateway_pool = None
        if args.get("gateway_pool") is not None:
            gateway_pool = reader.model("gatewayPool", AddressPool, camel_keys(args["gateway_pool"]))
        helm_timeout = reader.whole_number("helm_timeout_seconds", DEFAULT_HELM_TIMEOUT_SECONDS, 60, 7200)
        webhook_timeout = reader.whole_number("webhook_timeout_seconds", DEFAULT_WEBHOOK_TIMEOUT_SECONDS, 30, 3600)
        profiles = resource_profiles(reader)
        check_cluster(reader)
        reader.raise_problems()
        own, waits_for = component_options("MetalLB", name, opts, "homelab-mesh:metallb:MetalLB")
        super().__init__(token("MetalLB"), name, None, own)
        adoption = adoption_plan(args.get("adoption"))
        cluster = cluster_of(args["cluster"])
        user_pools = tuple(pool for pool in pools if pool is not None)
        all_pools = user_pools + ((gateway_pool,) if gateway_pool else ())
        self.namespace = namespace(
            names.METALLB_NAMESPACE,
            labels=PRIVILEGED,
            resource_name=f"{name}-namespace",
            opts=pulumi.ResourceOptions(
                parent=self,
                import_=adoption.namespace_import_id(names.METALLB_NAMESPACE),
                aliases=renamed(f"{name}-namespace", names.METALLB_NAMESPACE),
            ),
        )
        self.priority_class = KubernetesObject(
            f"{name}-speaker-priority",
            api_version="scheduling.k8s.io/v1",
            kind="PriorityClass",
            metadata=metadata(SPEAKER_PRIORITY_CLASS),
            opts=pulumi.ResourceOptions(
                parent=self, aliases=renamed(f"{name}-speaker-priority", "metallb-speaker-priority")
            ),
            **priority_class_fields(),
        )
        self.release = helm_release(
            f"{name}-release",
            "metallb",
            "metallb",
            repository=repository,
            version=version,
            namespace=names.METALLB_NAMESPACE,
            values=merged_values(chart_values(profiles, args.get("image_registry")), args.get("extra_values") or {}),
            timeout=helm_timeout,
            adoption=adoption,
            # Pods naming a PriorityClass that does not exist are refused at admission.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.namespace, self.priority_class],
                aliases=renamed(f"{name}-release", "metallb"),
            ),
        )
        self.webhook_ready = command.local.Command(
            f"{name}-webhook-ready",
            create=script("wait-for-metallb-webhook.sh"),
            interpreter=BASH,
            environment=cluster.environment(
                POOL_MANIFEST=pools_manifest(probed_pools(user_pools)),
                TIMEOUT_SECONDS=str(webhook_timeout),
            ),
            # A new chart version restarts the controller, so the webhook is waited for again.
            triggers=[version],
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.release],
                aliases=renamed(f"{name}-webhook-ready", "metallb-webhook-ready"),
            ),
        )
        # handoverFrom: the pools change only once the Service holding the gateway address is gone. Otherwise
        # the address leaves every pool for a moment (it moves into the gateway's own pool), and MetalLB clears a
        # Service's address that no pool allows (v0.16.1 controller/service.go, "current IP not allowed by
        # config"), so the old holder and the Gateway would race for it.
        pools_wait_for = [self.webhook_ready, *waits_for]
        self.address_pools = [self._pool(name, pool, pools_wait_for, adoption) for pool in user_pools]
        if gateway_pool is not None:
            # Created only once the pool it was cut from has shrunk: MetalLB refuses overlapping pools.
            self.address_pools.append(self._pool(name, gateway_pool, [*pools_wait_for, *self.address_pools], adoption))
        self.l2_advertisement = KubernetesObject(
            f"{name}-l2-advertisement",
            api_version=METALLB_API,
            kind="L2Advertisement",
            metadata=metadata(L2_ADVERTISEMENT, names.METALLB_NAMESPACE),
            spec=l2_advertisement_spec(all_pools),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.webhook_ready, *self.address_pools],
                import_=adoption.object_import_id("L2Advertisement", names.METALLB_NAMESPACE, L2_ADVERTISEMENT),
                aliases=renamed(f"{name}-l2-advertisement", "l2-advertisement"),
            ),
        )
        self.pools = pulumi.Output.from_input([pool.name for pool in all_pools])
        self.register_outputs({"pools": self.pools})

    def _pool(
        self, name: str, pool: AddressPool, depends_on: list[pulumi.Resource], adoption: AdoptionPlan
    ) -> KubernetesObject:
        resource_name = pool_resource_name(name, pool.name)
        # The pool's fixed name before pools were named after their MetalLB; a renamed pool keeps its resource.
        earlier = [pool_resource_name("", pool.name)]
        if pool.renamed_from:
            earlier += [pool_resource_name(name, pool.renamed_from), pool_resource_name("", pool.renamed_from)]
        return KubernetesObject(
            resource_name,
            api_version=METALLB_API,
            kind="IPAddressPool",
            metadata=metadata(pool.name, names.METALLB_NAMESPACE),
            spec=address_pool_spec(pool),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=depends_on,
                # A renamed pool keeps its Pulumi resource; its new name forces a replacement, and the old
                # object must go first or the webhook refuses the new one as overlapping it.
                aliases=[pulumi.Alias(name=old) for old in earlier],
                delete_before_replace=True,
                import_=adoption.object_import_id("IPAddressPool", names.METALLB_NAMESPACE, pool.name),
            ),
        )


def pool_resource_name(component: str, pool_name: str) -> str:
    """A pool's Pulumi name in the MetalLB `component` (empty: the fixed name before the package)."""
    return f"{component}-address-pool-{pool_name}" if component else f"address-pool-{pool_name}"
