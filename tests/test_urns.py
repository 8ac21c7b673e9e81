"""A URN is a contract: every resource of the committed stacks keeps its URN, or carries an alias to it.

With upsertExistingObjects off a renamed resource can no longer silently take over and then delete its cluster
object, but it would still be replaced; these pins make every URN change a reviewed edit (tools/urn_pins.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from tools.mock_engine import Evaluation
from tools.urn_pins import STACKS, claimed_urns, evaluate_stack, pin_file, read_pins, urn_changes
from tools.urns import urn_parts


@pytest.fixture(scope="module")
def evaluations() -> dict[str, Evaluation]:
    return {stack: evaluate_stack(stack) for stack in STACKS}


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_keeps_its_pinned_urn(evaluations: dict[str, Evaluation], stack: str) -> None:
    deleted, created = urn_changes(evaluations[stack], read_pins(stack))
    assert (deleted, created) == ([], []), (
        f"the {stack} stack's URNs changed. The next `pulumi up` deletes {deleted} and creates {created}. "
        "Give each moved resource an alias to its old URN (pulumi.Alias), or, for a deliberate replacement, "
        "regenerate the pins with `venv/bin/python -m tools.urn_pins` in the same commit"
    )


def test_the_pins_hold_no_duplicates_and_only_urns() -> None:
    for stack in STACKS:
        lines = [line for line in pin_file(stack).read_text().splitlines() if line and not line.startswith("#")]
        assert len(lines) == len(set(lines)), stack
        assert all(line.startswith(f"urn:pulumi:{stack}::homelab-mesh::") for line in lines), stack


def test_a_component_type_renamed_without_an_alias_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """IngressGateway's type string changed and its alias forgotten: every child's URN changes with it, the
    istio-gateway namespace among them, which the next `pulumi up` would delete."""
    original = pulumi.ComponentResource.__init__

    def renamed(self: Any, t: str, name: str, props: Any = None, opts: Any = None, *args: Any, **kw: Any) -> None:
        if t == "homelab-mesh:index:IngressGateway":
            t, opts = "homelab-mesh:index:Ingress", pulumi.ResourceOptions.merge(opts, None)
            opts.aliases = None
        original(self, t, name, props, opts, *args, **kw)

    monkeypatch.setattr(pulumi.ComponentResource, "__init__", renamed)
    deleted, created = urn_changes(evaluate_stack("homelab"), read_pins("homelab"))
    assert (
        "urn:pulumi:homelab::homelab-mesh::homelab-mesh:ingress:IngressGateway$kubernetes:core/v1:Namespace::istio-gateway"
        in deleted
    )
    assert (
        "urn:pulumi:homelab::homelab-mesh::homelab-mesh:index:Ingress$kubernetes:core/v1:Namespace::ingress-namespace"
        in created
    )


def test_an_alias_to_the_old_urn_keeps_a_renamed_resource() -> None:
    """The other half of the contract: MetalLB's renamed pool carries an alias to the pinned URN, so nothing
    is deleted or created; the same rename without its alias would be both."""
    from tools.mock_engine import evaluate

    pool = {"name": "home", "addresses": ["192.168.1.240-192.168.1.250"]}
    renamed = evaluate("homelab", overrides={"addressPools": [{**pool, "renamedFrom": "homelab-lan"}]})
    assert urn_changes(renamed, read_pins("homelab")) == ([], [])
    without_alias = evaluate("homelab", overrides={"addressPools": [pool]})
    deleted, created = urn_changes(without_alias, read_pins("homelab"))
    assert [urn.rpartition("::")[2] for urn in deleted] == ["address-pool-homelab-lan"]
    assert [urn.rpartition("::")[2] for urn in created] == ["lan-load-balancer-address-pool-home"]


def test_an_alias_on_a_component_carries_its_children(evaluations: dict[str, Evaluation]) -> None:
    """The way the type tokens moved to `homelab-mesh:index:<Class>` (issue 25): an alias on each public
    component to its old token, and none on a child whose name did not change (the Gateway, `f"{name}-gateway"`
    of the component `ingress`), whose pinned URN the engine finds through its parent's."""
    homelab = evaluations["homelab"]
    ingress = homelab.named("ingress")
    assert ingress.type == "homelab-mesh:index:IngressGateway"
    assert "urn:pulumi:homelab::homelab-mesh::homelab-mesh:ingress:IngressGateway::ingress" in ingress.alias_urns
    assert homelab.named("ingress-gateway").alias_urns == ()
    components = [
        r for r in homelab.registrations.values() if not r.custom and r.type.startswith("homelab-mesh:index:")
    ]
    assert components
    for component in components:
        old_types = {urn_parts(urn)[2] for urn in component.alias_urns} - {component.type}
        assert len(old_types) == 1, component.name


