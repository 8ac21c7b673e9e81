"""AddressHandover: `handoverFrom`, the gateway address moved from the classic ingress gateway's Service."""

from typing import TypedDict

import pulumi
import pulumi_command as command

from . import names
from .arguments import ArgsReader, ClusterArgs, check_cluster, cluster_of, component_options, token
from .scripts import BASH, script
from .settings.adoption import check_service_reference
from .settings.network import check_address


class AddressHandoverArgs(TypedDict):
    """The Service that holds the gateway address today, and the address."""

    service: str
    """`<namespace>/<name>` of the Service holding the address today."""
    address: str
    """The gateway address it holds."""
    cluster: ClusterArgs
    """Which cluster the script reaches: the Kubernetes provider's."""


class AddressHandover(pulumi.ComponentResource):
    """Deletes the Service that holds the address once the stack's Gateway is Programmed at its current
    address (refused otherwise); the Gateway waits for this, so its address changes right after and the gap
    is MetalLB's re-assignment (docs/adoption.md). Runs once per Service and address, after what the
    component depends on (the upgrade guard, whose inspection has seen the Service)."""

    service: pulumi.Output[str]
    """The Service the address was taken from."""

    def __init__(self, name: str, args: AddressHandoverArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        reader = ArgsReader("AddressHandover", name, args)
        reader.checked("service", check_service_reference)
        reader.checked("address", check_address)
        reader.required("service")
        reader.required("address")
        check_cluster(reader)
        reader.raise_problems()
        own, waits_for = component_options("AddressHandover", name, opts, "homelab-mesh:ingress:AddressHandover")
        super().__init__(token("AddressHandover"), name, None, own)
        service, address = args["service"], args["address"]
        self.release = command.local.Command(
            f"gateway-{name}",
            create=script("handover-gateway-address.sh"),
            interpreter=BASH,
            environment=cluster_of(args["cluster"]).environment(
                SERVICE=service,
                ADDRESS=address,
                GATEWAY_NAME=names.GATEWAY_NAME,
                GATEWAY_NAMESPACE=names.GATEWAY_NAMESPACE,
            ),
            triggers=[service, address],
            opts=pulumi.ResourceOptions(parent=self, depends_on=waits_for),
        )
        self.service = pulumi.Output.from_input(service)
        self.register_outputs({"service": self.service})
