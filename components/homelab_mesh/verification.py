"""MeshVerification: after `pulumi up` has built the mesh, prove it carries traffic as intended."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_command as command

from . import names
from .cluster import Cluster
from .scripts import BASH, script


@dataclass(frozen=True)
class MeshVerificationArgs:
    istio_version: str
    namespaces: tuple[str, ...]
    # Which cluster the scripts reach: the Kubernetes provider's (components/cluster.py).
    cluster: Cluster
    timeout_seconds: int
    check_gateway: bool
    # ztunnel, the meshed namespaces and the Gateway: what has to exist before there is anything to check.
    depends_on: Sequence[pulumi.Resource]


class MeshVerification(pulumi.ComponentResource):
    """Fails the update, naming the namespace and what to look at, unless every meshed pod is on HBONE and
    the Gateway is Programmed with an address. Not on every `pulumi up`: it runs again when one of its inputs
    changes (pulumi-command 1.2.1: without an `update` command, `create` runs again on any input change, and a
    trigger change replaces it), that is the Istio version or the set of meshed namespaces (`triggers`), and
    also the script's text, its timeout, the cluster it reaches or whether the Gateway is checked."""

    def __init__(self, name: str, args: MeshVerificationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-mesh:mesh:MeshVerification", name, None, opts)
        namespaces = " ".join(sorted(args.namespaces))
        gateway = {"GATEWAY_NAME": names.GATEWAY_NAME, "GATEWAY_NAMESPACE": names.GATEWAY_NAMESPACE}
        self.check = command.local.Command(
            "verify-mesh",
            create=script("verify-mesh.sh"),
            interpreter=BASH,
            environment=args.cluster.environment(
                NAMESPACES=namespaces,
                TIMEOUT_SECONDS=str(args.timeout_seconds),
                **(gateway if args.check_gateway else {}),
            ),
            triggers=[args.istio_version, namespaces],
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        self.register_outputs({"stdout": self.check.stdout})
