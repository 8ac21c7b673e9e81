"""GatewayApiCrds: the Gateway API standard-channel CRDs from one pinned release."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .versions import gateway_api_install_url


@dataclass(frozen=True)
class GatewayApiCrdsArgs:
    version: str
    # The upgrade guard, and istiod when this `pulumi up` changes the CRDs after it (components/upgrade.py).
    depends_on: pulumi.Input[Sequence[pulumi.Resource]]


class GatewayApiCrds(pulumi.ComponentResource):
    """The CRDs behind Gateway, HTTPRoute and ReferenceGrant, retained on delete: deleting a CRD deletes every
    object of its kind, every team's Gateways and routes. Switching `gatewayApiCrds` to `external`, removing
    the component or `pulumi destroy` leaves them on the cluster, with no state command. The CRDs inherit the
    option from the ConfigFile that registers them (pulumi/pulumi v3.259.0, pkg/resource/deploy/source_eval.go
    `inheritFromParent`: protect, retainOnDelete, deletedWith and provider pass from a parent to its children)."""

    def __init__(self, name: str, args: GatewayApiCrdsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-mesh:gateway-api:GatewayApiCrds", name, None, opts)
        self.url = gateway_api_install_url(args.version)
        self.crds = k8s.yaml.v2.ConfigFile(
            "gateway-api-standard-crds",
            file=self.url,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True, depends_on=args.depends_on),
        )
        self.register_outputs({"version": args.version, "url": self.url})
