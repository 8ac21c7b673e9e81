"""FrontDoorCheck: after `pulumi up`, prove the Gateway answers each hostname the way a browser needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_command as command

from .cluster import Cluster
from .scripts import BASH, script
from .settings import Route


@dataclass(frozen=True)
class FrontDoorCheckArgs:
    address: pulumi.Input[str | None]
    hostnames: tuple[str, ...]
    routes: tuple[Route, ...]
    # The private CA's certificate (public); None when the certificate is provided and publicly trusted.
    ca_certificate_pem: pulumi.Input[str] | None
    # Which cluster the scripts reach: the Kubernetes provider's (components/cluster.py).
    cluster: Cluster
    timeout_seconds: int
    # private-ca mode: hostname -> end of validity; a renewed certificate changes it and runs the check again.
    certificate_expiry: Mapping[str, pulumi.Input[str]]
    # The Gateway, its HTTP redirect route and every HTTPRoute: what the check exercises.
    depends_on: Sequence[pulumi.Resource]
    # tlsMode existing: hostname -> `<namespace>/<Secret>` whose certificate the gateway must serve, the one
    # the hostname's clients were served before.
    pinned_secrets: Mapping[str, str] = field(default_factory=dict)


def route_rules(routes: Sequence[Route]) -> str:
    """One line per rule, `<hostname> <namespace> <service> <path>`: paths and names hold no whitespace."""
    return "".join(
        f"{route.hostname} {route.namespace} {rule.service} {rule.path}\n" for route in routes for rule in route.rules
    )


class FrontDoorCheck(pulumi.ComponentResource):
    """Fails the update, naming the hostname and what was seen, unless plain HTTP redirects to HTTPS, the
    HTTPS certificate is valid for the hostname and no routed path answers a 5xx. Not on every `pulumi up`: it
    runs again when one of its inputs changes (pulumi-command 1.2.1: without an `update` command, `create` runs
    again on any input change, and a trigger change replaces it): what it checks (`triggers`: the hostnames,
    the address, the routes, the CA, and in private-ca mode each certificate's end of validity, so that a
    renewal is checked from the outside too) and also the script's text, its timeout or the cluster it
    reaches."""

    def __init__(self, name: str, args: FrontDoorCheckArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-mesh:ingress:FrontDoorCheck", name, None, opts)
        hostnames = " ".join(args.hostnames)
        rules = route_rules(args.routes)
        address = pulumi.Output.from_input(args.address).apply(lambda value: value or "")
        environment = args.cluster.environment(
            GATEWAY_ADDRESS=address,
            HOSTNAMES=hostnames,
            ROUTE_RULES=rules,
            TIMEOUT_SECONDS=str(args.timeout_seconds),
        )
        if args.ca_certificate_pem is not None:
            environment["CA_CERTIFICATE_PEM"] = args.ca_certificate_pem
        pins = "".join(f"{hostname} {secret}\n" for hostname, secret in sorted(args.pinned_secrets.items()))
        if pins:
            environment["PINNED_CERTIFICATES"] = pins
        self.check = command.local.Command(
            "check-front-door",
            create=script("check-front-door.sh"),
            interpreter=BASH,
            environment=environment,
            triggers=[
                hostnames,
                address,
                rules,
                args.ca_certificate_pem or "",
                *([pins] if pins else []),
                *(args.certificate_expiry[hostname] for hostname in sorted(args.certificate_expiry)),
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        self.register_outputs({"stdout": self.check.stdout})
