"""A Pulumi program that registers a recorded evaluation again, resource by resource, through the SDK's
typed classes: the baseline of benchmarks/typed_baseline.py. Not part of homelab-mesh itself.

Reads the recording named by TYPED_BASELINE_RECORDING (written by `typed_baseline.py --record`): each
resource's type, name, parent, provider, dependencies and inputs as the engine received them from the
program. Components become plain ComponentResources; Kubernetes objects the typed classes of
pulumi-kubernetes (CustomResource for custom kinds); commands, TLS objects and providers theirs.
"""

from __future__ import annotations

import importlib
import json
import os
import re
from graphlib import TopologicalSorter
from typing import Any

import pulumi

# pulumi-kubernetes module of each API group the program registers.
KUBERNETES_MODULES = {
    "core": "core",
    "apps": "apps",
    "networking.k8s.io": "networking",
    "policy": "policy",
    "rbac.authorization.k8s.io": "rbac",
    "scheduling.k8s.io": "scheduling",
}
CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake_case(inputs: dict[str, Any]) -> dict[str, Any]:
    return {CAMEL.sub("_", key).lower(): value for key, value in inputs.items()}


def typed_class(type_token: str) -> Any:
    """The typed class of a type token; None for a custom Kubernetes kind (apiextensions.CustomResource)."""
    package, module, kind = type_token.split(":")
    if package == "kubernetes":
        group, _, version = module.rpartition("/")
        if module == "helm.sh/v3":
            return importlib.import_module("pulumi_kubernetes.helm.v3").Release
        if module == "yaml/v2":
            return importlib.import_module("pulumi_kubernetes.yaml.v2").ConfigFile
        if group in KUBERNETES_MODULES:
            module_name = f"pulumi_kubernetes.{KUBERNETES_MODULES[group]}.{version}"
            return getattr(importlib.import_module(module_name), kind)
        return None
    if package == "command":
        return importlib.import_module("pulumi_command.local").Command
    if package == "tls":
        return getattr(importlib.import_module("pulumi_tls"), kind)
    raise ValueError(f"no typed class for {type_token}")


def register(record: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.Resource:
    inputs = {key: value for key, value in record["inputs"].items() if key not in ("status", "__provider")}
    if not record["custom"]:
        component = pulumi.ComponentResource(record["type"], record["name"], None, opts)
        component.register_outputs({})
        return component
    if record["type"].startswith("pulumi:providers:"):
        package = record["type"].rsplit(":", 1)[1]
        provider_class = importlib.import_module(f"pulumi_{package}").Provider
        return provider_class(record["name"], opts=opts, **snake_case(inputs))
    if record["type"].startswith("pulumi-python:dynamic"):
        return pulumi.CustomResource(record["type"], record["name"], inputs, opts)
    cls = typed_class(record["type"])
    if cls is None:
        custom_resource = importlib.import_module("pulumi_kubernetes.apiextensions").CustomResource
        return custom_resource(
            record["name"],
            api_version=inputs["apiVersion"],
            kind=inputs["kind"],
            metadata=inputs.get("metadata"),
            spec=inputs.get("spec"),
            opts=opts,
        )
    fields = snake_case({key: value for key, value in inputs.items() if key not in ("apiVersion", "kind")})
    return cls(record["name"], opts=opts, **fields)


def main() -> None:
    with open(os.environ["TYPED_BASELINE_RECORDING"]) as recording:
        records: dict[str, dict[str, Any]] = json.load(recording)
    graph = {
        urn: {record["parent"], *record["dependencies"], record["provider"]} & records.keys()
        for urn, record in records.items()
    }
    created: dict[str, pulumi.Resource] = {}
    for urn in TopologicalSorter(graph).static_order():
        record = records[urn]
        opts = pulumi.ResourceOptions(
            parent=created.get(record["parent"]),
            provider=created.get(record["provider"]),
            depends_on=[created[dependency] for dependency in record["dependencies"] if dependency in created],
        )
        created[urn] = register(record, opts)


main()
