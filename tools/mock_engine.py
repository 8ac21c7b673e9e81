"""Evaluate the real program on the Pulumi SDK's mock engine: no CLI, no cluster, no network.

The recording monitor keeps every registration as the engine would receive it (inputs, dependencies,
parent, provider and options). The tests, the offline plan and the benchmarks all evaluate stacks here.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import os
import runpy
import sys
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dill
import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.settings import ROOT as ROOT_RESOURCE
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.sync_await import _sync_await

from tools.stack_config import stack_config
from tools.urns import alias_urns, compose_urn

__all__ = ["ROOT", "Evaluation", "Registration", "evaluate", "is_secret", "stack_config", "unwrap"]

ROOT = Path(__file__).resolve().parent.parent
MOCK_VALIDITY_END = "2027-11-30T12:00:00Z"
CONFIG_VARIABLES = ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")
# What the cluster inspection reports while the program is evaluated with adoptExisting (scripts/inspect-cluster.sh,
# MODE=report): an empty cluster unless a test hands in the report of a recorded one.
EMPTY_CLUSTER_REPORT = "end\n"


@dataclass(frozen=True)
class Registration:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    dependencies: frozenset[str]
    provider: str
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    ignore_changes: tuple[str, ...]
    custom_timeouts: dict[str, str]
    additional_secret_outputs: tuple[str, ...]
    aliases: tuple[str, ...]
    request: Any = field(repr=False, compare=False)

    @functools.cached_property
    def alias_urns(self) -> tuple[str, ...]:
        return alias_urns(self.request.aliases, self.urn, self.type, self.name, self.parent)

    @functools.cached_property
    def inputs(self) -> dict[str, Any]:
        """The inputs as the engine received them; decoded on first use (most are never read)."""
        return rpc.deserialize_properties(self.request.object, keep_unknowns=True)


@dataclass
class Evaluation:
    stack: str
    registrations: dict[str, Registration]
    outputs: dict[str, Any]
    secret_outputs: frozenset[str]
    logs: list[tuple[str, str]]
    # The inputs of each command the program ran while it was evaluated (pulumi-command's local.run).
    runs: list[dict[str, Any]] = field(default_factory=list)

    def named(self, name: str) -> Registration:
        hits = [r for r in self.registrations.values() if r.name == name]
        if len(hits) != 1:
            raise KeyError(f"{name!r} registered {len(hits)} times; names: {sorted(self.names())}")
        return hits[0]

    def release(self, release_name: str) -> Registration:
        """The Helm release installed under this release name (its `name` input, not its Pulumi name)."""
        hits = [r for r in self.of_type("kubernetes:helm.sh/v3:Release") if r.inputs.get("name") == release_name]
        if len(hits) != 1:
            raise KeyError(f"Helm release {release_name!r} registered {len(hits)} times")
        return hits[0]

    def names(self) -> list[str]:
        return [registration.name for registration in self.registrations.values()]

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations.values() if r.type == type_]

    def by_urn(self, urn: str) -> Registration:
        return self.registrations[urn]

    def dependency_names(self, name: str) -> set[str]:
        return {self.registrations[urn].name for urn in self.named(name).dependencies if urn in self.registrations}

    def children(self, name: str) -> list[Registration]:
        parent = self.named(name).urn
        return [r for r in self.registrations.values() if r.parent == parent]


class MeshMocks(pulumi.runtime.Mocks):
    """Echo inputs as state and add the computed outputs the program reads (certificates, release status).

    `recorded`: the state a previous deployment left, by resource name, for dynamic resources: their
    provider's check() then sees it beside the new inputs, as the engine's update does, and its result
    (or its failures, raised) becomes the state.

    A resource renamed with an alias keeps the state it had under its old name (the engine updates the old
    resource in place), so its ID, computed outputs and recorded state are those of the name it claims
    (`state_names`, filled in by the monitor from the aliases).
    """

    def __init__(
        self, recorded: Mapping[str, Mapping[str, Any]] | None = None, cluster_report: str = EMPTY_CLUSTER_REPORT
    ) -> None:
        super().__init__()
        self.recorded = dict(recorded or {})
        self.cluster_report = cluster_report
        self.runs: list[dict[str, Any]] = []
        self.state_names: dict[tuple[str, str], str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        state = dict(args.inputs)
        kind = args.typ
        name = self.state_names.get((args.typ, args.name), args.name)
        if kind.startswith("pulumi-python:dynamic/") and name in self.recorded:
            state = _checked_update(state, self.recorded[name])
        if kind == "tls:index/privateKey:PrivateKey":
            state["privateKeyPem"] = f"-----BEGIN PRIVATE KEY-----\nmock-key-{name}\n-----END PRIVATE KEY-----\n"
            state["publicKeyPem"] = f"-----BEGIN PUBLIC KEY-----\nmock-{name}\n-----END PUBLIC KEY-----\n"
        elif kind in ("tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert"):
            state["certPem"] = f"-----BEGIN CERTIFICATE-----\nmock-cert-{name}\n-----END CERTIFICATE-----\n"
            # A fixed date: evaluations must not depend on the clock.
            state["validityEndTime"] = MOCK_VALIDITY_END
        elif kind == "tls:index/certRequest:CertRequest":
            state["certRequestPem"] = (
                f"-----BEGIN CERTIFICATE REQUEST-----\nmock-{name}\n-----END CERTIFICATE REQUEST-----\n"
            )
        elif kind == "kubernetes:helm.sh/v3:Release":
            state["status"] = {
                "status": "deployed",
                "name": args.inputs.get("name"),
                "version": args.inputs.get("version"),
            }
        elif kind == "kubernetes:gateway.networking.k8s.io/v1:Gateway":
            state["status"] = {"addresses": [{"type": "IPAddress", "value": "192.0.2.10"}]}
        elif kind == "command:local:Command":
            state["stdout"] = ""
        return f"{name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        if args.token == "command:local:run":
            # The only command the program runs while it is evaluated: the cluster inspection's report.
            self.runs.append(dict(args.args))
            return {"stdout": self.cluster_report, "stderr": ""}, []
        return {}, None


def _checked_update(news: dict[str, Any], olds: Mapping[str, Any]) -> dict[str, Any]:
    provider = dill.loads(base64.b64decode(news["__provider"]))
    result = provider.check(dict(olds), dict(news))
    if result.failures:
        raise ValueError("; ".join(failure.reason for failure in result.failures))
    return dict(result.inputs)


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: dict[str, Registration] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The engine's URN (tools/urns.py); the SDK's mock monitor qualifies by the parent's last type only."""
        return compose_urn(pulumi.get_stack(), pulumi.get_project(), type_, name, parent)

    def RegisterResource(self, request: Any) -> Any:
        renamed_from = [
            alias.spec.name if alias.WhichOneof("alias") == "spec" else alias.urn.rpartition("::")[2]
            for alias in request.aliases
        ]
        if isinstance(self.mocks, MeshMocks) and any(renamed_from):
            self.mocks.state_names[request.type, request.name] = next(name for name in renamed_from if name)
        response = super().RegisterResource(request)
        if response.urn in self.registrations:
            # As the engine refuses a second resource with a URN (pulumi/pulumi v3.259.0, pkg/resource/deploy/
            # step_generator.go, diag.GetDuplicateResourceURNError in sdk/go/common/diag/errors.go).
            raise ValueError(f"Duplicate resource URN '{response.urn}'; try giving it a unique name")
        if request.type != "pulumi:pulumi:Stack":
            self.registrations[response.urn] = Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=request.custom,
                dependencies=frozenset(request.dependencies),
                provider=request.provider,
                protect=request.protect,
                retain_on_delete=request.retainOnDelete,
                delete_before_replace=request.deleteBeforeReplace,
                ignore_changes=tuple(request.ignoreChanges),
                custom_timeouts={
                    "create": request.customTimeouts.create,
                    "update": request.customTimeouts.update,
                    "delete": request.customTimeouts.delete,
                },
                additional_secret_outputs=tuple(request.additionalSecretOutputs),
                aliases=tuple(str(alias) for alias in request.aliases),
                request=request,
            )
        return response


