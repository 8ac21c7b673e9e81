"""UpgradeGuard: what the Gateway API CRDs and the four Istio releases wait for before they change."""

from datetime import date
from enum import Enum
from typing import NotRequired, TypedDict

import pulumi
import pulumi_command as command

from .arguments import ArgsReader, ClusterArgs, check_cluster, cluster_of, component_options, renamed, token
from .scripts import BASH, script
from .upgrade import Order, Pair, decide, live_check_environment, order
from .version_record import VersionRecord
from .versions import parse_version

# The record's resource name: the engine keeps its state under it (tools/plan.py replays a deployment by it).
RECORD_NAME = "deployed-versions"


class GatewayApiCrdsOwner(Enum):
    """Who installs the Gateway API CRDs."""

    MANAGED = "managed"
    EXTERNAL = "external"


class UpgradeGuardArgs(TypedDict):
    """The versions a stack is about to run, and the cluster it checks them against."""

    istio_version: str
    """The Istio release the stack installs, such as 1.28.1."""
    gateway_api_version: str
    """The Gateway API release, such as v1.4.1."""
    cluster: ClusterArgs
    """Which cluster the live check reaches: the Kubernetes provider's."""
    gateway_api_crds: NotRequired[GatewayApiCrdsOwner]
    """managed (default): this stack installs the CRDs; external: someone else does."""
    today: NotRequired[str]
    """The date (YYYY-MM-DD) the end-of-life warning is judged on; default today. Never reaches an input."""
    inspection: NotRequired[dict[str, str]]
    """What the cluster inspection reads (its script's variables); unset: no inspection."""


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

    order: pulumi.Output[Order]
    """This `pulumi up`'s order of the Gateway API CRDs and the Istio releases (IstioAmbient's `order`)."""

    def __init__(self, name: str, args: UpgradeGuardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        reader = ArgsReader("UpgradeGuard", name, args)
        istio_version = reader.version("istio_version")
        gateway_api_version = reader.version("gateway_api_version", prefix="v")
        crds = reader.choice("gateway_api_crds", "managed", ("managed", "external"))
        today = reader.checked("today", date.fromisoformat, date.today())
        check_cluster(reader)
        reader.raise_problems()
        cluster = cluster_of(args["cluster"])
        inspection = args.get("inspection") or {}
        own, waits_for = component_options("UpgradeGuard", name, opts, "homelab-mesh:upgrade:UpgradeGuard")
        super().__init__(token("UpgradeGuard"), name, None, own)
        target = target_pair(istio_version, gateway_api_version)
        for warning in decide(None, target, today).warnings:
            pulumi.log.warn(warning, resource=self)
        self.record = VersionRecord(
            f"{name}-{RECORD_NAME}",
            istio_version,
            gateway_api_version,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=waits_for, aliases=renamed(f"{name}-{RECORD_NAME}", RECORD_NAME)
            ),
        )
        # The order of this `pulumi up` (components/upgrade.py, `order`), from the pair it leaves. The record's
        # check() sets its previous pair to what the stack ran when the versions change, and keeps it otherwise
        # (empty until a first change). Known in preview too: a provider without previews, as the Python dynamic
        # provider is, gets its checked inputs back as outputs (pulumi/pulumi pkg/resource/plugin/
        # provider_plugin.go, Create and Update). Every cluster object waits for the guard anyway.
        self.order = pulumi.Output.all(
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
            f"{name}-live-check",
            create=check,
            update=check,
            interpreter=BASH,
            environment=pulumi.Output.all(self.order, expected, stepped_from).apply(
                lambda known: pulumi.Output.from_input(
                    cluster.environment(
                        ISTIO_VERSION=istio_version,
                        GATEWAY_API_VERSION=gateway_api_version,
                        GATEWAY_API_CRDS=crds,
                        EXPECTED_GATEWAY_API_VERSIONS=known[1],
                        STEPPED_FROM_ISTIO_VERSION=known[2],
                        **live_check_environment(target, known[0]),
                    )
                )
            ),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.record], aliases=renamed(f"{name}-live-check", "upgrade-live-check")
            ),
        )
        self.inspection = None
        if inspection:
            inspect = script("inspect-cluster.sh")
            # The same script twice: its first run is the stack's first `pulumi up` (nothing on the cluster is
            # this stack's yet); an update runs only after a first run passed.
            self.inspection = command.local.Command(
                f"{name}-cluster-inspection",
                create=f"MODE=first-deploy\n{inspect}",
                update=f"MODE=redeploy\n{inspect}",
                interpreter=BASH,
                environment=cluster.environment(**inspection),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=waits_for,
                    aliases=renamed(f"{name}-cluster-inspection", "cluster-inspection"),
                ),
            )
        self.register_outputs({"order": self.order.apply(lambda known: known.value)})
