"""Evaluating a stack twice gives the engine the same program: no spurious diffs on `pulumi up`.

Two kinds of noise are not the program's and are normalised away: the order of registration (the SDK
registers from concurrent tasks) and the order of the URN lists `dependencies` and
`propertyDependencies` (the SDK builds them from sets of resources; the engine reads them as sets).
Everything else is compared as sent, including the key order of each resource's inputs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from tools.mock_engine import Evaluation, evaluate

ROOT = Path(__file__).resolve().parent.parent
STACKS = sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in ROOT.glob("Pulumi.*.yaml"))


def engine_view(evaluation: Evaluation) -> dict[str, dict[str, Any]]:
    """Per URN, the registration request as the engine receives it, with set-valued URN lists sorted."""
    view: dict[str, dict[str, Any]] = {}
    for urn, registration in evaluation.registrations.items():
        request = json_format.MessageToDict(registration.request, preserving_proto_field_name=True)
        # The Python call stack that led to the registration, down to the harness's own frames.
        request.pop("stackTrace", None)
        request["object"] = registration.inputs
        request["dependencies"] = sorted(request.get("dependencies", []))
        for dependencies in request.get("propertyDependencies", {}).values():
            dependencies["urns"] = sorted(dependencies.get("urns", []))
        view[urn] = request
    return view


def normalized_dump(evaluation: Evaluation) -> str:
    return json.dumps(
        {
            "registrations": engine_view(evaluation),
            "outputs": evaluation.outputs,
            "secretOutputs": sorted(evaluation.secret_outputs),
        },
        sort_keys=True,
        indent=1,
    )


def differences(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """`urn: field` for every field that differs, compared as JSON text in the order the values came."""
    found = [f"only in one run: {urn}" for urn in sorted(set(first) ^ set(second))]
    for urn in sorted(set(first) & set(second)):
        fields = set(first[urn]) | set(second[urn])
        found += [
            f"{urn}: {field}"
            for field in sorted(fields)
            if json.dumps(first[urn].get(field)) != json.dumps(second[urn].get(field))
        ]
    return found


@pytest.fixture(scope="module", params=STACKS)
def twice(request: pytest.FixtureRequest) -> tuple[Evaluation, Evaluation]:
    return evaluate(request.param), evaluate(request.param)


def test_stack_files_found() -> None:
    assert "homelab" in STACKS


def test_same_resources_names_types_and_parents(twice: tuple[Evaluation, Evaluation]) -> None:
    first, second = twice

    def shape(evaluation: Evaluation) -> dict[str, tuple[str, str, str, bool]]:
        return {urn: (r.type, r.name, r.parent, r.custom) for urn, r in evaluation.registrations.items()}

    assert shape(first) == shape(second)
    assert len(first.registrations) > 10


def test_same_inputs_in_the_same_key_order(twice: tuple[Evaluation, Evaluation]) -> None:
    first, second = twice
    changed = [
        registration.name
        for urn, registration in first.registrations.items()
        if json.dumps(registration.inputs) != json.dumps(second.registrations[urn].inputs)
    ]
    assert changed == []


def test_same_dependencies_and_options(twice: tuple[Evaluation, Evaluation]) -> None:
    first, second = twice
    assert differences(engine_view(first), engine_view(second)) == []
    # The recorded registrations compare every field but the raw request, dependencies as sets.
    assert first.registrations == second.registrations


def test_same_outputs(twice: tuple[Evaluation, Evaluation]) -> None:
    first, second = twice
    assert json.dumps(first.outputs) == json.dumps(second.outputs)
    assert first.secret_outputs == second.secret_outputs


def test_same_normalized_dump(twice: tuple[Evaluation, Evaluation]) -> None:
    first, second = twice
    assert normalized_dump(first) == normalized_dump(second)


@pytest.fixture(scope="module", autouse=True)
def another_process() -> Iterator[subprocess.Popen[str]]:
    """Every stack's `normalized_dump`, evaluated in a fresh interpreter with another PYTHONHASHSEED.

    Started before the other tests of this module so that its start-up overlaps them.
    """
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    script = (
        "import json, sys\n"
        f"sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}]\n"
        "from test_determinism import STACKS, normalized_dump\n"
        "from tools.mock_engine import evaluate\n"
        "json.dump({stack: normalized_dump(evaluate(stack)) for stack in STACKS}, sys.stdout)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONHASHSEED": seed},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
    process.communicate()


@pytest.fixture(scope="module")
def dumps_from_another_process(another_process: subprocess.Popen[str]) -> dict[str, str]:
    stdout, stderr = another_process.communicate(timeout=120)
    assert another_process.returncode == 0, stderr
    dumps: dict[str, str] = json.loads(stdout)
    return dumps


def test_same_in_a_process_with_another_hash_seed(
    twice: tuple[Evaluation, Evaluation], dumps_from_another_process: dict[str, str]
) -> None:
    """Iterating a set of strings follows PYTHONHASHSEED, so a program that does so differs between runs.

    Only the normalised dump can be compared across processes: protobuf orders each Struct's keys by a
    per-process hash, so the engine itself never sees one key order from run to run.
    """
    first, _ = twice
    assert dumps_from_another_process[first.stack] == normalized_dump(first)
