"""Offline plan: what `pulumi up` would create for a stack, from the mock engine alone.

    python -m tools.plan --stack homelab --out plan/homelab
    python -m tools.plan --config path/to/any-stack-file.yaml --out plan/mine
    python -m tools.plan --stack homelab --deployed 1.29.9,v1.4.1     # as an upgrade from that pair

No cluster, no Pulumi CLI, no network. Writes to --out:
  objects.yaml   every Kubernetes object the program declares, secret values as <secret>
  releases.yaml  each Helm release: chart, version, repository, namespace and values
  graph.mmd      the deployed resources as a Mermaid flowchart, grouped in deployment waves
then prints the stack outputs the config decides, the resources by kind and one line per deployment wave.
The objects the Helm charts and the Gateway API CRD manifest create are not rendered: that needs the charts.
A bad stack file or config ends with one message (file:line:column for YAML) and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import pulumi
from homelab_mesh.settings.stack_file import StackFileError, load_stack_file
from homelab_mesh.upgrade import order
from homelab_mesh.upgrade_guard import RECORD_NAME, leaving_pair, target_pair
from homelab_mesh.version_record import GATEWAY_API, ISTIO, PREVIOUS_GATEWAY_API, PREVIOUS_ISTIO, VersionRecordProvider

from tools.mock_engine import ROOT, evaluate, stack_config
from tools.plan_graph import GRAPH_MARKER, graph_diagram, replace_mermaid_block, resource_graph
from tools.plan_render import render_objects, render_releases, render_summary

DEFAULT_STACK = "homelab"
EXIT_BAD_INPUT = 1
EXIT_USAGE = 2


class Progress:
    """One line per stage: `[2/5] evaluating ... 49 resources`."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.done = 0
        self.stream = stream

    @contextmanager
    def stage(self, description: str) -> Iterator[list[str]]:
        """Yields a list the stage appends its result to; the line is finished with it."""
        self.done += 1
        print(f"[{self.done}/{self.total}] {description} ...", end="", file=self.stream, flush=True)
        result: list[str] = []
        try:
            yield result
        except BaseException:
            print(" failed", file=self.stream, flush=True)
            raise
        print(" " + (", ".join(result) or "done"), file=self.stream, flush=True)


def _stacks(root: Path) -> list[str]:
    return sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in root.glob("Pulumi.*.yaml"))


def stack_name_of(path: Path) -> str:
    """`Pulumi.dev.yaml` -> `dev`; any other file by its name without the extension."""
    name = path.name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name.removeprefix("Pulumi.").rsplit(".", 1)[0]
    return path.stem


def _parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan",
        description="Write a stack's offline plan (objects.yaml, releases.yaml, graph.mmd) from the mock engine.",
    )
    parser.add_argument(
        "--stack",
        help=f"stack name; its config is Pulumi.<stack>.yaml unless --config is given (default: {DEFAULT_STACK})",
    )
    parser.add_argument(
        "--config", type=Path, help="stack file to evaluate, anywhere (default: Pulumi.<stack>.yaml of the project)"
    )
    parser.add_argument("--out", type=Path, help="output directory (default: plan/<stack>)")
    parser.add_argument(
        "--markdown", type=Path, help=f"also rewrite the ```mermaid block after {GRAPH_MARKER} in this Markdown file"
    )
    parser.add_argument(
        "--deployed",
        metavar="ISTIO,GATEWAY_API",
        help="plan the move from this deployed pair, e.g. 1.29.9,v1.4.1 (default: a first install)",
    )
    parser.add_argument(
        "--deployed-before",
        metavar="ISTIO,GATEWAY_API",
        help="with --deployed: the pair before it, which a rollback returns to",
    )
    parser.add_argument("--traceback", action="store_true", help="show the Python traceback of an unexpected error")
    return parser.parse_args(argv)


def recorded_versions(deployed: str | None, before: str | None = None) -> dict[str, dict[str, str]] | None:
    """The upgrade guard's record as a deployment of `deployed` ("1.29.9,v1.4.1") would have left it."""
    if deployed is None:
        if before is not None:
            raise ValueError("--deployed-before needs --deployed")
        return None
    pairs = [_pair(text) for text in (deployed, before or ",")]
    return {
        RECORD_NAME: {
            ISTIO: pairs[0][0],
            GATEWAY_API: pairs[0][1],
            PREVIOUS_ISTIO: pairs[1][0],
            PREVIOUS_GATEWAY_API: pairs[1][1],
        }
    }


