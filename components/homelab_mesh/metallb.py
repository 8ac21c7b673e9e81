"""MetalLB: L2 LoadBalancer addresses from the LAN, with pools created only once the webhook answers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s

from . import names
from .adoption import AdoptionPlan, release_adoption
from .chart_keys import merged_values
from .cluster import Cluster
from .images import mirrored
from .kubernetes import KubernetesObject, metadata, namespace
from .resources import ResourceProfile
from .scripts import BASH, script
from .settings import AddressPool, MetallbSettings

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


@dataclass(frozen=True)
class MetalLBArgs:
    settings: MetallbSettings
    # Which cluster the scripts reach: the Kubernetes provider's (components/cluster.py).
    cluster: Cluster
    helm_timeout_seconds: int
    resources: Mapping[str, ResourceProfile]
    image_registry: str | None = None
    # helmValues.metallb, merged over the program's values last.
    extra_values: Mapping[str, Any] = field(default_factory=dict)
    webhook_timeout_seconds: int = 300
    # adoptExisting: take-ownership or import of the release, import of metallb-system.
    adoption: AdoptionPlan = field(default_factory=AdoptionPlan)
    # handoverFrom: the pools change only once the Service holding the gateway address is gone. Otherwise
    # the address leaves every pool for a moment (it moves into the gateway's own pool), and MetalLB clears a
    # Service's address that no pool allows (v0.16.1 controller/service.go, "current IP not allowed by
    # config"), so the old holder and the Gateway would race for it.
    pools_wait_for: Sequence[pulumi.Resource] = ()


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
    def __init__(self, name: str, args: MetalLBArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-mesh:metallb:MetalLB", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.namespace = namespace(
            names.METALLB_NAMESPACE,
            labels=PRIVILEGED,
            opts=pulumi.ResourceOptions(
                parent=self, import_=args.adoption.namespace_import_id(names.METALLB_NAMESPACE)
            ),
        )
        adopted, adoption_options = release_adoption(args.adoption, "metallb", names.METALLB_NAMESPACE)
        self.priority_class = KubernetesObject(
            "metallb-speaker-priority",
            api_version="scheduling.k8s.io/v1",
            kind="PriorityClass",
            metadata=metadata(SPEAKER_PRIORITY_CLASS),
            opts=child,
            **priority_class_fields(),
        )
        self.release = k8s.helm.v3.Release(
            "metallb",
            name="metallb",
            chart="metallb",
            version=args.settings.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=args.settings.chart_repository),
            namespace=names.METALLB_NAMESPACE,
            values=merged_values(chart_values(args.resources, args.image_registry), args.extra_values),
            timeout=args.helm_timeout_seconds,
            cleanup_on_fail=True,
            max_history=5,
            **adopted,
            # Pods naming a PriorityClass that does not exist are refused at admission.
            opts=pulumi.ResourceOptions.merge(
                pulumi.ResourceOptions(parent=self, depends_on=[self.namespace, self.priority_class]),
                adoption_options,
            ),
        )
        self.webhook_ready = command.local.Command(
            "metallb-webhook-ready",
            create=script("wait-for-metallb-webhook.sh"),
            interpreter=BASH,
            environment=args.cluster.environment(
                POOL_MANIFEST=pools_manifest(probed_pools(args.settings.pools)),
                TIMEOUT_SECONDS=str(args.webhook_timeout_seconds),
            ),
            # A new chart version restarts the controller, so the webhook is waited for again.
            triggers=[args.settings.version],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
        )
        waits_for = [self.webhook_ready, *args.pools_wait_for]
        self.pools = [self._pool(pool, waits_for, args.adoption) for pool in args.settings.pools]
        if args.settings.gateway_pool is not None:
            # Created only once the pool it was cut from has shrunk: MetalLB refuses overlapping pools.
            self.pools.append(self._pool(args.settings.gateway_pool, [*waits_for, *self.pools], args.adoption))
        all_pools = args.settings.all_pools
        self.l2_advertisement = KubernetesObject(
            "l2-advertisement",
            api_version=METALLB_API,
            kind="L2Advertisement",
            metadata=metadata(L2_ADVERTISEMENT, names.METALLB_NAMESPACE),
            spec=l2_advertisement_spec(all_pools),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.webhook_ready, *self.pools],
                import_=args.adoption.object_import_id("L2Advertisement", names.METALLB_NAMESPACE, L2_ADVERTISEMENT),
            ),
        )
        self.register_outputs({"pools": [pool.name for pool in all_pools]})

    def _pool(self, pool: AddressPool, depends_on: list[pulumi.Resource], adoption: AdoptionPlan) -> KubernetesObject:
        return KubernetesObject(
            pool_resource_name(pool.name),
            api_version=METALLB_API,
            kind="IPAddressPool",
            metadata=metadata(pool.name, names.METALLB_NAMESPACE),
            spec=address_pool_spec(pool),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=depends_on,
                # A renamed pool keeps its Pulumi resource; its new name forces a replacement, and the old
                # object must go first or the webhook refuses the new one as overlapping it.
                aliases=[pulumi.Alias(name=pool_resource_name(pool.renamed_from))] if pool.renamed_from else None,
                delete_before_replace=True,
                import_=adoption.object_import_id("IPAddressPool", names.METALLB_NAMESPACE, pool.name),
            ),
        )


def pool_resource_name(pool_name: str) -> str:
    return f"address-pool-{pool_name}"
