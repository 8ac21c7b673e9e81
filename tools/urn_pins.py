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
from tools.urns import compose_urn, urn_parts

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
    """(pinned URNs no resource claims: deleted by the next `pulumi up`; registered resources that claim no
    pinned URN: created by it). How a resource claims a pin: `claimed_urns`."""
    pinned = set(pins)
    claimed = claimed_urns(evaluation, pinned)
    deleted = sorted(pinned - set(claimed.values()))
    created = sorted(urn for urn in evaluation.registrations if urn not in claimed)
    return deleted, created


def claimed_urns(evaluation: Evaluation, pins: Iterable[str]) -> dict[str, str]:
    """{registered URN: the pinned URN it claims}.

    A resource claims a pin by its URN or by an alias, as the engine matches them (pulumi/pulumi v3.259.0,
    pkg/resource/deploy/step_generator.go `generateAliases`): its own aliases, and for a child of a resource
    that was found under an alias, the child's URN under that old parent (`inheritedChildAlias`, which also
    renames a `<parent name>-...` child after the parent's old name). So an alias on a component carries
    its children."""
    pinned = set(pins)
    claimed: dict[str, str] = {}
    for urn, registration in evaluation.registrations.items():  # parents register before their children
        candidates = [urn, *registration.alias_urns]
        parent_found_as = claimed.get(registration.parent)
        if parent_found_as is not None and parent_found_as != registration.parent:
            parent_name = urn_parts(registration.parent)[3]
            old_parent_name = urn_parts(parent_found_as)[3]
            for candidate in list(candidates):
                _, _, qualified_type, name = urn_parts(candidate)
                if name.startswith(parent_name):
                    name = old_parent_name + name[len(parent_name) :]
                child_type = qualified_type.rpartition("$")[2]
                stack, project = urn_parts(urn)[:2]
                candidates.append(compose_urn(stack, project, child_type, name, parent_found_as))
        match = next((candidate for candidate in candidates if candidate in pinned), None)
        if match is not None:
            claimed[urn] = match
    return claimed


def main() -> None:
    for stack in STACKS:
        urns = sorted(evaluate_stack(stack).registrations)
        pin_file(stack).write_text(HEADER + "".join(f"{urn}\n" for urn in urns))
        print(f"{pin_file(stack).relative_to(ROOT)}: {len(urns)} URNs")


if __name__ == "__main__":
    main()
