"""AddressHandover: `handoverFrom`, the gateway address moved from the classic ingress gateway's Service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_command as command

from . import names
from .cluster import Cluster
from .scripts import BASH, script


@dataclass(frozen=True)
class AddressHandoverArgs:
    # `<namespace>/<name>` of the Service holding the address today.
    service: str
    address: str
    # Which cluster the script reaches: the Kubernetes provider's (components/cluster.py).
    cluster: Cluster
    # The upgrade guard: its inspection has seen the Service and allowed the hand-over.
    depends_on: Sequence[pulumi.Resource]


class AddressHandover(pulumi.ComponentResource):
    """Deletes the Service that holds gatewayAddress once the stack's Gateway is Programmed at its current
    address (refused otherwise); the Gateway waits for this, so its address changes right after and the gap
    is MetalLB's re-assignment (docs/adoption.md). Runs once per Service and address."""

    def __init__(self, name: str, args: AddressHandoverArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-mesh:ingress:AddressHandover", name, None, opts)
        self.release = command.local.Command(
            "gateway-address-handover",
            create=script("handover-gateway-address.sh"),
            interpreter=BASH,
            environment=args.cluster.environment(SERVICE=args.service,
                ADDRESS=args.address,
                GATEWAY_NAME=names.GATEWAY_NAME,
                GATEWAY_NAMESPACE=names.GATEWAY_NAMESPACE,
            ),
            triggers=[args.service, args.address],
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        self.register_outputs({"service": args.service, "address": args.address})
