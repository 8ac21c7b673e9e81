"""UpgradeGuard: what the Gateway API CRDs and the four Istio releases wait for before they change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pulumi
import pulumi_command as command

from .cluster import Cluster
from .scripts import BASH, script
from .upgrade import Order, Pair, decide, live_check_environment, order
from .version_record import VersionRecord
from .versions import parse_version

# The record's resource name: the engine keeps its state under it (tools/plan.py replays a deployment by it).
RECORD_NAME = "deployed-versions"


@dataclass(frozen=True)
class UpgradeGuardArgs:
    istio_version: str
    gateway_api_version: str
    gateway_api_crds: str
    # Which cluster the live check reaches: the Kubernetes provider's (components/cluster.py).
    cluster: Cluster
    # Only decides whether the end-of-life warning is printed; it never reaches a resource's inputs.
    today: date
    # What the cluster inspection reads (components/inspection.py); empty: no inspection.
    inspection: Mapping[str, str] = field(default_factory=dict)


def target_pair(istio_version: str, gateway_api_version: str) -> Pair:
    istio, gateway_api = parse_version(istio_version), parse_version(gateway_api_version)
    if istio is None or gateway_api is None:
        raise ValueError(f"not release versions: {istio_version}, {gateway_api_version}")
    return Pair(istio, gateway_api)


def leaving_pair(istio_version: str | None, gateway_api_version: str | None) -> Pair | None:
    """The pair the record says this run leaves; None when nothing was deployed before."""
    istio, gateway_api = parse_version(istio_version or ""), parse_version(gateway_api_version or "")
    return Pair(istio, gateway_api) if istio and gateway_api else None


class UpgradeGuard(pulumi.ComponentResource):
    """Two gates, both in front of every version change:

    - `record` (preview and up): the versions this stack deployed; its provider refuses a skipped minor, a
      downgrade or an unsupported intermediate pair, comparing the recorded versions with the configured ones.
    - `live_check` (up only): the cluster's Kubernetes version, running istiod, the installed CRDs and who
      owns them, and `istioctl x precheck` when istioctl is installed.
    - `inspection` (up only): every object the stack would install or take and who owns it; refuses what
      would fight (an Argo CD Application), fail (another tool's objects without adoptExisting) or hang (the
      gateway address held by another Service). Its first run is the stack's first `pulumi up`; later runs
      (when what it inspects changes) know the stack's own Helm releases and adopted namespaces.
    """

    def __init__(self, name: str, args: UpgradeGuardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-mesh:upgrade:UpgradeGuard", name, None, opts)
        target = target_pair(args.istio_version, args.gateway_api_version)
        for warning in decide(None, target, args.today).warnings:
            pulumi.log.warn(warning, resource=self)
        self.record = VersionRecord(
            RECORD_NAME,
            args.istio_version,
            args.gateway_api_version,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The order of this `pulumi up` (components/upgrade.py, `order`), from the pair it leaves. The record's
        # check() sets its previous pair to what the stack ran when the versions change, and keeps it otherwise
        # (empty until a first change). Known in preview too: a provider without previews, as the Python dynamic
        # provider is, gets its checked inputs back as outputs (pulumi/pulumi pkg/resource/plugin/
        # provider_plugin.go, Create and Update). Every cluster object waits for the guard anyway.
        self.order: pulumi.Output[Order] = pulumi.Output.all(
            self.record.previous_istio_version, self.record.previous_gateway_api_version
        ).apply(lambda previous: order(leaving_pair(*previous), target))
        # The CRD releases this stack installed or installs now: any other bundle belongs to someone else.
        expected = pulumi.Output.all(self.record.previous_gateway_api_version, self.record.gateway_api_version).apply(
            lambda versions: " ".join(sorted({version for version in versions if version}))
        )
        # The version this step leaves, once the record accepted it: a step down from there is the stack's own
        # rollback; any other move below the running istiod is refused, as if the running version were recorded.
        stepped_from = self.record.previous_istio_version.apply(lambda version: version or "")
        check = script("check-upgrade.sh")
        self.live_check = command.local.Command(
            "upgrade-live-check",
            create=check,
            update=check,
            interpreter=BASH,
            environment=pulumi.Output.all(self.order, expected, stepped_from).apply(
                lambda known: pulumi.Output.from_input(
                    args.cluster.environment(
                        ISTIO_VERSION=args.istio_version,
                        GATEWAY_API_VERSION=args.gateway_api_version,
                        GATEWAY_API_CRDS=args.gateway_api_crds,
                        EXPECTED_GATEWAY_API_VERSIONS=known[1],
                        STEPPED_FROM_ISTIO_VERSION=known[2],
                        **live_check_environment(target, known[0]),
                    )
                )
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.record]),
        )
        self.inspection = None
        if args.inspection:
            inspect = script("inspect-cluster.sh")
            # The same script twice: its first run is the stack's first `pulumi up` (nothing on the cluster is
            # this stack's yet); an update runs only after a first run passed.
            self.inspection = command.local.Command(
                "cluster-inspection",
                create=f"MODE=first-deploy\n{inspect}",
                update=f"MODE=redeploy\n{inspect}",
                interpreter=BASH,
                environment=args.cluster.environment(**args.inspection),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"istioVersion": args.istio_version, "gatewayApiVersion": args.gateway_api_version})
