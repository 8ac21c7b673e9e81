"""Plumbing of the end-to-end scenarios: the cluster they run on, the stacks they drive through the Pulumi
Automation API, and the checks they make with kubectl.

Each scenario's stack runs from a copy of this project in a temporary directory (its stack file written
there, never into the checkout), on a local file backend made for the run, with a fixed passphrase that
protects nothing but these throwaway stacks. The Automation API drives the `pulumi` CLI, which must be on
PATH (`pulumi.automation`'s LocalWorkspace runs it for every operation).
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import tools  # noqa: F401  (the package's working tree first on the import path, as in the suite)

# isort: split
from homelab_mesh import names
from homelab_mesh.settings.network import parse_address_range

ROOT = Path(__file__).resolve().parents[2]
STARTER = ROOT / "stacks" / "starter.yaml"
HOMELAB = ROOT / "Pulumi.homelab.yaml"
RENEWAL_DUE = ROOT / "tools" / "renewal_due.py"

CONTEXT_VARIABLE = "E2E_KUBE_CONTEXT"
# The adoption scenario's own cluster, at a Kubernetes version Istio 1.28 runs, and the istioctl 1.28.2 that
# installs the seed there (kept off PATH: the live check would run its `x precheck` on later versions too).
ADOPTION_CONTEXT_VARIABLE = "E2E_ADOPTION_KUBE_CONTEXT"
ISTIOCTL_VARIABLE = "E2E_ISTIOCTL"
POOL_VARIABLE = "E2E_ADDRESS_POOL"
PLATFORM_VARIABLE = "E2E_PLATFORM"
REPORT_VARIABLE = "E2E_REPORT_DIR"
DEFAULT_REPORT_DIR = ROOT / "e2e-report"
# Encrypts the secrets of stacks that live for one run in a temporary file backend; not a secret.
TEST_PASSPHRASE = "homelab-mesh-e2e-only"
PREFIX = f"{names.PROJECT}:"

NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
NAMESPACE_PATCH_TYPE = "kubernetes:core/v1:NamespacePatch"
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"


class E2eSetupError(RuntimeError):
    """The environment names a cluster but not everything a run needs."""


def skip_reason(environ: Mapping[str, str], which: Callable[[str], str | None] = shutil.which) -> str | None:
    """Why the end-to-end scenarios cannot run here, or None when they can."""
    if not environ.get(CONTEXT_VARIABLE):
        return (
            f"{CONTEXT_VARIABLE} is not set: the end-to-end scenarios run only against a cluster you name "
            "(docs/testing.md, End-to-end tests)"
        )
    if which("pulumi") is None:
        return "the pulumi CLI is not on PATH: the Automation API runs it for every stack operation"
    if which("kubectl") is None:
        return "kubectl is not on PATH: the program's scripts and the scenarios' checks call it"
    return None


def adoption_skip_reason(
    environ: Mapping[str, str],
    which: Callable[[str], str | None] = shutil.which,
    executable: Callable[[str], bool] = lambda path: os.access(path, os.X_OK),
) -> str | None:
    """Why the adoption scenario cannot run here, or None when it can. It needs a cluster of its own, at a
    Kubernetes version Istio 1.28 runs (the other scenarios' cluster may be newer), helm to render MetalLB
    as the homelab's Argo CD does, and istioctl 1.28.2 to install the seed."""
    if not environ.get(ADOPTION_CONTEXT_VARIABLE):
        return (
            f"{ADOPTION_CONTEXT_VARIABLE} is not set: the adoption scenario runs only against a cluster of its own "
            f"at Kubernetes {ADOPTION_KUBERNETES[0]} to {ADOPTION_KUBERNETES[1]} (docs/testing.md, End-to-end tests)"
        )
    for tool, why in (
        ("pulumi", "the Automation API runs it for every stack operation"),
        ("kubectl", "the program's scripts and the scenario's checks call it"),
        ("helm", "the seed's MetalLB is rendered with `helm template`"),
    ):
        if which(tool) is None:
            return f"{tool} is not on PATH: {why}"
    istioctl = environ.get(ISTIOCTL_VARIABLE, "")
    if not istioctl or not executable(istioctl):
        return f"{ISTIOCTL_VARIABLE} does not name an executable istioctl 1.28.2: it installs the seed's Istio"
    return None


@dataclass(frozen=True)
class Cluster:
    context: str
    address_pool: str
    platform: str = "none"


def cluster_from_environment(environ: Mapping[str, str]) -> Cluster:
    context = environ.get(CONTEXT_VARIABLE, "")
    pool = environ.get(POOL_VARIABLE, "").strip()
    if not context:
        raise E2eSetupError(f"{CONTEXT_VARIABLE} is not set")
    if not pool:
        raise E2eSetupError(
            f"{POOL_VARIABLE} is not set: give MetalLB a free range on the cluster's network, e.g. inside the "
            "Docker network `kind` for kind (docs/testing.md, End-to-end tests)"
        )
    try:
        parse_address_range(pool)
    except ValueError as error:
        raise E2eSetupError(f"{POOL_VARIABLE}: {error}") from None
    return Cluster(context, pool, environ.get(PLATFORM_VARIABLE, "") or "none")


def adoption_cluster_from_environment(environ: Mapping[str, str]) -> Cluster:
    """The adoption scenario's cluster: its own context, the pool and platform as for the others."""
    return cluster_from_environment({**environ, CONTEXT_VARIABLE: environ.get(ADOPTION_CONTEXT_VARIABLE, "")})


# Kubernetes minors the adoption scenario's cluster may run: Istio 1.28 (the seed) runs on 1.30 to 1.34, and 1.29
# (its first upgrade step) on 1.31 to 1.35 (docs/upgrading.md, Compatibility table;
# components/homelab_mesh/versions.py).
ADOPTION_KUBERNETES = ("1.31", "1.34")


def kubernetes_minor(version: Mapping[str, Any]) -> str:
    """`major.minor` of the server in `kubectl version -o json` (its `serverVersion.gitVersion`)."""
    git_version = str((version.get("serverVersion") or {}).get("gitVersion", ""))
    parts = git_version.lstrip("v").split(".")
    if len(parts) < 2 or not (parts[0].isdigit() and parts[1].isdigit()):
        raise AssertionError(f"kubectl version named no server version: {git_version!r}")
    return f"{int(parts[0])}.{int(parts[1])}"


def adoption_version_problem(minor: str) -> str | None:
    low, high = (tuple(int(part) for part in bound.split(".")) for bound in ADOPTION_KUBERNETES)
    if low <= tuple(int(part) for part in minor.split(".")) <= high:
        return None
    return (
        f"the adoption cluster runs Kubernetes {minor}; Istio 1.28 and 1.29 both run only on "
        f"{ADOPTION_KUBERNETES[0]} to {ADOPTION_KUBERNETES[1]}: name a cluster of such a version in "
        f"{ADOPTION_CONTEXT_VARIABLE}"
    )


def address_pool_in(subnets: Iterable[str], size: int = 51) -> str:
    """A MetalLB range at the top of the first IPv4 subnet of a Docker network (kind's `kind`): Docker hands
    the nodes their addresses from the bottom, so the top stays free. 172.18.0.0/16 gives
    172.18.255.200-172.18.255.250."""
    subnets = list(subnets)
    for subnet in subnets:
        network = ipaddress.ip_network(subnet.strip(), strict=False)
        if network.version != 4:
            continue
        if network.num_addresses < 4 * size:
            raise ValueError(f"{network} is too small for a pool of {size} addresses beside the nodes")
        last = network.broadcast_address - 5
        return f"{last - (size - 1)}-{last}"
    raise ValueError(f"no IPv4 subnet among {list(subnets)}")


def starter_config() -> dict[str, Any]:
    return dict(yaml.safe_load(STARTER.read_text())["config"])


def stack_config(cluster: Cluster, **overrides: Any) -> dict[str, Any]:
    """The starter stack's config for this cluster: its context, platform and one address pool (keeping
    the starter's pool name), then `overrides` by key without the project prefix (None removes a key)."""
    config = copy.deepcopy(starter_config())
    [starter_pool] = config[f"{PREFIX}addressPools"]
    config[f"{PREFIX}kubeContext"] = cluster.context
    config[f"{PREFIX}platform"] = cluster.platform
    config[f"{PREFIX}addressPools"] = [{"name": starter_pool["name"], "addresses": [cluster.address_pool]}]
    return with_overrides(config, overrides)


def homelab_config() -> dict[str, Any]:
    return dict(yaml.safe_load(HOMELAB.read_text())["config"])


# Settings of the homelab's stack that name what only the homelab has (Harbor's namespace, the other meshed
# namespaces' options, its LAN address) or that tlsMode existing refuses (the CA's validity).
NOT_ON_THE_SEED = ("externalNamespaces", "namespaceOptions", "caValidityDays", "gatewayAddress")


def adoption_config(cluster: Cluster, **overrides: Any) -> dict[str, Any]:
    """The homelab's stack (Pulumi.homelab.yaml: its Istio and Gateway API versions, its first hostname and
    route, its pool's name) on this cluster, as docs/adoption.md edits it for step 2:
    `adoptExisting`, and `tlsMode: existing` serving the Secret the classic gateway serves (no CA of the
    stack's own). The hostnames, namespaces and Services the homelab has beyond the first route are left out:
    the seed cluster has only that one. No `gatewayAddress` (the homelab's is its LAN's): each step gives
    one. Then `overrides` as in stack_config."""
    homelab = homelab_config()
    hostname = homelab[f"{PREFIX}gatewayHostnames"][0]
    [route] = [route for route in homelab[f"{PREFIX}routes"] if route["hostname"] == hostname]
    [pool] = homelab[f"{PREFIX}addressPools"]
    config = {key: value for key, value in homelab.items() if key.removeprefix(PREFIX) not in NOT_ON_THE_SEED}
    config.update(
        {
            f"{PREFIX}kubeContext": cluster.context,
            f"{PREFIX}platform": cluster.platform,
            f"{PREFIX}addressPools": [{"name": pool["name"], "addresses": [cluster.address_pool]}],
            f"{PREFIX}gatewayHostnames": [hostname],
            f"{PREFIX}routes": [route],
            f"{PREFIX}meshedNamespaces": [route["namespace"]],
            f"{PREFIX}adoptExisting": True,
            f"{PREFIX}tlsMode": "existing",
            f"{PREFIX}existingTlsSecrets": {hostname: f"{hostname.split('.')[0]}-tls"},
        }
    )
    return with_overrides(config, overrides)


def inspect(stack_file: Path) -> subprocess.CompletedProcess[str]:
    """The read-only inspection (docs/adoption.md) before a `pulumi up` (tools/inspect.py) for a scenario's stack file:
    exit 0 when `pulumi up` would go ahead, 1 when it would refuse."""
    return subprocess.run(
        [sys.executable, "-m", "tools.inspect", "--config", str(stack_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def with_overrides(config: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`config` with `overrides` by key without the project prefix; None removes a key."""
    for key, value in overrides.items():
        if value is None:
            config.pop(f"{PREFIX}{key}", None)
        else:
            config[f"{PREFIX}{key}"] = value
    return config


def renamed_pools(config: Mapping[str, Any], new_name: str) -> list[dict[str, Any]]:
    """The single address pool under a new name, with `renamedFrom` its old one (docs/operations.md, Changing address
    pools; components/settings/network.py)."""
    [pool] = config[f"{PREFIX}addressPools"]
    return [{**pool, "name": new_name, "renamedFrom": pool["name"]}]


def copy_project(destination: Path) -> Path:
    """The program, its scripts and Pulumi.yaml in `destination`, sharing this checkout's virtualenv; none of
    the checkout's own stack files (the scenarios write their own)."""

    def ignored(directory: str, entries: list[str]) -> set[str]:
        top = Path(directory) == ROOT
        return {
            entry
            for entry in entries
            if entry in {".git", "venv", "__pycache__", ".pytest_cache", "plan", DEFAULT_REPORT_DIR.name}
            or (top and entry.startswith("Pulumi.") and entry != "Pulumi.yaml")
        }

    shutil.copytree(ROOT, destination, ignore=ignored, symlinks=True)
    (destination / "venv").symlink_to(ROOT / "venv", target_is_directory=True)
    return destination


def write_stack_config(work_dir: Path, stack: str, config: Mapping[str, Any]) -> Path:
    """Replace the stack file's `config:`, keeping what `pulumi stack init` wrote (the encryption salt)."""
    path = work_dir / f"Pulumi.{stack}.yaml"
    document = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    document["config"] = dict(config)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def plain(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The Automation API's OutputMap (name -> OutputValue) as plain values, as `pulumi stack output --json`."""
    return {name: getattr(value, "value", value) for name, value in outputs.items()}


def expiry_of_the_last(outputs: Mapping[str, Any]) -> str:
    """A time at which every certificate of the stack is inside its renewal window: the latest end of
    validity in `certificateExpiry`."""
    expiry = outputs.get("certificateExpiry") or {}
    if not expiry:
        raise AssertionError("the stack exports no certificateExpiry: nothing to renew (tlsMode private-ca?)")
    return max(expiry.values())


def due_certificate_urns(outputs: Mapping[str, Any], now: str, tool: Path = RENEWAL_DUE) -> list[str]:
    """The URNs tools/renewal_due.py --urns prints for the certificates due at `now` (one a line)."""
    result = subprocess.run(
        [sys.executable, str(tool), "--urns", "--now", now, "-"],
        input=json.dumps(dict(outputs)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode not in (0, 3):
        raise AssertionError(f"{tool.name} --urns exited {result.returncode}: {result.stderr.strip()}")
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def kubectl(context: str, *arguments: str, timeout: float = 120) -> str:
    result = subprocess.run(
        ["kubectl", "--context", context, *arguments], capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(arguments)} failed: {result.stderr.strip()}")
    return result.stdout


def pods(context: str, namespace: str, selector: Mapping[str, str]) -> list[dict[str, Any]]:
    labels = ",".join(f"{key}={value}" for key, value in selector.items())
    return json.loads(kubectl(context, "get", "pods", "-n", namespace, "-l", labels, "-o", "json"))["items"]


def nodes_of(pod_list: Iterable[Mapping[str, Any]]) -> set[str]:
    return {
        pod["spec"]["nodeName"]
        for pod in pod_list
        if pod.get("spec", {}).get("nodeName") and pod.get("status", {}).get("phase") == "Running"
    }


def ready_on(pod_list: Iterable[Mapping[str, Any]]) -> list[str]:
    """The node of each Ready pod (one entry per pod)."""
    return sorted(
        pod["spec"]["nodeName"]
        for pod in pod_list
        if any(
            condition.get("type") == "Ready" and condition.get("status") == "True"
            for condition in pod.get("status", {}).get("conditions") or []
        )
        and pod.get("spec", {}).get("nodeName")
    )


def spread_problems(pod_list: Iterable[Mapping[str, Any]], replicas: int, avoid: str | None = None) -> list[str]:
    """What keeps `replicas` pods from being Ready: on as many different nodes, or, with a node to `avoid`
    (cordoned for a drain), anywhere but there. Empty when nothing does."""
    nodes = ready_on(pod_list)
    if len(nodes) != replicas:
        return [f"{len(nodes)} of {replicas} Ready, on {nodes}"]
    if avoid is None and len(set(nodes)) != replicas:
        return [f"the {replicas} Ready replicas share nodes: {nodes}"]
    if avoid is not None and avoid in nodes:
        return [f"a Ready replica is still on {avoid}"]
    return []


def node_to_drain(gateway_pods: Iterable[Mapping[str, Any]], backend_pods: Iterable[Mapping[str, Any]]) -> str:
    """A node that runs a gateway replica and no pod of the backend: draining it measures the front door,
    not a single-replica backend going away."""
    gateway_nodes = nodes_of(gateway_pods)
    if len(gateway_nodes) < 2:
        raise AssertionError(f"the gateway replicas run on {sorted(gateway_nodes)}: expected two nodes")
    candidates = sorted(gateway_nodes - nodes_of(backend_pods))
    if not candidates:
        raise AssertionError(f"every node with a gateway replica ({sorted(gateway_nodes)}) also runs the backend")
    return candidates[0]


@dataclass(frozen=True)
class StateResource:
    urn: str
    type: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    retain_on_delete: bool


def state_resources(deployment: Mapping[str, Any]) -> list[StateResource]:
    """The resources of an exported stack (`pulumi stack export`, apitype.ResourceV3 in pulumi/pulumi
    sdk/go/common/apitype/core.go: `retainOnDelete` is left out when false)."""
    return [
        StateResource(
            resource["urn"],
            resource["type"],
            resource.get("inputs") or {},
            resource.get("outputs") or {},
            bool(resource.get("retainOnDelete", False)),
        )
        for resource in deployment.get("resources") or []
    ]


def _metadata_name(resource: StateResource) -> str | None:
    for properties in (resource.outputs, resource.inputs):
        name = (properties.get("metadata") or {}).get("name")
        if isinstance(name, str) and name:
            return name
    return None


def _release(resource: StateResource) -> tuple[str, str] | None:
    status = resource.outputs.get("status") or {}
    name = status.get("name") or resource.outputs.get("name") or resource.inputs.get("name")
    namespace = status.get("namespace") or resource.outputs.get("namespace") or resource.inputs.get("namespace")
    return (str(namespace), str(name)) if name and namespace else None


def leftovers(resources: Iterable[StateResource], context: str, get: Callable[..., str] = kubectl) -> list[str]:
    """What the stack made and `pulumi destroy` should have removed but the cluster still has: namespaces
    it created (not retained by design), Helm releases (their `owner=helm` Secrets), and retained
    namespaces still enrolled in the mesh."""
    found = []
    for resource in resources:
        if resource.type in (NAMESPACE_TYPE, NAMESPACE_PATCH_TYPE):
            name = _metadata_name(resource)
            if name is None:
                continue
            live = get(context, "get", "namespace", name, "--ignore-not-found", "-o", "json").strip()
            if not live:
                continue
            if resource.type == NAMESPACE_TYPE and not resource.retain_on_delete:
                found.append(f"namespace {name} (made by {resource.urn})")
            elif names.DATAPLANE_MODE_LABEL in (json.loads(live)["metadata"].get("labels") or {}):
                found.append(f"namespace {name} still labelled {names.DATAPLANE_MODE_LABEL}")
        elif resource.type == RELEASE_TYPE and (release := _release(resource)):
            namespace, name = release
            selector = f"owner=helm,name={name}"
            if get(context, "get", "secret", "-n", namespace, "-l", selector, "-o", "name").strip():
                found.append(f"Helm release {namespace}/{name}")
    return found


def retained_namespaces(resources: Iterable[StateResource]) -> list[str]:
    return sorted(
        name
        for resource in resources
        if resource.type == NAMESPACE_TYPE and resource.retain_on_delete and (name := _metadata_name(resource))
    )


def wait_until(check: Callable[[], list[str]], timeout: float, interval: float = 5.0) -> list[str]:
    """Calls `check` until it returns nothing or `timeout` seconds have passed; returns its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = check()
        if not remaining or time.monotonic() >= deadline:
            return remaining
        time.sleep(interval)


def workspace_environment(backend_dir: Path) -> dict[str, str]:
    """What every CLI call of a scenario runs with: the run's own file backend and passphrase."""
    return {
        "PULUMI_BACKEND_URL": backend_dir.resolve().as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": TEST_PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    }


class E2eStack:
    """One scenario's stack: a LocalWorkspace on the project copy, driven through `pulumi.automation`."""

    def __init__(self, name: str, work_dir: Path, backend_dir: Path) -> None:
        from pulumi import automation

        self.name = name
        self.work_dir = work_dir
        self.environment = workspace_environment(backend_dir)
        self.stack = automation.create_or_select_stack(
            name,
            work_dir=str(work_dir),
            opts=automation.LocalWorkspaceOptions(env_vars=self.environment, secrets_provider="passphrase"),
        )

    @property
    def stack_file(self) -> Path:
        return self.work_dir / f"Pulumi.{self.name}.yaml"

    def configure(self, config: Mapping[str, Any]) -> None:
        write_stack_config(self.work_dir, self.name, config)

    def config(self) -> dict[str, Any]:
        return dict(yaml.safe_load((self.work_dir / f"Pulumi.{self.name}.yaml").read_text())["config"])

    def up(self, **options: Any) -> dict[str, Any]:
        result = self.stack.up(on_output=print, color="never", **options)
        return plain(result.outputs)

    def preview(self, **options: Any) -> dict[str, int]:
        result = self.stack.preview(on_output=print, color="never", **options)
        return {str(getattr(op, "value", op)): count for op, count in result.change_summary.items()}

    def outputs(self) -> dict[str, Any]:
        return plain(self.stack.outputs())

    def resources(self) -> list[StateResource]:
        return state_resources(self.stack.export_stack().deployment or {})

    def destroy_everything(self) -> None:
        """docs/operations.md, Remove everything: unprotect (istio-base and the Gateway API CRDs are protected), then
        destroy. `pulumi state unprotect --all --yes` (pulumi/pulumi pkg/cmd/pulumi/state/state_unprotect.go)
        has no Automation API method, so it runs as the CLI with the workspace's environment."""
        subprocess.run(
            ["pulumi", "state", "unprotect", "--all", "--yes", "--stack", self.name],
            cwd=self.work_dir,
            env={**os.environ, **self.environment},
            check=True,
            timeout=300,
        )
        self.stack.destroy(on_output=print, color="never")


def main(argv: list[str]) -> int:
    """`python -m tests.e2e.harness address-pool SUBNET...`: prints the pool for E2E_ADDRESS_POOL."""
    if len(argv) < 2 or argv[0] != "address-pool":
        print("usage: python -m tests.e2e.harness address-pool SUBNET...", file=sys.stderr)
        return 2
    try:
        print(address_pool_in(argv[1:]))
    except ValueError as error:
        print(f"address-pool: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
