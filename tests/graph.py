"""Reading the recorded dependency graph the way the engine would act on it."""

from __future__ import annotations

from graphlib import TopologicalSorter

from tools.mock_engine import Evaluation


def creation_order(evaluation: Evaluation) -> list[str]:
    """Resource names in an order the engine may create them: every dependency before its dependents."""
    graph = {
        urn: {dep for dep in registration.dependencies if dep in evaluation.registrations}
        for urn, registration in evaluation.registrations.items()
    }
    return [evaluation.registrations[urn].name for urn in TopologicalSorter(graph).static_order()]


def must_precede(evaluation: Evaluation, first: str, then: str) -> bool:
    """True when `then` depends, directly or through others, on `first`: the engine creates `first` before
    `then` and, on destroy, deletes `then` before `first`."""
    by_name = {registration.name: registration for registration in evaluation.registrations.values()}
    target = by_name[first].urn
    seen: set[str] = set()
    stack = list(by_name[then].dependencies)
    while stack:
        urn = stack.pop()
        if urn == target:
            return True
        if urn in seen or urn not in evaluation.registrations:
            continue
        seen.add(urn)
        stack.extend(evaluation.registrations[urn].dependencies)
    return False
