"""Is the program's evaluation as fast as the same resources through the SDK's typed classes?

The program registers its Kubernetes objects through one small class (components/kubernetes.py) instead
of pulumi-kubernetes' generated classes. This compares it, whole process against whole process, with a
program that registers exactly what the program registered (type, name, parent, provider, dependencies,
inputs) through the typed classes (benchmarks/typed_program.py):

    venv/bin/python benchmarks/typed_baseline.py --record 800 /tmp/typed-800.json
    hyperfine -w 1 -r 5 \\
      'venv/bin/python benchmarks/evaluate.py --child 800' \\
      'venv/bin/python benchmarks/typed_baseline.py --replay /tmp/typed-800.json'

`--record SIZE FILE`: evaluate the program for the generated stack of SIZE meshed namespaces (0: the
homelab stack) and write its registrations. `--replay FILE`: evaluate the typed-class program on the same
mock engine and print the number of resources it registered, which must equal the recording's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = Path(__file__).resolve().with_name("typed_program.py")


def record(size: int, path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from evaluate import stack_overrides

    from tools.mock_engine import evaluate, unwrap

    evaluation = evaluate("homelab", overrides=stack_overrides(size) if size else None)
    records = {
        urn: {
            "type": registration.type,
            "name": registration.name,
            "custom": registration.custom,
            "parent": registration.parent,
            "provider": registration.provider.rsplit("::", 1)[0] if registration.provider else "",
            "dependencies": sorted(registration.dependencies),
            "inputs": unwrap(registration.inputs),
        }
        for urn, registration in evaluation.registrations.items()
    }
    path.write_text(json.dumps(records, default=str))
    print(f"{len(records)} resources recorded in {path}")


def replay(path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from tools.mock_engine import evaluate

    os.environ["TYPED_BASELINE_RECORDING"] = str(path)
    evaluation = evaluate("homelab", program=PROGRAM)
    expected = len(json.loads(path.read_text()))
    if len(evaluation.registrations) != expected:
        raise SystemExit(f"the typed program registered {len(evaluation.registrations)} resources, not {expected}")
    print(f"{expected} resources registered through the typed classes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--record", nargs=2, metavar=("SIZE", "FILE"))
    group.add_argument("--replay", metavar="FILE", type=Path)
    arguments = parser.parse_args()
    if arguments.record:
        record(int(arguments.record[0]), Path(arguments.record[1]))
    else:
        replay(arguments.replay)


if __name__ == "__main__":
    main()