class _LogCollector:
    def __init__(self) -> None:
        self.records: list[tuple[str, str]] = []

    def _log(self, level: str, message: str) -> None:
        self.records.append((level, message))

    def debug(self, message: str) -> None:
        self._log("debug", message)

    def info(self, message: str) -> None:
        self._log("info", message)

    def warning(self, message: str) -> None:
        self._log("warning", message)

    def error(self, message: str) -> None:
        self._log("error", message)


def evaluate(
    stack: str = "homelab",
    overrides: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    root: Path = ROOT,
    program: Path | None = None,
    stack_file: Path | None = None,
    recorded: Mapping[str, Mapping[str, Any]] | None = None,
    cluster_report: str = EMPTY_CLUSTER_REPORT,
) -> Evaluation:
    """Run the program once on a fresh mock engine and return everything it registered and exported.

    `stack_file`: read the stack's config from this file instead of `Pulumi.<stack>.yaml` beside the project.
    `recorded`: state a previous deployment left for dynamic resources, by name (see MeshMocks).
    `cluster_report`: what the cluster inspection answers the program (adoptExisting).
    The program runs on a thread of its own: the SDK records the Python stack of every resource it registers,
    and a test runner's deep stack would make that a fifth of the evaluation's cost.
    """
    result: list[Evaluation] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(_evaluate(stack, overrides, secrets, root, program, stack_file, recorded, cluster_report))
        except BaseException as error:  # re-raised on the caller's thread
            failure.append(error)

    worker = threading.Thread(target=run, name=f"evaluate-{stack}")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return result[0]