def _guard_says(record: dict[str, str], istio_version: str, gateway_api_version: str) -> str:
    """The record provider's check, as the engine runs it: the refusal as an error, else the order."""
    checked = VersionRecordProvider().check(dict(record), {ISTIO: istio_version, GATEWAY_API: gateway_api_version})
    if checked.failures:
        raise ValueError(checked.failures[0].reason)
    if (record[ISTIO], record[GATEWAY_API]) == (istio_version, gateway_api_version):
        return "no version change"
    leaving = leaving_pair(checked.inputs[PREVIOUS_ISTIO], checked.inputs[PREVIOUS_GATEWAY_API])
    return f"allowed, order {order(leaving, target_pair(istio_version, gateway_api_version)).value}"


def _pair(text: str) -> tuple[str, str]:
    istio, _, gateway_api = text.partition(",")
    return istio.strip(), gateway_api.strip()


def write_plan(
    stack: str,
    stack_file: Path,
    out: Path,
    markdown: Path | None,
    stream: TextIO,
    recorded: dict[str, dict[str, str]] | None = None,
) -> None:
    progress = Progress(5 + (markdown is not None) + (recorded is not None), stream)
    with progress.stage(f"loading config of stack {stack}") as result:
        declared = load_stack_file(stack_file).get("config") or {}
        project, config, secret_keys = stack_config(stack, stack_file=stack_file)
        result.append(f"{len(declared)} keys in {stack_file}")
        if secret_keys:
            result.append(f"{len(secret_keys)} encrypted (evaluated as placeholders)")
    if recorded is not None:
        with progress.stage("asking the upgrade guard about the move") as result:
            result.append(
                _guard_says(
                    recorded[RECORD_NAME], config[f"{project}:istioVersion"], config[f"{project}:gatewayApiVersion"]
                )
            )
    with progress.stage("evaluating the program on the mock engine") as result:
        started = time.perf_counter()
        evaluation = evaluate(stack, stack_file=stack_file, recorded=recorded)
        graph = resource_graph(evaluation)
        result.append(f"{len(evaluation.registrations)} resources in {time.perf_counter() - started:.1f} s")
    out.mkdir(parents=True, exist_ok=True)
    with progress.stage(f"writing {out / 'objects.yaml'}") as result:
        text, count = render_objects(evaluation, graph)
        (out / "objects.yaml").write_text(text)
        result.append(f"{count} Kubernetes objects")
    with progress.stage(f"writing {out / 'releases.yaml'}") as result:
        text, count = render_releases(evaluation, graph)
        (out / "releases.yaml").write_text(text)
        result.append(f"{count} Helm releases")
    diagram = graph_diagram(graph)
    with progress.stage(f"writing {out / 'graph.mmd'}") as result:
        (out / "graph.mmd").write_text(diagram)
        result.append(f"{len(graph.labels)} resources in {max(graph.waves.values(), default=0)} waves")
    if markdown is not None:
        with progress.stage(f"embedding the graph in {markdown}"):
            markdown.write_text(replace_mermaid_block(markdown.read_text(), diagram))
    print(render_summary(evaluation, graph), end="", file=stream)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parse_arguments(argv)
    if arguments.config is not None:
        stack_file: Path = arguments.config
        stack = arguments.stack or stack_name_of(stack_file)
    else:
        stack = arguments.stack or DEFAULT_STACK
        stack_file = ROOT / f"Pulumi.{stack}.yaml"
        if not stack_file.exists():
            stacks = ", ".join(_stacks(ROOT))
            print(
                f"error: no Pulumi.{stack}.yaml; stacks: {stacks} (or give a stack file with --config)", file=sys.stderr
            )
            return EXIT_USAGE
    try:
        recorded = recorded_versions(arguments.deployed, arguments.deployed_before)
        write_plan(stack, stack_file, arguments.out or Path("plan", stack), arguments.markdown, sys.stdout, recorded)
    # ConfigError is a RunError: its message names every bad key. StackFileError names file:line:column.
    except (StackFileError, pulumi.RunError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:
        if arguments.traceback:
            raise
        print(f"error: {type(error).__name__}: {error} (run again with --traceback for details)", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
