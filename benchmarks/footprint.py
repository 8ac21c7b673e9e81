"""What the mesh costs a cluster: CPU and memory of this program's homelab profile, side by side with Istio's
chart defaults, the homelab's measured usage and a Linkerd sidecar model, for 1, 3 and 10 nodes; and what
MetalLB (controller once, speaker per node) adds.

Run on demand: `venv/bin/python benchmarks/footprint.py`. The profile is read from the Helm values the program
registers for the homelab stack (mock engine), not from components/resources.py, so it is what would be
deployed. Exits 1 when a check fails.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from homelab_mesh.resources import mebibytes, millicores  # noqa: E402

from tools.mock_engine import Evaluation, evaluate  # noqa: E402

NODE_COUNTS = (1, 3, 10)
ISTIOD, CNI, ZTUNNEL, GATEWAY = "istiod", "istio-cni", "ztunnel", "ingress gateway"
COMPONENTS = (ISTIOD, CNI, ZTUNNEL, GATEWAY)
METALLB_CONTROLLER, METALLB_SPEAKER = "MetalLB controller", "MetalLB speaker"
METALLB = (METALLB_CONTROLLER, METALLB_SPEAKER)
PER_NODE = frozenset({CNI, ZTUNNEL, METALLB_SPEAKER})
# The mesh proper; the ingress gateway is left out of the Linkerd comparison because that model has no ingress.
MESH = (ISTIOD, CNI, ZTUNNEL)

REQUEST_SHARE_LIMIT = 0.10
LINKERD_CONTROL_PLANE_MIB = 70.0
LINKERD_SIDECAR_MIB = 12.5


@dataclass(frozen=True)
class Amount:
    """Millicores and MiB; None means not set (no limit) or not known."""

    cpu: float | None
    memory: float | None

    def times(self, count: int) -> Amount:
        return Amount(_scale(self.cpu, count), _scale(self.memory, count))

    def plus(self, other: Amount) -> Amount:
        return Amount(_add(self.cpu, other.cpu), _add(self.memory, other.memory))

    def __str__(self) -> str:
        cpu = "none" if self.cpu is None else f"{self.cpu:g}m"
        memory = "none" if self.memory is None else f"{self.memory:g}Mi"
        return f"{cpu} / {memory}"


@dataclass(frozen=True)
class Sizing:
    requests: Amount
    limits: Amount


NO_LIMITS = Amount(None, None)
# Istio's chart defaults, the same at 1.28.2 and 1.31 (`resources` and `global.proxy.resources` in each chart's
# values.yaml, istio/istio 1.28.2 and 1.31.0-rc.0): istiod autoscales 1-5 replicas; only the proxy (gateway)
# has limits by default.
ISTIO_DEFAULTS: dict[str, Sizing] = {
    ISTIOD: Sizing(Amount(500, 2048), NO_LIMITS),
    CNI: Sizing(Amount(100, 100), NO_LIMITS),
    ZTUNNEL: Sizing(Amount(200, 512), NO_LIMITS),
    GATEWAY: Sizing(Amount(100, 128), Amount(2000, 1024)),
}
ISTIOD_DEFAULT_MAX_REPLICAS = 5
# The homelab seed's observed usage per pod; the ingress gateway was not measured.
MEASURED: dict[str, Amount] = {ISTIOD: Amount(6, 35), CNI: Amount(1, 15), ZTUNNEL: Amount(2, 2)}


def _scale(value: float | None, count: int) -> float | None:
    return None if value is None else value * count


def _add(left: float | None, right: float | None) -> float | None:
    # An unset limit is unbounded, so any sum that includes one is unbounded too.
    return None if left is None or right is None else left + right


def amount(quantities: Mapping[str, str]) -> Amount:
    cpu, memory = quantities.get("cpu"), quantities.get("memory")
    return Amount(millicores(cpu) if cpu else None, mebibytes(memory) if memory else None)


def sizing(resources: Mapping[str, Mapping[str, str]]) -> Sizing:
    return Sizing(amount(resources.get("requests", {})), amount(resources.get("limits", {})))


def program_profile(evaluation: Evaluation) -> tuple[dict[str, Sizing], int]:
    """Each component's sizing from the registered Helm values, and istiod's replica count."""
    values: dict[str, Any] = {name: evaluation.named(name).inputs["values"] for name in (ISTIOD, CNI, ZTUNNEL)}
    istiod = values[ISTIOD]
    if istiod.get("autoscaleEnabled", True):
        raise SystemExit("istiod autoscales: this footprint model assumes a fixed replica count")
    profile = {
        ISTIOD: sizing(istiod["resources"]),
        CNI: sizing(values[CNI]["resources"]),
        ZTUNNEL: sizing(values[ZTUNNEL]["resources"]),
        GATEWAY: sizing(istiod["global"]["proxy"]["resources"]),
    }
    return profile, int(istiod["replicaCount"])


def metallb_profile(evaluation: Evaluation) -> dict[str, Sizing]:
    """Controller and speaker sizing from the registered MetalLB chart values."""
    values = evaluation.named("metallb").inputs["values"]
    return {
        METALLB_CONTROLLER: sizing(values["controller"].get("resources", {})),
        METALLB_SPEAKER: sizing(values["speaker"].get("resources", {})),
    }


def metallb_table(profile: Mapping[str, Sizing]) -> list[str]:
    rows = [["component", "program requests", "program limits", "chart default", "measured"]]
    for component in METALLB:
        suffix = " (per node)" if component in PER_NODE else ""
        rows.append(
            [
                component + suffix,
                str(profile[component].requests),
                str(profile[component].limits),
                "none (BestEffort)",
                "not measured",
            ]
        )
    for nodes in NODE_COUNTS:
        total_requests = cluster_total(requests_of(profile), METALLB, nodes)
        total_limits = cluster_total(limits_of(profile), METALLB, nodes)
        rows.append([f"total, {nodes} node(s)", str(total_requests), str(total_limits), "none", ""])
    return columns(rows)


def metallb_checks(profile: Mapping[str, Sizing]) -> list[tuple[bool, str]]:
    """Not BestEffort and bounded: a memory request and a memory limit on both MetalLB pods."""
    found = []
    for component in METALLB:
        requests, limits = profile[component].requests, profile[component].limits
        passed = requests.memory is not None and limits.memory is not None and requests.memory <= limits.memory
        found.append(
            (
                passed,
                f"{component:<18} memory request {quantity(requests.memory, 'Mi')} <= limit "
                f"{quantity(limits.memory, 'Mi')}",
            )
        )
    return found


def replicas(component: str, nodes: int, istiod_replicas: int) -> int:
    if component in PER_NODE:
        return nodes
    return istiod_replicas if component == ISTIOD else 1


def cluster_total(
    per_pod: Mapping[str, Amount], components: tuple[str, ...], nodes: int, istiod_replicas: int = 1
) -> Amount:
    total = Amount(0, 0)
    for component in components:
        total = total.plus(per_pod[component].times(replicas(component, nodes, istiod_replicas)))
    return total


def crossover_pods(ambient_memory: float) -> int:
    """Fewest meshed pods at which Linkerd's control plane plus sidecars need more memory than ambient."""
    if ambient_memory < LINKERD_CONTROL_PLANE_MIB:
        return 0
    return math.floor((ambient_memory - LINKERD_CONTROL_PLANE_MIB) / LINKERD_SIDECAR_MIB) + 1


def columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def requests_of(sizings: Mapping[str, Sizing]) -> dict[str, Amount]:
    return {component: sizing.requests for component, sizing in sizings.items()}


def limits_of(sizings: Mapping[str, Sizing]) -> dict[str, Amount]:
    return {component: sizing.limits for component, sizing in sizings.items()}


def quantity(value: float | None, unit: str) -> str:
    return "not set" if value is None else f"{value:g}{unit}"


def component_table(profile: Mapping[str, Sizing]) -> list[str]:
    rows = [["component", "program requests", "program limits", "Istio requests", "Istio limits", "measured"]]
    for component in COMPONENTS:
        default = ISTIO_DEFAULTS[component]
        measured = MEASURED.get(component)
        rows.append(
            [
                f"{component}{' (per node)' if component in PER_NODE else ''}",
                str(profile[component].requests),
                str(profile[component].limits),
                str(default.requests) + (f" x1-{ISTIOD_DEFAULT_MAX_REPLICAS}" if component == ISTIOD else ""),
                str(default.limits),
                str(measured) if measured else "not measured",
            ]
        )
    return columns(rows)


def totals_table(profile: Mapping[str, Sizing], istiod_replicas: int) -> list[str]:
    header = [
        "nodes",
        "program requests",
        "program limits",
        "Istio requests (istiod x1)",
        f"(istiod x{ISTIOD_DEFAULT_MAX_REPLICAS})",
        "measured (no gateway)",
    ]
    rows = [header]
    defaults = requests_of(ISTIO_DEFAULTS)
    for nodes in NODE_COUNTS:
        rows.append(
            [
                str(nodes),
                str(cluster_total(requests_of(profile), COMPONENTS, nodes, istiod_replicas)),
                str(cluster_total(limits_of(profile), COMPONENTS, nodes, istiod_replicas)),
                str(cluster_total(defaults, COMPONENTS, nodes)),
                str(cluster_total(defaults, COMPONENTS, nodes, ISTIOD_DEFAULT_MAX_REPLICAS)),
                str(cluster_total(MEASURED, MESH, nodes)),
            ]
        )
    return columns(rows)


