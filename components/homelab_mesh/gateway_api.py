"""GatewayApiCrds: the Gateway API standard-channel CRDs from one pinned release."""

from typing import TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .arguments import ArgsReader, component_options, token
from .versions import gateway_api_install_url


class GatewayApiCrdsArgs(TypedDict):
    """The Gateway API release whose CRDs to install."""

    version: str
    """A pinned Gateway API release, such as v1.4.1."""


class GatewayApiCrds(pulumi.ComponentResource):
    """The CRDs behind Gateway, HTTPRoute and ReferenceGrant, retained on delete: deleting a CRD deletes every
    object of its kind, every team's Gateways and routes. Removing the component or `pulumi destroy` leaves
    them on the cluster, with no state command. The CRDs wait for what the component depends on."""

    url: pulumi.Output[str]
    """The release's standard-install manifest the CRDs come from."""

    def __init__(self, name: str, args: GatewayApiCrdsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        reader = ArgsReader("GatewayApiCrds", name, args)
        version = reader.version("version", prefix="v")
        reader.raise_problems()
        own, waits_for = component_options("GatewayApiCrds", name, opts, "homelab-mesh:gateway-api:GatewayApiCrds")
        super().__init__(token("GatewayApiCrds"), name, None, own)
        url = gateway_api_install_url(version)
        self.url = pulumi.Output.from_input(url)
        # The CRDs inherit retainOnDelete from the ConfigFile that registers them (pulumi/pulumi v3.259.0,
        # pkg/resource/deploy/source_eval.go `inheritFromParent`: protect, retainOnDelete, deletedWith and
        # provider pass from a parent to its children).
        self.crds = k8s.yaml.v2.ConfigFile(
            f"{name}-standard-crds",
            file=url,
            opts=pulumi.ResourceOptions(
                parent=self,
                retain_on_delete=True,
                depends_on=waits_for,
            ),
        )
        self.register_outputs({"url": self.url})
