"""The URN of every resource of the committed stacks, pinned in tests/urns/<stack>.txt (tests/test_urns.py).

A URN is a resource's identity in the state: a resource whose URN changes without an alias to the old one is
deleted and created again, and for a Kubernetes object that deletion removes it from the cluster. The pins
make every such change visible in review: regenerate them only for a deliberate replacement,

    venv/bin/python -m tools.urn_pins

and say in the commit why the old resources may go.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tools.mock_engine import ROOT, Evaluation, evaluate

PINS = ROOT / "tests" / "urns"
# The committed stacks: the stack name and the file its config comes from.
STACKS: dict[str, Path] = {
    "homelab": ROOT / "Pulumi.homelab.yaml",
    "dev": ROOT / "Pulumi.dev.yaml",
    "starter": ROOT / "stacks" / "starter.yaml",
}
HEADER = "# Pinned URNs of this stack (tools/urn_pins.py); edit only for a deliberate, reviewed replacement.\n"


def pin_file(stack: str) -> Path:
    return PINS / f"{stack}.txt"


def read_pins(stack: str) -> set[str]:
    lines = pin_file(stack).read_text().splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def evaluate_stack(stack: str) -> Evaluation:
    return evaluate(stack, stack_file=STACKS[stack])


def urn_changes(evaluation: Evaluation, pins: Iterable[str]) -> tuple[list[str], list[str]]:
    """(pinned URNs no resource registers or aliases: deleted by the next `pulumi up`; registered URNs that
    are neither pinned nor aliased to a pin: created by it)."""
    pinned = set(pins)
    registered = evaluation.registrations
    aliased = {alias for registration in registered.values() for alias in registration.alias_urns}
    deleted = sorted(pinned - set(registered) - aliased)
    created = sorted(
        urn
        for urn, registration in registered.items()
        if urn not in pinned and not pinned & set(registration.alias_urns)
    )
    return deleted, created


def main() -> None:
    for stack in STACKS:
        urns = sorted(evaluate_stack(stack).registrations)
        pin_file(stack).write_text(HEADER + "".join(f"{urn}\n" for urn in urns))
        print(f"{pin_file(stack).relative_to(ROOT)}: {len(urns)} URNs")


if __name__ == "__main__":
    main()
