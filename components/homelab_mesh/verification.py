"""MeshVerification: after `pulumi up` has built the mesh, prove it carries traffic as intended."""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_command as command

from . import names
from .arguments import ArgsReader, ClusterArgs, check_cluster, cluster_of, component_options, token
from .scripts import BASH, script
from .settings.checks import check_namespace

DEFAULT_TIMEOUT_SECONDS = 300


class MeshVerificationArgs(TypedDict):
    """What to verify, on which cluster."""

    istio_version: str
    """The Istio release installed: a new one runs the check again."""
    namespaces: list[str]
    """The meshed namespaces whose pods must all be on HBONE."""
    cluster: ClusterArgs
    """Which cluster the script reaches: the Kubernetes provider's."""
    timeout_seconds: NotRequired[int]
    """How long the check waits for the mesh to settle; default 300."""
    check_gateway: NotRequired[bool]
    """Also require the ingress Gateway to be Programmed with an address; default false."""


class MeshVerification(pulumi.ComponentResource):
    """Fails the update, naming the namespace and what to look at, unless every meshed pod is on HBONE and
    the Gateway is Programmed with an address. Runs after what the component depends on (ztunnel, the meshed
    namespaces, the Gateway). Not on every `pulumi up`: it runs again when one of its inputs changes
    (pulumi-command 1.2.1: without an `update` command, `create` runs again on any input change, and a
    trigger change replaces it), that is the Istio version or the set of meshed namespaces (`triggers`), and
    also the script's text, its timeout, the cluster it reaches or whether the Gateway is checked."""

    output: pulumi.Output[str]
    """What the check printed."""

    def __init__(self, name: str, args: MeshVerificationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        reader = ArgsReader("MeshVerification", name, args)
        istio_version = reader.version("istio_version")
        for index, namespace in enumerate(reader.required("namespaces") or []):
            reader.check(f"namespaces[{index}]", check_namespace, namespace)
        timeout = reader.whole_number("timeout_seconds", DEFAULT_TIMEOUT_SECONDS, 30, 3600)
        check_cluster(reader)
        reader.raise_problems()
        own, waits_for = component_options("MeshVerification", name, opts, "homelab-mesh:mesh:MeshVerification")
        super().__init__(token("MeshVerification"), name, None, own)
        namespaces = " ".join(sorted(args["namespaces"]))
        gateway = {"GATEWAY_NAME": names.GATEWAY_NAME, "GATEWAY_NAMESPACE": names.GATEWAY_NAMESPACE}
        self.check = command.local.Command(
            f"{name}-mesh",
            create=script("verify-mesh.sh"),
            interpreter=BASH,
            environment=cluster_of(args["cluster"]).environment(
                NAMESPACES=namespaces,
                TIMEOUT_SECONDS=str(timeout),
                **(gateway if args.get("check_gateway", False) else {}),
            ),
            triggers=[istio_version, namespaces],
            opts=pulumi.ResourceOptions(parent=self, depends_on=waits_for),
        )
        self.output = self.check.stdout
        self.register_outputs({"output": self.output})
