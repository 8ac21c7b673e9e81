"""MetalLB: L2 LoadBalancer addresses from the LAN, with pools created only once the webhook answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s

from . import names
from .kubernetes import KubernetesObject, metadata, namespace
from .scripts import BASH, kube_environment, script
from .settings import AddressPool, MetallbSettings

METALLB_API = "metallb.io/v1beta1"
PRIVILEGED = {f"pod-security.kubernetes.io/{mode}": "privileged" for mode in ("enforce", "audit", "warn")}


@dataclass(frozen=True)
class MetalLBArgs:
    settings: MetallbSettings
    kube_context: str | None
    helm_timeout_seconds: int
    webhook_timeout_seconds: int = 300


def chart_values() -> dict[str, Any]:
    # L2 only: the native speaker. 0.15 defaults to FRR sidecars and 0.16 to FRR-K8s; both are BGP machinery.
    return {"speaker": {"frr": {"enabled": False}}, "frrk8s": {"enabled": False}}


def address_pool_spec(pool: AddressPool) -> dict[str, Any]:
    return {"addresses": list(pool.addresses), "autoAssign": pool.auto_assign}


def l2_advertisement_spec(pools: tuple[AddressPool, ...]) -> dict[str, Any]:
    return {"ipAddressPools": [pool.name for pool in pools]}


def pools_manifest(pools: tuple[AddressPool, ...]) -> str:
    """Every pool in one manifest (a v1 List), so the webhook probe dry-runs each pool the stack creates."""
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
        self.namespace = namespace(names.METALLB_NAMESPACE, labels=PRIVILEGED, opts=child)
        self.release = k8s.helm.v3.Release(
            "metallb",
            name="metallb",
            chart="metallb",
            version=args.settings.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=args.settings.chart_repository),
            namespace=names.METALLB_NAMESPACE,
            values=chart_values(),
            timeout=args.helm_timeout_seconds,
            cleanup_on_fail=True,
            max_history=5,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
        )
        self.webhook_ready = command.local.Command(
            "metallb-webhook-ready",
            create=script("wait-for-metallb-webhook.sh"),
            interpreter=BASH,
            environment=kube_environment(
                args.kube_context,
                POOL_MANIFEST=pools_manifest(args.settings.pools),
                TIMEOUT_SECONDS=str(args.webhook_timeout_seconds),
            ),
            # A new chart version restarts the controller, so the webhook is waited for again.
            triggers=[args.settings.version],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
        )
        after_webhook = pulumi.ResourceOptions(parent=self, depends_on=[self.webhook_ready])
        self.pools = [
            KubernetesObject(
                f"address-pool-{pool.name}",
                api_version=METALLB_API,
                kind="IPAddressPool",
                metadata=metadata(pool.name, names.METALLB_NAMESPACE),
                spec=address_pool_spec(pool),
                opts=after_webhook,
            )
            for pool in args.settings.pools
        ]
        self.l2_advertisement = KubernetesObject(
            "l2-advertisement",
            api_version=METALLB_API,
            kind="L2Advertisement",
            metadata=metadata("homelab-l2", names.METALLB_NAMESPACE),
            spec=l2_advertisement_spec(args.settings.pools),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.webhook_ready, *self.pools]),
        )
        self.register_outputs({"pools": [pool.name for pool in args.settings.pools]})
