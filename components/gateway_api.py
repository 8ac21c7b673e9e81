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
    """The CRDs behind Gateway, HTTPRoute and ReferenceGrant. Protected: deleting them deletes every route."""

    def __init__(self, name: str, args: GatewayApiCrdsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-mesh:gateway-api:GatewayApiCrds", name, None, opts)
        self.url = gateway_api_install_url(args.version)
        self.crds = k8s.yaml.v2.ConfigFile(
            "gateway-api-standard-crds",
            file=self.url,
            opts=pulumi.ResourceOptions(parent=self, protect=True, depends_on=args.depends_on),
        )
        self.register_outputs({"version": args.version, "url": self.url})
