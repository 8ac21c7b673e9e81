"""FrontDoorCheck: after `pulumi up`, prove the Gateway answers each hostname the way a browser needs."""

from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_command as command

from .arguments import ArgsReader, ClusterArgs, RouteArgs, check_cluster, cluster_of, component_options, token
from .scripts import BASH, script
from .settings.checks import check_hostname
from .settings.routes import Route

DEFAULT_TIMEOUT_SECONDS = 300


class FrontDoorCheckArgs(TypedDict):
    """The front door to check from the outside, and the cluster its script reaches."""

    address: pulumi.Input[str]
    """The gateway's address (IngressGateway.address)."""
    hostnames: list[str]
    """The hostnames the gateway serves."""
    cluster: ClusterArgs
    """Which cluster the script reaches: the Kubernetes provider's."""
    routes: NotRequired[list[RouteArgs]]
    """The routes behind them: no routed path may answer a 5xx."""
    ca_certificate_pem: NotRequired[pulumi.Input[str]]
    """The private CA's certificate (public); unset when the certificate is publicly trusted."""
    timeout_seconds: NotRequired[int]
    """How long the check waits for the front door to answer; default 300."""
    certificate_expiry: NotRequired[dict[str, pulumi.Input[str]]]
    """Hostname -> end of validity of its certificate: a renewal runs the check again."""
    pinned_secrets: NotRequired[dict[str, str]]
    """Hostname -> `<namespace>/<Secret>` whose certificate the gateway must serve."""


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

    output: pulumi.Output[str]
    """What the check printed."""

    def __init__(self, name: str, args: FrontDoorCheckArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        reader = ArgsReader("FrontDoorCheck", name, args)
        if "address" not in args:
            reader.fail("address", "is required")
        for index, hostname in enumerate(reader.required("hostnames") or []):
            reader.check(f"hostnames[{index}]", check_hostname, hostname)
        routes: list[Route] = reader.models("routes", Route, args.get("routes") or [])
        timeout = reader.whole_number("timeout_seconds", DEFAULT_TIMEOUT_SECONDS, 30, 3600)
        check_cluster(reader)
        reader.raise_problems()
        own, waits_for = component_options("FrontDoorCheck", name, opts, "homelab-mesh:ingress:FrontDoorCheck")
        super().__init__(token("FrontDoorCheck"), name, None, own)
        ca_certificate_pem = args.get("ca_certificate_pem")
        certificate_expiry = args.get("certificate_expiry") or {}
        hostnames = " ".join(args["hostnames"])
        rules = route_rules(routes)
        address = pulumi.Output.from_input(args["address"]).apply(lambda value: value or "")
        environment = cluster_of(args["cluster"]).environment(
            GATEWAY_ADDRESS=address,
            HOSTNAMES=hostnames,
            ROUTE_RULES=rules,
            TIMEOUT_SECONDS=str(timeout),
        )
        if ca_certificate_pem is not None:
            environment["CA_CERTIFICATE_PEM"] = ca_certificate_pem
        pinned = args.get("pinned_secrets") or {}
        pins = "".join(f"{hostname} {secret}\n" for hostname, secret in sorted(pinned.items()))
        if pins:
            environment["PINNED_CERTIFICATES"] = pins
        self.check = command.local.Command(
            f"check-{name}",
            create=script("check-front-door.sh"),
            interpreter=BASH,
            environment=environment,
            triggers=[
                hostnames,
                address,
                rules,
                ca_certificate_pem or "",
                *([pins] if pins else []),
                *(certificate_expiry[hostname] for hostname in sorted(certificate_expiry)),
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=waits_for),
        )
        self.output = self.check.stdout
        self.register_outputs({"output": self.output})
