"""VersionRecord: the Istio and Gateway API versions this stack deployed, kept in its state.

A Pulumi dynamic resource. Its provider's `check()` sees the recorded versions (olds) beside the configured
ones (news) in `pulumi preview` as well as `pulumi up`, without a cluster, and refuses a move the guard's
decision rejects. The SDK serialises the provider into the state with dill, which records a class from an
importable module by reference (module and class name, 69 bytes here): the provider process, started in
the project directory (pulumi/pulumi#5455, #7960), imports this module again. So it stays small, without
side effects at import, and its methods only call the pure decision in `homelab_mesh.upgrade`. State written
before the package existed names `components.version_record`, which stays as a re-export for it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ResourceProvider, UpdateResult

from .upgrade import Pair, decide
from .versions import parse_version

ISTIO = "istioVersion"
GATEWAY_API = "gatewayApiVersion"
PREVIOUS_ISTIO = "previousIstioVersion"
PREVIOUS_GATEWAY_API = "previousGatewayApiVersion"
RECORD_ID = "versions"


def recorded_pair(
    properties: dict[str, Any], istio_key: str = ISTIO, gateway_api_key: str = GATEWAY_API
) -> Pair | None:
    istio = parse_version(str(properties.get(istio_key) or ""))
    gateway_api = parse_version(str(properties.get(gateway_api_key) or ""))
    return Pair(istio, gateway_api) if istio and gateway_api else None


class VersionRecordProvider(ResourceProvider):
    # The provider captures no secrets; keeping it plain keeps `pulumi preview --diff` readable.
    serialize_as_secret_always = False

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        old = recorded_pair(olds)
        new = recorded_pair(news)
        if new is None:
            return CheckResult(
                news, [CheckFailure(ISTIO, "istioVersion and gatewayApiVersion must be release versions")]
            )
        # The end-of-life warning is the program's (pulumi.log.warn); the refusal does not depend on the date.
        decision = decide(old, new, date.min, previous=recorded_pair(olds, PREVIOUS_ISTIO, PREVIOUS_GATEWAY_API))
        if decision.refusal is not None:
            key = decision.refusal.partition(": ")[0]
            return CheckResult(news, [CheckFailure(key, decision.refusal)])
        inputs = dict(news)
        if old is not None and old != new:
            # Remember the pair before this step: returning to it is the one rollback the guard allows.
            inputs[PREVIOUS_ISTIO], inputs[PREVIOUS_GATEWAY_API] = olds[ISTIO], olds[GATEWAY_API]
        else:
            inputs[PREVIOUS_ISTIO] = olds.get(PREVIOUS_ISTIO) or ""
            inputs[PREVIOUS_GATEWAY_API] = olds.get(PREVIOUS_GATEWAY_API) or ""
        return CheckResult(inputs, [])

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        keys = (ISTIO, GATEWAY_API, PREVIOUS_ISTIO, PREVIOUS_GATEWAY_API)
        changed = any(_olds.get(key) != _news.get(key) for key in keys)
        # A version change updates the record in place: replacing it would forget what was deployed.
        return DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(RECORD_ID, outs=props)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_news)


class VersionRecord(pulumi.dynamic.Resource, module="homelab-mesh", name="VersionRecord"):
    """Outputs are named by their state keys (camelCase); the `previous_*` properties read two of them."""

    def __init__(
        self, name: str, istio_version: str, gateway_api_version: str, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            VersionRecordProvider(),
            name,
            {
                ISTIO: istio_version,
                GATEWAY_API: gateway_api_version,
                PREVIOUS_ISTIO: None,
                PREVIOUS_GATEWAY_API: None,
            },
            opts,
        )

    @property
    def gateway_api_version(self) -> pulumi.Output[str]:
        return getattr(self, GATEWAY_API)

    @property
    def previous_gateway_api_version(self) -> pulumi.Output[str]:
        return getattr(self, PREVIOUS_GATEWAY_API)

    @property
    def previous_istio_version(self) -> pulumi.Output[str]:
        return getattr(self, PREVIOUS_ISTIO)
