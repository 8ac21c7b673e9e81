"""What the offline plan writes and prints: manifests, Helm releases and the stack's summary."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml
from pulumi.runtime import rpc

from tools.mock_engine import Evaluation, Registration, is_secret, unwrap
from tools.plan_graph import ResourceGraph

SECRET = "<secret>"
COMPUTED = "<computed>"
HELM_TYPE_PREFIX = "kubernetes:helm.sh/"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


# --- values ---------------------------------------------------------------------------------------------------


def masked(value: Any) -> Any:
    """The shape of a secret value with every leaf replaced, so the plan shows which keys it sets."""
    if isinstance(value, dict):
        return {key: masked(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return SECRET


def plain(value: Any) -> Any:
    """An engine input as plain YAML data: secrets masked, unknowns marked, keys sorted, whole numbers as ints."""
    if is_secret(value):
        return masked(unwrap(value))
    if isinstance(value, dict):
        return {key: plain(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if value == rpc.UNKNOWN:
        return COMPUTED
    # The engine carries every number as a double: 900.0 is the 900 the program wrote.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --- objects and releases -----------------------------------------------------------------------------------------


def is_kubernetes_object(registration: Registration) -> bool:
    return (
        registration.custom
        and registration.type.startswith("kubernetes:")
        and not registration.type.startswith(HELM_TYPE_PREFIX)
    )


def kubernetes_object(registration: Registration) -> dict[str, Any]:
    """The manifest the provider applies: apiVersion, kind, metadata first; no status."""
    fields = {key: value for key, value in registration.inputs.items() if key != "status" and value is not None}
    metadata = plain(fields.pop("metadata", {}))
    leading = {key: metadata.pop(key) for key in ("name", "namespace") if key in metadata}
    manifest = {"apiVersion": plain(fields.pop("apiVersion")), "kind": plain(fields.pop("kind"))}
    return {**manifest, "metadata": {**leading, **metadata}, **plain(fields)}


def helm_release(registration: Registration) -> dict[str, Any]:
    inputs = registration.inputs
    release = {
        "name": inputs.get("name", registration.name),
        "chart": inputs.get("chart"),
        "version": inputs.get("version"),
        "repository": (inputs.get("repositoryOpts") or {}).get("repo"),
        "namespace": inputs.get("namespace"),
        "values": inputs.get("values") or {},
    }
    return {key: plain(value) for key, value in release.items()}


def _in_wave_order(graph: ResourceGraph, registrations: Iterable[Registration]) -> list[Registration]:
    return sorted(registrations, key=lambda item: (graph.waves[item.urn], item.type, item.name))


def render_objects(evaluation: Evaluation, graph: ResourceGraph) -> tuple[str, int]:
    objects = _in_wave_order(graph, filter(is_kubernetes_object, evaluation.registrations.values()))
    header = (
        f"# Kubernetes objects of stack {evaluation.stack}, in deployment order (offline plan, tools/plan.py).\n"
        "# Not included: what the Helm releases (releases.yaml) and the Gateway API CRD manifest create.\n"
    )
    documents = [
        f"--- # {registration.name} (wave {graph.waves[registration.urn]})\n"
        + yaml.safe_dump(kubernetes_object(registration), sort_keys=False)
        for registration in objects
    ]
    return header + "".join(documents), len(objects)


def render_releases(evaluation: Evaluation, graph: ResourceGraph) -> tuple[str, int]:
    releases = _in_wave_order(graph, evaluation.of_type(HELM_RELEASE))
    header = f"# Helm releases of stack {evaluation.stack}, in deployment order (offline plan, tools/plan.py).\n"
    body = [helm_release(registration) | {"wave": graph.waves[registration.urn]} for registration in releases]
    return header + yaml.safe_dump(body, sort_keys=False), len(releases)


# --- the summary printed after the files ----------------------------------------------------------------------

GATEWAY_KIND = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
FIXED_ADDRESS_ANNOTATION = "metallb.io/loadBalancerIPs"
METALLB_RELEASE = "metallb"
# Outputs only the deploy itself can produce; the plan says where they come from instead of a mock value.
MADE_AT_DEPLOY = {"caCertificatePem": "made by `pulumi up`; read it with `pulumi stack output caCertificatePem`"}


def gateway_address(evaluation: Evaluation) -> str:
    """The ingress Gateway's address as far as the config decides it."""
    for gateway in evaluation.of_type(GATEWAY_KIND):
        infrastructure = (gateway.inputs.get("spec") or {}).get("infrastructure") or {}
        fixed = (infrastructure.get("annotations") or {}).get(FIXED_ADDRESS_ANNOTATION)
        if fixed:
            return f"{fixed} (gatewayAddress)"
    if any(release.inputs.get("name") == METALLB_RELEASE for release in evaluation.of_type(HELM_RELEASE)):
        return "an address from addressPools, given by MetalLB at deploy time"
    return "given by the cluster's LoadBalancer implementation at deploy time"


def known_outputs(evaluation: Evaluation) -> list[tuple[str, str]]:
    """Each stack output with the value the config determines, or where the deploy gets it from."""
    shown: list[tuple[str, str]] = []
    for name, value in sorted(evaluation.outputs.items()):
        if name == "gatewayAddress":
            text = gateway_address(evaluation)
        elif name in MADE_AT_DEPLOY:
            text = MADE_AT_DEPLOY[name]
        elif name in evaluation.secret_outputs:
            text = SECRET
        elif isinstance(value, list):
            text = ", ".join(str(item) for item in value) or "(none)"
        else:
            text = str(value)
        shown.append((name, text))
    return shown


def kind_counts(graph: ResourceGraph) -> list[tuple[str, int]]:
    """Deployed resources per kind, most numerous first."""
    counts: dict[str, int] = {}
    for label in graph.labels.values():
        kind = label.split(" ", 1)[0]
        counts[kind] = counts.get(kind, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def wave_lines(graph: ResourceGraph) -> list[str]:
    """One line per deployment wave: its number, size and members."""
    lines = []
    for wave in sorted(set(graph.waves.values())):
        members = sorted(graph.labels[node] for node in graph.waves if graph.waves[node] == wave)
        lines.append(f"wave {wave} ({len(members)}): {', '.join(members)}")
    return lines


def render_summary(evaluation: Evaluation, graph: ResourceGraph) -> str:
    width = max((len(name) for name in evaluation.outputs), default=0)
    lines = [f"Stack {evaluation.stack}: outputs after `pulumi up`"]
    lines.extend(f"  {name:<{width}}  {text}" for name, text in known_outputs(evaluation))
    counts = ", ".join(f"{count} {kind}" for kind, count in kind_counts(graph))
    lines.append(f"{len(graph.labels)} resources to deploy: {counts}")
    lines.append("Deployment waves (each starts once the waves before it exist)")
    lines.extend(f"  {line}" for line in wave_lines(graph))
    return "\n".join(lines) + "\n"
