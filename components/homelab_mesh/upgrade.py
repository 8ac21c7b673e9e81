"""The upgrade guard's decision: may this stack move from the versions it deployed to the configured ones?

Pure functions of the recorded pair, the configured pair and a date, so that the table tests, the
dynamic provider's `check()` (components/version_record.py) and docs/upgrading.md's upgrade path rest on the same
code. What only the cluster knows is checked at `pulumi up` by scripts/check-upgrade.sh, whose inputs come
from the same table (`live_check_environment`).

Order within one `pulumi up` (`order`), from the pair the stack leaves and the one it moves to, both known
from the guard's record before anything on the cluster changes:
- first install (nothing recorded): Gateway API CRDs, then istio-base -> istiod -> istio-cni -> ztunnel, with
  the CRDs before istiod as Istio's install page has it (istio.io:docs/ambient/install/helm);
- upgrade: the same chain; the CRDs change before istiod when the istiod being replaced runs them too, after
  it otherwise. While one has changed and the other not yet, the cluster runs an intermediate pair; the
  guard accepts a step only when that pair is supported too. istiod tolerates CRDs that appear after it
  starts: it watches Gateway API kinds through delayed informers that start once their CRD exists
  (istio@1.30.3 and istio@release-1.31: pkg/kube/kclient/client.go `NewDelayedInformer`,
  pilot/pkg/bootstrap/configcontroller.go passes `CrdWatcher().WaitForCRD`);
- rollback (back to the pair before the last step): ztunnel -> istio-cni -> istiod -> istio-base, the CRDs after
  istiod. istio-cni and ztunnel of a release work with istiod of that release and the next one, never with
  an older istiod (istio.io:docs/ambient/upgrade/helm, sections "CNI node agent" and "ztunnel DaemonSet"),
  so the node agents go back before istiod does, and istio-base (CRDs, webhook) last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from .versions import (
    SUPPORT,
    Minor,
    Version,
    first_patch_running,
    format_version,
    gateway_api_range,
    known_minors,
    runs_with,
)


@dataclass(frozen=True)
class Pair:
    istio: Version
    gateway_api: Version

    def __str__(self) -> str:
        return f"Istio {format_version(self.istio)} with Gateway API v{format_version(self.gateway_api)}"

    @property
    def supported(self) -> bool:
        return runs_with(self.istio, self.gateway_api)


@dataclass(frozen=True)
class Decision:
    refusal: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def allowed(self) -> bool:
        return self.refusal is None


class Order(Enum):
    """How one `pulumi up` orders the Gateway API CRDs and the four Istio releases."""

    FIRST_INSTALL = "first-install"
    CRDS_FIRST = "crds-first"
    ISTIOD_FIRST = "istiod-first"
    ROLLBACK = "rollback"

    @property
    def crds_after_istiod(self) -> bool:
        return self in (Order.ISTIOD_FIRST, Order.ROLLBACK)


def order(leaving: Pair | None, target: Pair) -> Order:
    """The order for a move from `leaving` (None: nothing deployed before) to `target`.

    A move to older versions is the rollback the guard allows; any other move changes the CRDs first when the
    istiod being replaced runs the target CRDs (the documented order), after istiod otherwise (1.29.1 with
    v1.5, istio/istio#59443; 1.30 with v1.6).
    """
    if leaving is None:
        return Order.FIRST_INSTALL
    if target.istio < leaving.istio or target.gateway_api < leaving.gateway_api:
        return Order.ROLLBACK
    if runs_with(leaving.istio, target.gateway_api):
        return Order.CRDS_FIRST
    return Order.ISTIOD_FIRST


def intermediate(old: Pair, new: Pair) -> Pair:
    """The pair the cluster runs between the istiod update and the CRD update, in the order the graph uses."""
    if order(old, new).crds_after_istiod:
        return Pair(new.istio, old.gateway_api)
    return Pair(old.istio, new.gateway_api)


def safe_sequence(old: Pair, new: Pair) -> list[Pair]:
    """The stack edits, one `pulumi up` each, from `old` to `new`: one Istio minor per step, landing on each
    minor's newest patch and recommended Gateway API release, and on `new` itself at the end."""
    steps: list[Pair] = []
    for minor in range(old.istio[1] + 1, new.istio[1]):
        row = SUPPORT.get((old.istio[0], minor))
        if row is None:
            return []
        steps.append(Pair(row.newest_patch, max(row.recommended_gateway_api, old.gateway_api)))
    steps.append(new)
    return steps


def describe_sequence(steps: list[Pair]) -> str:
    return "; ".join(
        f"{index}. istioVersion: {format_version(step.istio)}, gatewayApiVersion: v{format_version(step.gateway_api)}"
        f" -> pulumi up"
        for index, step in enumerate(steps, start=1)
    )


def end_of_life_warning(pair: Pair, today: date) -> str | None:
    row = SUPPORT.get(pair.istio[:2])
    if row is None or row.end_of_life is None or today < row.end_of_life:
        return None
    newer = [minor for minor in sorted(SUPPORT) if minor > row.istio and SUPPORT[minor].end_of_life is None]
    path = describe_sequence(safe_sequence(pair, _landing(newer[-1]))) if newer else "no supported minor is known"
    return (
        f"istioVersion: Istio {format_version(row.istio)} reached end of life on {row.end_of_life.isoformat()} "
        f"and gets no security fixes; upgrade one minor per pulumi up (docs/upgrading.md): {path}"
    )


def decide(old: Pair | None, new: Pair, today: date, previous: Pair | None = None) -> Decision:
    """Whether a stack that deployed `old` (None: nothing yet) may deploy `new`.

    `previous` is the pair the stack ran before `old`: going back to it (`rollback_targets`) rolls back the last
    step. A rollback that lowers the Gateway API release is allowed with a warning: it works only if the failed
    step never changed the CRDs, which the live check at `pulumi up` verifies. `today` only decides the
    end-of-life warning.
    """
    warnings = [warning for warning in (end_of_life_warning(new, today),) if warning]
    refusal = _refusal(old, new, previous, warnings)
    return Decision(refusal, tuple(warnings))


def _refusal(old: Pair | None, new: Pair, previous: Pair | None, warnings: list[str]) -> str | None:
    if new.istio[:2] not in SUPPORT:
        return (
            f"istioVersion: Istio {format_version(new.istio[:2])} is not in the compatibility table ({known_minors()})"
        )
    if not new.supported:
        return f"gatewayApiVersion: {new} is not a supported pair"
    if old is None or old == new:
        return None
    rollback = previous is not None and new in rollback_targets(old, previous)
    if new.istio < old.istio and not rollback:
        return (
            f"istioVersion: {format_version(new.istio)} is older than the {format_version(old.istio)} this stack "
            f"runs; Istio is never downgraded by editing the version (a rollback may only return to "
            f"{_or_none(previous)}, the pair before the last step). Keep istioVersion: {format_version(old.istio)}"
        )
    if new.gateway_api < old.gateway_api and not rollback:
        return (
            f"gatewayApiVersion: v{format_version(new.gateway_api)} is older than the "
            f"v{format_version(old.gateway_api)} this stack installed; Gateway API v1.5 and newer ship an admission "
            f"policy that refuses older CRDs, and objects may use newer fields. "
            f"Keep gatewayApiVersion: v{format_version(old.gateway_api)}"
        )
    if new.istio[1] > old.istio[1] + 1:
        return (
            f"istioVersion: {format_version(new.istio)} skips Istio minors from {format_version(old.istio)}; "
            "Istio upgrades one minor at a time. Safe sequence of stack edits: "
            + describe_sequence(safe_sequence(old, new))
        )
    if old.istio[:2] not in SUPPORT:
        return f"istioVersion: this stack runs Istio {format_version(old.istio)}, outside the compatibility table"
    if rollback:
        if new.gateway_api < old.gateway_api:
            # CRDs never go back; a failed step may have stopped before they changed, which only the cluster knows.
            warnings.append(
                f"rolling back to {new}: possible only while the cluster still has the Gateway API CRDs of "
                f"{new}; the check at pulumi up refuses otherwise and the step must be fixed forward"
            )
        return None
    if new.istio[:2] != old.istio[:2] or new.gateway_api != old.gateway_api:
        middle = intermediate(old, new)
        if not middle.supported:
            first = "istiod" if order(old, new).crds_after_istiod else "the Gateway API CRDs"
            return (
                f"gatewayApiVersion: moving from {old} to {new} changes {first} first, so the cluster would run "
                f"{middle}, which is not supported. Safe sequence of stack edits: {_two_edits(old, new)}"
            )
    return None


def rollback_targets(old: Pair, previous: Pair) -> list[Pair]:
    """Where a stack that stepped from `previous` to `old` may go back to: `previous` itself, or only its Istio
    release with the CRDs of `old` when it runs them (CRDs that already changed never go back)."""
    targets = [previous]
    istio_only = Pair(previous.istio, old.gateway_api)
    if istio_only != previous and istio_only.supported and istio_only.istio < old.istio:
        targets.append(istio_only)
    return targets


def _two_edits(old: Pair, new: Pair) -> str:
    """Split a step whose intermediate is unsupported in two, each of whose intermediates is supported."""
    releases = {old.gateway_api, new.gateway_api, *(row.recommended_gateway_api for row in SUPPORT.values())}
    between = sorted(release for release in releases if old.gateway_api <= release <= new.gateway_api)
    for istio in (old.istio, new.istio):
        for gateway_api in between:
            first = Pair(istio, gateway_api)
            if first in (old, new) or not first.supported:
                continue
            if intermediate(old, first).supported and intermediate(first, new).supported:
                return describe_sequence([first, new])
    return "none found in the compatibility table"


def live_check_environment(target: Pair, step_order: Order) -> dict[str, str]:
    """The table's answers the live check at `pulumi up` compares the cluster with (minors as `1.33`)."""
    row = SUPPORT[target.istio[:2]]
    span = gateway_api_range(target.istio)
    assert span is not None
    lowest, highest = span
    return {
        "KUBERNETES_MIN": format_version(row.kubernetes[0]),
        "KUBERNETES_MAX": format_version(row.kubernetes[1]),
        # Gateway API minors the target istiod runs with: the CRDs it may find when it starts.
        "TARGET_ISTIO_GATEWAY_API_MINORS": " ".join(
            format_version((1, minor)) for minor in range(lowest[1], highest[1] + 1)
        ),
        # Istio releases that run the target CRDs, each as the first patch of its minor that does (`1.29.2`):
        # the istiod that may still run when they change first.
        "ISTIO_RELEASES_FOR_TARGET_CRDS": " ".join(
            format_version((*minor, patch))
            for minor in sorted(SUPPORT)
            if (patch := first_patch_running(minor, target.gateway_api)) is not None
        ),
        "CRDS_AFTER_ISTIOD": "true" if step_order.crds_after_istiod else "false",
    }


def _landing(minor: Minor) -> Pair:
    row = SUPPORT[minor]
    return Pair(row.newest_patch, row.recommended_gateway_api)


def _or_none(pair: Pair | None) -> str:
    return str(pair) if pair else "nothing recorded"
