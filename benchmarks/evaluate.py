"""What evaluating the program costs: wall time and peak memory on the mock engine, by stack size.

Run on demand, not in CI: `venv/bin/python benchmarks/evaluate.py [--sizes 50 200 800] [--repeats 3]`.
Every run is a fresh interpreter (`--child SIZE`), so its time is the whole process: interpreter start,
imports, config validation and evaluation. Size 0 is the homelab stack as committed; any other size is
the homelab stack with that many generated meshed namespaces (see `stack_overrides`). Exits 1 when a
target fails.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOMELAB = 0
# A Gateway holds at most 64 listeners: the HTTP redirect plus 63 HTTPS hostnames (components/settings/routes.py).
MAX_HOSTNAMES = 63

HOMELAB_TARGET_SECONDS = 1.5
LARGEST_TARGET_SECONDS = 10.0
LARGEST_TARGET_SIZE = 800
GROWTH_LIMIT = 1.5


def stack_overrides(namespaces: int, max_hostnames: int = MAX_HOSTNAMES) -> dict[str, Any]:
    """Config overrides (keys without the project prefix) for the homelab stack with `namespaces` meshed namespaces.

    The first `max_hostnames` namespaces each get a gateway hostname and one route into themselves. Every
    odd-numbered namespace admits its predecessor (allowFrom) and every fourth is also restricted
    (NetworkPolicy), so the policy builders run. The homelab's address pool and gateway address stay.
    """
    names = [f"bench-{index:04d}" for index in range(namespaces)]
    routed = names[:max_hostnames]
    options: dict[str, dict[str, Any]] = {}
    for index in range(1, namespaces, 2):
        options[names[index]] = {"allowFrom": [names[index - 1]]}
        if index % 4 == 1:
            options[names[index]]["networkPolicy"] = "restricted"
    return {
        "meshedNamespaces": names,
        "gatewayHostnames": [f"{name}.home.arpa" for name in routed],
        "routes": [
            {"hostname": f"{name}.home.arpa", "namespace": name, "rules": [{"path": "/", "service": "web", "port": 80}]}
            for name in routed
        ],
        "namespaceOptions": options,
    }


class GcClock:
    """Adds up the time the cyclic garbage collector runs (a gc.callbacks hook)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


def child(size: int) -> None:
    """Evaluate one stack and print what the parent needs as JSON."""
    gc_clock = GcClock()
    gc.callbacks.append(gc_clock)
    sys.path.insert(0, str(ROOT))
    # Imported here, not at the top: the import is part of what a run costs, and the parent never needs it.
    from tools.mock_engine import evaluate

    started = time.perf_counter()
    evaluation = evaluate("homelab", overrides=stack_overrides(size) if size else None)
    evaluate_seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    json.dump(
        {
            "resources": len(evaluation.registrations),
            "namespaces": len(evaluation.outputs["meshedNamespaces"]),
            "hostnames": len(evaluation.outputs.get("urls", [])),
            "evaluate_seconds": evaluate_seconds,
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "gc_seconds": gc_clock.seconds,
            "peak_mib": usage.ru_maxrss / 1024,  # kibibytes on Linux
        },
        sys.stdout,
    )


@dataclass(frozen=True)
class Run:
    wall_seconds: float
    evaluate_seconds: float
    cpu_seconds: float
    gc_seconds: float
    peak_mib: float
    resources: int
    namespaces: int
    hostnames: int


@dataclass(frozen=True)
class Result:
    size: int
    namespaces: int
    hostnames: int
    resources: int
    wall_seconds: float
    evaluate_seconds: float
    cpu_seconds: float
    gc_seconds: float
    peak_mib: float

    @property
    def ms_per_namespace(self) -> float:
        return 1000 * self.wall_seconds / self.namespaces


def run_child(size: int) -> Run:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(size)],
        capture_output=True,
        text=True,
        check=False,
    )
    wall_seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"size {size}: child failed\n{completed.stderr}")
    return Run(wall_seconds=wall_seconds, **json.loads(completed.stdout))


def median_result(size: int, runs: Sequence[Run]) -> Result:
    return Result(
        size=size,
        namespaces=runs[0].namespaces,
        hostnames=runs[0].hostnames,
        resources=runs[0].resources,
        wall_seconds=statistics.median(run.wall_seconds for run in runs),
        evaluate_seconds=statistics.median(run.evaluate_seconds for run in runs),
        cpu_seconds=statistics.median(run.cpu_seconds for run in runs),
        gc_seconds=statistics.median(run.gc_seconds for run in runs),
        peak_mib=statistics.median(run.peak_mib for run in runs),
    )


