"""UpgradeGuard: what the Gateway API CRDs and the four Istio releases wait for before they change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pulumi
import pulumi_command as command

from .scripts import BASH, kube_environment, script
from .upgrade import Pair, crds_wait_for_istiod, decide, live_check_environment
from .version_record import PREVIOUS_ISTIO, VersionRecord
from .versions import parse_version


@dataclass(frozen=True)
class UpgradeGuardArgs:
    istio_version: str
    gateway_api_version: str
    gateway_api_crds: str
    kube_context: str | None
    # Only decides whether the end-of-life warning is printed; it never reaches a resource's inputs.
    today: date
    # What the cluster inspection reads (components/inspection.py); empty: no inspection.
    inspection: Mapping[str, str] = field(default_factory=dict)


def target_pair(istio_version: str, gateway_api_version: str) -> Pair:
    istio, gateway_api = parse_version(istio_version), parse_version(gateway_api_version)
    if istio is None or gateway_api is None:
        raise ValueError(f"not release versions: {istio_version}, {gateway_api_version}")
    return Pair(istio, gateway_api)


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
        # The order the program gives the CRDs and istiod, from the target pair alone (components/upgrade.py).
        self.crds_after_istiod = crds_wait_for_istiod(target)
        for warning in decide(None, target, args.today).warnings:
            pulumi.log.warn(warning, resource=self)
        self.record = VersionRecord(
            "deployed-versions",
            args.istio_version,
            args.gateway_api_version,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The CRD releases this stack installed or installs now: any other bundle belongs to someone else.
        expected = pulumi.Output.all(self.record.previous_gateway_api_version, self.record.gateway_api_version).apply(
            lambda versions: " ".join(sorted({version for version in versions if version}))
        )
        # The version this step leaves, once the record accepted it: a step down from there is the stack's own
        # rollback; any other move below the running istiod is refused, as if the running version were recorded.
        stepped_from = getattr(self.record, PREVIOUS_ISTIO).apply(lambda version: version or "")
        check = script("check-upgrade.sh")
        self.live_check = command.local.Command(
            "upgrade-live-check",
            create=check,
            update=check,
            interpreter=BASH,
            environment=kube_environment(
                args.kube_context,
                ISTIO_VERSION=args.istio_version,
                GATEWAY_API_VERSION=args.gateway_api_version,
                GATEWAY_API_CRDS=args.gateway_api_crds,
                EXPECTED_GATEWAY_API_VERSIONS=expected,  # type: ignore[arg-type]
                STEPPED_FROM_ISTIO_VERSION=stepped_from,  # type: ignore[arg-type]
                **live_check_environment(target),
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
                environment=kube_environment(args.kube_context, **args.inspection),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"istioVersion": args.istio_version, "gatewayApiVersion": args.gateway_api_version})