def crossover_table(profile: Mapping[str, Sizing], istiod_replicas: int) -> list[str]:
    ambient: dict[str, tuple[Mapping[str, Amount], int]] = {
        "measured usage": (MEASURED, 1),
        "program requests": (requests_of(profile), istiod_replicas),
        "Istio default requests": (requests_of(ISTIO_DEFAULTS), 1),
    }
    rows = [["nodes", *ambient]]
    for nodes in NODE_COUNTS:
        cells = [str(nodes)]
        for per_pod, replicas_of_istiod in ambient.values():
            memory = cluster_total(per_pod, MESH, nodes, replicas_of_istiod).memory
            cells.append("unknown" if memory is None else f"{crossover_pods(memory)} pods ({memory:g}Mi)")
        rows.append(cells)
    return columns(rows)


def share_checks(profile: Mapping[str, Sizing], istiod_replicas: int) -> list[tuple[bool, str]]:
    found = []
    for nodes in NODE_COUNTS:
        ours = cluster_total(requests_of(profile), COMPONENTS, nodes, istiod_replicas)
        istio = cluster_total(requests_of(ISTIO_DEFAULTS), COMPONENTS, nodes)
        for kind, unit in (("cpu", "m"), ("memory", "Mi")):
            mine, theirs = getattr(ours, kind), getattr(istio, kind)
            passed = mine is not None and theirs is not None and mine <= REQUEST_SHARE_LIMIT * theirs
            share = f" ({100 * mine / theirs:.1f}%)" if mine is not None and theirs else ""
            found.append(
                (
                    passed,
                    f"{nodes:>2} node(s), {kind:<6} requests {quantity(mine, unit)} <= "
                    f"{REQUEST_SHARE_LIMIT:.0%} of Istio's {quantity(theirs, unit)}{share}",
                )
            )
    return found


def floor_checks(profile: Mapping[str, Sizing]) -> list[tuple[bool, str]]:
    found = []
    for component, measured in MEASURED.items():
        requests = profile[component].requests
        for kind, unit in (("cpu", "m"), ("memory", "Mi")):
            mine, seen = getattr(requests, kind), getattr(measured, kind)
            passed = mine is not None and seen is not None and mine >= seen
            found.append(
                (
                    passed,
                    f"{component:<9} {kind:<6} request {quantity(mine, unit)} >= measured {quantity(seen, unit)}",
                )
            )
    return found


def main() -> int:
    homelab = evaluate("homelab")
    profile, istiod_replicas = program_profile(homelab)
    metallb = metallb_profile(homelab)
    print(f"Per pod: this program's homelab profile (istiod replicas: {istiod_replicas}, no autoscaling),")
    print("Istio 1.28-1.31 chart defaults and the homelab's measured usage (CPU / memory; 'none' is no limit)")
    print("\n".join(component_table(profile)))
    print(f"Linkerd model: {LINKERD_CONTROL_PLANE_MIB:g}Mi control plane + {LINKERD_SIDECAR_MIB:g}Mi per meshed pod.\n")
    print("Cluster totals: istiod and the ingress gateway once, istio-cni and ztunnel on every node")
    print("\n".join(totals_table(profile, istiod_replicas)))
    print("\nCrossover: meshed pods from which the ambient mesh (istiod + istio-cni + ztunnel) needs less memory")
    print("than Linkerd's control plane plus sidecars (ingress left out on both sides; ambient memory in parentheses)")
    print("\n".join(crossover_table(profile, istiod_replicas)))
    print("\nMetalLB (L2, native speaker): the chart sets no requests, so its pods would run BestEffort")
    print("\n".join(metallb_table(metallb)))
    outcome = share_checks(profile, istiod_replicas) + floor_checks(profile) + metallb_checks(metallb)
    print("\nChecks: program requests at most 10% of Istio's default requests (istiod x1, gateway included);")
    print("no component requests less than its measured usage (the ingress gateway was not measured);")
    print("MetalLB's pods have a memory request and limit")
    for passed, description in outcome:
        print(f"{'PASS' if passed else 'FAIL'} {description}")
    return 0 if all(passed for passed, _ in outcome) else 1


if __name__ == "__main__":
    sys.exit(main())