def measure(sizes: Sequence[int], repeats: int) -> list[Result]:
    # Untimed: the first interpreter after a while reads every module from disk, not from the page cache.
    run_child(HOMELAB)
    runs: dict[int, list[Run]] = {size: [] for size in sizes}
    # Round-robin rather than size by size, so a burst of load elsewhere on the machine hits all sizes alike.
    for _ in range(repeats):
        for size in sizes:
            runs[size].append(run_child(size))
    return [median_result(size, runs[size]) for size in sizes]


def growth(previous: Result, current: Result) -> float:
    """Time ratio over size ratio between two generated stacks: 1.0 is linear, above is worse than linear."""
    return (current.wall_seconds / previous.wall_seconds) / (current.namespaces / previous.namespaces)


def table(results: Sequence[Result]) -> list[str]:
    rows = [["stack", "ns", "hosts", "resources", "wall s", "eval s", "cpu s", "gc s", "peak MiB", "ms/ns", "growth"]]
    previous: Result | None = None
    for result in results:
        rows.append(
            [
                "homelab" if result.size == HOMELAB else "generated",
                str(result.namespaces),
                f"{result.hostnames}*" if result.size > MAX_HOSTNAMES else str(result.hostnames),
                str(result.resources),
                f"{result.wall_seconds:.2f}",
                f"{result.evaluate_seconds:.2f}",
                f"{result.cpu_seconds:.2f}",
                f"{result.gc_seconds:.2f}",
                f"{result.peak_mib:.0f}",
                f"{result.ms_per_namespace:.1f}",
                f"{growth(previous, result):.2f}" if previous else "-",
            ]
        )
        if result.size != HOMELAB:
            previous = result
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(width) if index == 0 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]


LEGEND = f"""\
wall s: whole process (interpreter start, imports, config validation, evaluation), timed by the parent.
eval s: evaluate() alone. cpu s: user + system. gc s: time in Python's cyclic garbage collector.
ms/ns: wall time per meshed namespace. growth: time ratio / namespace ratio against the previous generated
stack (1.0 = linear; start-up cost is shared, so small stacks read below 1.0).
* hostnames and routes stop at {MAX_HOSTNAMES}: the one Gateway holds 64 listeners, {MAX_HOSTNAMES} HTTPS plus the HTTP
redirect (components/settings/routes.py). Namespaces keep scaling."""


def checks(results: Sequence[Result]) -> list[tuple[bool, str]]:
    """(passed, description) for each target the measured sizes cover."""
    by_size = {result.size: result for result in results}
    found: list[tuple[bool, str]] = []
    if HOMELAB in by_size:
        wall = by_size[HOMELAB].wall_seconds
        found.append((wall < HOMELAB_TARGET_SECONDS, f"homelab: {wall:.2f} s < {HOMELAB_TARGET_SECONDS} s"))
    if LARGEST_TARGET_SIZE in by_size:
        wall = by_size[LARGEST_TARGET_SIZE].wall_seconds
        description = f"{LARGEST_TARGET_SIZE} namespaces: {wall:.2f} s < {LARGEST_TARGET_SECONDS} s"
        found.append((wall < LARGEST_TARGET_SECONDS, description))
    generated = [result for result in results if result.size != HOMELAB]
    if len(generated) >= 2:
        previous, largest = generated[-2], generated[-1]
        ratio = growth(previous, largest)
        description = (
            f"growth {previous.namespaces} -> {largest.namespaces} namespaces: {ratio:.2f} <= {GROWTH_LIMIT} "
            "(per-namespace time ratio; 1.0 is linear)"
        )
        found.append((ratio <= GROWTH_LIMIT, description))
    return found


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 800], help="generated namespace counts")
    parser.add_argument("--repeats", type=int, default=3, help="runs per size; the median is reported")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> int:
    arguments = parse_arguments()
    if arguments.child is not None:
        child(arguments.child)
        return 0
    sizes = [HOMELAB, *sorted(set(arguments.sizes) - {HOMELAB})]
    load_before = os.getloadavg()[0]
    results = measure(sizes, arguments.repeats)
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, median of {arguments.repeats} fresh processes "
        f"per stack; 1-min load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print("\n".join(table(results)))
    print(LEGEND)
    outcome = checks(results)
    for passed, description in outcome:
        print(f"{'PASS' if passed else 'FAIL'} {description}")
    return 0 if all(passed for passed, _ in outcome) else 1


if __name__ == "__main__":
    sys.exit(main())