RENAMED_PROGRAM = Path(__file__).with_name("renamed_component_program.py")
TEKTON_PINS = [urn for urn in read_pins("homelab") if "tekton-builds" in urn]


def _renamed(monkeypatch: pytest.MonkeyPatch, alias: bool, nested: bool = False) -> Evaluation:
    from tools.mock_engine import evaluate

    monkeypatch.setenv("RENAMED_WITH_ALIAS", "1" if alias else "0")
    monkeypatch.setenv("NESTED", "1" if nested else "0")
    return evaluate("homelab", program=RENAMED_PROGRAM)


def test_a_callers_rename_of_a_component_also_reaches_its_old_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stack written before the package holds `homelab-mesh:mesh:MeshedNamespace::mesh-tekton-builds`: old
    name and old type together. The user's `pulumi.Alias(name=...)` alone names the new type, and the engine
    matches each alias URN as it is, so the component adds the same alias under its old token; its children,
    renamed after it (`tekton-...`), carry their own aliases. Without the user's alias only the component
    itself is new."""
    claimed = claimed_urns(_renamed(monkeypatch, alias=True), TEKTON_PINS)
    assert sorted(claimed.values()) == sorted(TEKTON_PINS)
    assert {urn.rpartition("::")[2] for urn in claimed} == {
        "tekton",
        "tekton-namespace",
        "tekton-l4-authorization",
        "tekton-unenrol",
    }
    deleted, created = urn_changes(_renamed(monkeypatch, alias=False), TEKTON_PINS)
    assert deleted == ["urn:pulumi:homelab::homelab-mesh::homelab-mesh:mesh:MeshedNamespace::mesh-tekton-builds"]
    assert created == ["urn:pulumi:homelab::homelab-mesh::homelab-mesh:index:MeshedNamespace::tekton"]


def test_aliases_are_urns_at_the_top_of_the_stack_and_specs_below_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """At the top of the stack the component and MeshedNamespace's children send their aliases as the URNs
    they name (one Output each in the SDK, not several); under a parent of the caller's, where the parent's
    own type chain is not known, as alias specs that the engine completes. Both name the same old URNs."""
    top = _renamed(monkeypatch, alias=True)
    nested = _renamed(monkeypatch, alias=True, nested=True)
    for evaluation, form in ((top, "urn"), (nested, "spec")):
        for registration in evaluation.registrations.values():
            if registration.type.startswith("example:"):
                continue
            forms = {alias.WhichOneof("alias") for alias in registration.request.aliases}
            assert forms == {form}, (registration.name, forms)
    assert set(nested.named("tekton").alias_urns) == {
        "urn:pulumi:homelab::homelab-mesh::example:index:Mesh$homelab-mesh:index:MeshedNamespace::mesh-tekton-builds",
        "urn:pulumi:homelab::homelab-mesh::example:index:Mesh$homelab-mesh:mesh:MeshedNamespace::mesh-tekton-builds",
        "urn:pulumi:homelab::homelab-mesh::example:index:Mesh$homelab-mesh:mesh:MeshedNamespace::tekton",
    }
    assert set(top.named("tekton").alias_urns) == {
        "urn:pulumi:homelab::homelab-mesh::homelab-mesh:index:MeshedNamespace::mesh-tekton-builds",
        "urn:pulumi:homelab::homelab-mesh::homelab-mesh:mesh:MeshedNamespace::mesh-tekton-builds",
        "urn:pulumi:homelab::homelab-mesh::homelab-mesh:mesh:MeshedNamespace::tekton",
    }