def _evaluate(
    stack: str,
    overrides: Mapping[str, Any] | None,
    secrets: Mapping[str, str] | None,
    root: Path,
    program: Path | None,
    stack_file: Path | None,
    recorded: Mapping[str, Mapping[str, Any]] | None = None,
    cluster_report: str = EMPTY_CLUSTER_REPORT,
) -> Evaluation:
    project, config, secret_keys = stack_config(stack, root, overrides, secrets, stack_file)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The SDK calls the monitor from the loop's default executor, and the mock monitor gives each of its
    # threads an event loop it never closes (pulumi 3.272.0, runtime/mocks.py RegisterResource and Invoke:
    # `_ensure_event_loop`): each thread starts here with a loop of ours, closed with the evaluation.
    worker_loops: list[asyncio.AbstractEventLoop] = []

    def worker_loop() -> None:
        worker_loops.append(asyncio.new_event_loop())
        asyncio.set_event_loop(worker_loops[-1])

    executor = ThreadPoolExecutor(thread_name_prefix="mock-monitor", initializer=worker_loop)
    loop.set_default_executor(executor)
    logs = _LogCollector()
    mocks = MeshMocks(recorded, cluster_report)
    monitor = RecordingMonitor(mocks)
    saved_environment = {name: os.environ.get(name) for name in CONFIG_VARIABLES}
    try:
        pulumi.runtime.set_all_config(config, secret_keys)
        # As pulumi-language-python hands a program its config: the program lists the keys from here.
        os.environ["PULUMI_CONFIG"] = json.dumps(config)
        os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(secret_keys)
        # A fresh root Stack per evaluation, so outputs never leak from one evaluation into the next.
        ROOT_RESOURCE.set(None)
        pulumi_mocks.set_mocks(monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor, logger=logs)  # type: ignore[arg-type]
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        main = program or root / "__main__.py"
        pulumi.runtime.test(lambda: _run_program(main))()
        outputs, secret_outputs = _resolve_outputs()
    finally:
        pulumi.runtime.set_all_config({}, [])
        for name, value in saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        executor.shutdown(wait=True)
        for each in worker_loops:
            each.close()
        loop.close()
        asyncio.set_event_loop(None)
    return Evaluation(
        stack, dict(monitor.registrations), outputs, frozenset(secret_outputs), logs.records, list(mocks.runs)
    )


def _run_program(main: Path) -> None:
    # Return nothing: the test wrapper would otherwise walk the program's globals as if they were outputs.
    runpy.run_path(str(main), run_name="__main__")


def _resolve_outputs() -> tuple[dict[str, Any], set[str]]:
    root = get_root_resource()
    outputs: dict[str, Any] = {}
    secret: set[str] = set()
    for name, value in (root.outputs if root else {}).items():  # type: ignore[attr-defined]
        output = pulumi.Output.from_input(value)
        outputs[name] = _sync_await(output.future())
        if _sync_await(output.is_secret()):
            secret.add(name)
    return outputs, secret


def is_secret(value: Any) -> bool:
    return rpc.is_rpc_secret(value)


def unwrap(value: Any) -> Any:
    """Inputs with secrets unwrapped, for assertions on their content."""
    if rpc.is_rpc_secret(value):
        return unwrap(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value
