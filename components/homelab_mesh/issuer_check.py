"""IssuerCheck: with cert-manager already on the cluster (`certManagerInstalled`), prove before the first
Certificate that its CRDs are served and the issuer named by `tlsIssuer` is Ready."""

from typing import TypedDict

import pulumi
import pulumi_command as command

from . import names
from .arguments import ArgsReader, ClusterArgs, camel_keys, check_cluster, cluster_of, token
from .scripts import BASH, script
from .settings.tls import IssuerRef
from .tls_args import TlsIssuerArgs


class IssuerCheckArgs(TypedDict):
    """The issuer the gateway's Certificates reference, and the cluster its script reaches."""

    issuer: TlsIssuerArgs
    """The existing cert-manager issuer (an Issuer is looked up in istio-gateway)."""
    cluster: ClusterArgs
    """Which cluster the script reaches: the Kubernetes provider's."""


class IssuerCheck(pulumi.ComponentResource):
    """Fails the update, naming what is missing (cert-manager's CRDs, the issuer, or its Ready condition and
    message), before the IngressGateway's Certificates are created: make the IngressGateway depend on it. Runs
    again when the issuer or the cluster changes (pulumi-command 1.2.1 re-runs `create` on any input change)."""

    issuer: pulumi.Output[str]
    """`<kind>/<name>` of the issuer found Ready."""

    def __init__(self, name: str, args: IssuerCheckArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        reader = ArgsReader("IssuerCheck", name, args)
        issuer: IssuerRef | None = None
        if reader.required("issuer") is not None:
            issuer = reader.model("issuer", IssuerRef, camel_keys(args["issuer"]))
        check_cluster(reader)
        reader.raise_problems()
        assert issuer is not None
        # New with the package: no earlier type to alias. Readiness is the check's, as in every component.
        own = pulumi.ResourceOptions.merge(opts or pulumi.ResourceOptions(), pulumi.ResourceOptions())
        waits_for = own.depends_on
        own.depends_on = None
        super().__init__(token("IssuerCheck"), name, None, own)
        self.check = command.local.Command(
            f"{name}-issuer-ready",
            create=script("check-cert-manager-issuer.sh"),
            interpreter=BASH,
            environment=cluster_of(args["cluster"]).environment(
                ISSUER_KIND=issuer.kind, ISSUER_NAME=issuer.name, ISSUER_NAMESPACE=names.GATEWAY_NAMESPACE
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=waits_for),
        )
        self.issuer = pulumi.Output.from_input(f"{issuer.kind}/{issuer.name}")
        self.register_outputs({"issuer": self.issuer})
