"""The cluster inspection `pulumi up` runs first, run by hand before the first `pulumi up`: read-only.

    venv/bin/python -m tools.inspect --stack homelab
    venv/bin/python -m tools.inspect --config path/to/stack-file.yaml --mode redeploy

The program is evaluated offline (the mock engine, as tools.plan does) for the exact environment it gives
scripts/inspect-cluster.sh; the script then runs here, with kubectl in the stack's kubeContext, and asks only
`kubectl get` (Argo CD Applications, the objects the stack would install or take, Helm release records,
Services): a read-only identity is enough. It prints the table and every refusal with its way forward,
and exits as `pulumi up` would: 0 when it would go ahead, 1 when it would refuse, 127 without kubectl.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pulumi
from homelab_mesh.scripts import BASH, script
from homelab_mesh.settings.stack_file import StackFileError

from tools.mock_engine import ROOT, evaluate
from tools.plan import DEFAULT_STACK, EXIT_BAD_INPUT, stack_name_of

MODES = ("first-deploy", "redeploy", "report")


def _parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.inspect", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help=f"stack name (default: {DEFAULT_STACK}); its config is Pulumi.<stack>.yaml")
    parser.add_argument("--config", type=Path, help="stack file, anywhere (default: Pulumi.<stack>.yaml)")
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="first-deploy",
        help="first-deploy: as the stack's first pulumi up (default); redeploy: as a later one; "
        "report: the lines the program reads with adoptExisting",
    )
    return parser.parse_args(argv)


def inspection_environment(stack: str, stack_file: Path) -> dict[str, str]:
    evaluation = evaluate(stack, stack_file=stack_file)
    # The inspection command of the program's UpgradeGuard, `upgrade-guard` in __main__.py.
    return dict(evaluation.named("upgrade-guard-cluster-inspection").inputs["environment"])


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parse_arguments(argv)
    stack_file = arguments.config or ROOT / f"Pulumi.{arguments.stack or DEFAULT_STACK}.yaml"
    stack = arguments.stack or (stack_name_of(stack_file) if arguments.config else DEFAULT_STACK)
    try:
        environment = inspection_environment(stack, stack_file)
    except (StackFileError, pulumi.RunError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    # The launcher pulumi-command uses: no PULUMI_* variable reaches the script.
    result = subprocess.run(
        [*BASH, script("inspect-cluster.sh")],
        env={**os.environ, **environment, "MODE": arguments.mode},
        check=False,
    )
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
