"""Every registration of the homelab and starter stacks, as the engine receives it, in tests/state/registrations-
<stack>.json (tests/test_registrations.py compares the program with it).

The file was taken from the program before its components became the component package (issue 25), so the
comparison proves that existing stacks see no change: the same resources with the same inputs, parents,
dependencies and options. A resource is found under its URN or an alias, as the engine matches them
(tools/urn_pins.py `claimed_urns`); the component type tokens moved to `homelab-mesh:index:<Class>` under an
alias, so a type is compared only for custom resources. Regenerate only for a deliberate, reviewed change:

    venv/bin/python -m tools.registrations
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tools.mock_engine import ROOT, Evaluation, Registration
from tools.urn_pins import claimed_urns, evaluate_stack
from tools.urns import urn_parts

SNAPSHOTS = ROOT / "tests" / "state"
SNAPSHOT_STACKS = ("homelab", "starter")


def snapshot_file(stack: str) -> Path:
    return SNAPSHOTS / f"registrations-{stack}.json"


def _plain(value: Any) -> Any:
    """Inputs as JSON: a secret as {"secret": value}, a dynamic provider's pickled code by its digest."""
    from pulumi.runtime import rpc

    if rpc.is_rpc_secret(value):
        return {"secret": _plain(rpc.unwrap_rpc_secret(value))}
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def _record(registration: Registration, name_of: dict[str, str]) -> dict[str, Any]:
    def named(urn: str) -> str:
        return name_of.get(urn, urn_parts(urn)[3] if urn.startswith("urn:") else urn)

    inputs = _plain(registration.inputs)
    if "__provider" in inputs:
        # Pickled code: its bytes follow the interpreter, not the program; the digest still shows a change.
        inputs["__provider"] = hashlib.sha256(str(inputs["__provider"]).encode()).hexdigest()[:16]
    request = registration.request
    provider = registration.provider.split("::")
    return {
        "custom": registration.custom,
        "type": registration.type if registration.custom else None,
        "parent": named(registration.parent) if registration.parent else None,
        "dependencies": sorted(named(urn) for urn in registration.dependencies),
        "propertyDependencies": {
            key: sorted(named(urn) for urn in deps.urns) for key, deps in sorted(request.propertyDependencies.items())
        },
        "provider": named("::".join(provider[:-1])) if len(provider) > 1 else None,
        "providers": {key: named(ref.rsplit("::", 1)[0]) for key, ref in sorted(request.providers.items())},
        "protect": registration.protect,
        "retainOnDelete": registration.retain_on_delete,
        "deleteBeforeReplace": registration.delete_before_replace,
        "ignoreChanges": sorted(registration.ignore_changes),
        "replaceOnChanges": sorted(request.replaceOnChanges),
        "customTimeouts": registration.custom_timeouts,
        "additionalSecretOutputs": sorted(registration.additional_secret_outputs),
        "importId": request.importId,
        "deletedWith": named(request.deletedWith) if request.deletedWith else None,
        "version": request.version,
        "inputs": inputs,
    }


def records(evaluation: Evaluation, old_urns: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """{name: registration}; `old_urns` ({registered URN: the URN it claims}) names each resource, its parent
    and its dependencies by the name they had when the snapshot was taken."""
    old_urns = old_urns or {}
    name_of = {urn: urn_parts(old_urns.get(urn, urn))[3] for urn in evaluation.registrations}
    result = {name_of[urn]: _record(registration, name_of) for urn, registration in evaluation.registrations.items()}
    if len(result) != len(evaluation.registrations):
        raise ValueError(f"{evaluation.stack}: two resources share a name; the snapshot keys by name")
    return result


def compare(stack: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(the snapshot, today's registrations named as in the snapshot)."""
    saved = json.loads(snapshot_file(stack).read_text())
    evaluation = evaluate_stack(stack)
    old_urns = claimed_urns(evaluation, saved["urns"])
    return saved["registrations"], records(evaluation, old_urns)


def main() -> None:
    for stack in SNAPSHOT_STACKS:
        evaluation = evaluate_stack(stack)
        content = {"stack": stack, "urns": sorted(evaluation.registrations), "registrations": records(evaluation)}
        snapshot_file(stack).write_text(json.dumps(content, indent=1, sort_keys=True) + "\n")
        print(f"{snapshot_file(stack).relative_to(ROOT)}: {len(evaluation.registrations)} registrations")


if __name__ == "__main__":
    main()
